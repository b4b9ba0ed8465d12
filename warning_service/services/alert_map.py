"""The map on an alert's page: the counties it targets and, over them, the exact polygons each operator's
CBC gets (issue 16: "preview ... the polygons on the map").

The polygons are the cell broadcast channel's own (`alert_version(...).polygons` at the CBC's vertex limit,
the cover the CAP <area> carries), never drawn again another way; with them the named areas the alert names
and the circles it also sends as CAP <circle>. No Flask; the session is only read.
"""
from __future__ import annotations

from dataclasses import dataclass

import shapely
from sqlalchemy.orm import Session

from ..cap.message import Circle
from ..channels.cell_broadcast.cover import cap_polygon, vertex_count
from ..channels.cell_broadcast.outbound import alert_version
from ..geography.areas import circle_ring
from ..geography.county_map import FramedMap, framed_map
from ..models import Alert, NamedArea
from .named_areas import named_in
from .preview import cbc_operators


@dataclass(frozen=True)
class DrawnPolygon:
    points: str  # the SVG <polygon> points on the map, one per CAP vertex (the closing one too)
    cap: str  # the CAP <polygon> text the CBC gets


@dataclass(frozen=True)
class OperatorArea:
    """What one operator's CBC gets as its <area>'s polygons."""

    code: str
    name: str
    max_vertices: int
    polygons: tuple[DrawnPolygon, ...]
    vertices: int  # as CAP counts them, over all its polygons


@dataclass(frozen=True)
class DrawnNamedArea:
    area: NamedArea  # the page names it in the reader's language
    path: str


@dataclass(frozen=True)
class AlertMap:
    map: FramedMap
    warned: str  # SVG path of the warned area: what every operator's polygons cover
    operators: tuple[OperatorArea, ...]
    named_areas: tuple[DrawnNamedArea, ...]
    circles: tuple[str, ...]  # SVG paths of the circles the CBCs also get as CAP <circle>


def alert_map(session: Session, alert: Alert, sender: str) -> AlertMap:
    """The alert's map, framed on its counties and everything drawn over them. `sender`: the service's CAP
    sender (CONSOLE_CAP_SENDER), under which the channel caches the alert's Version."""
    version = alert_version(session, alert, sender)
    covers = [(operator, version.polygons(operator.max_vertices)) for operator in cbc_operators(session, alert)]
    named = named_in(session, alert.area or {})
    named_shapes = [shapely.from_geojson(area.geometry_geojson) for area in named]
    circles = [shapely.polygons(circle_ring(Circle(lat, lon, radius_km))) for lat, lon, radius_km in version.circles]
    drawn = framed_map(alert.county_codes, [*version.shapes, *(polygon for _, polygons in covers for polygon in polygons)])
    operators = tuple(OperatorArea(
        code=operator.code, name=operator.name, max_vertices=operator.max_vertices, vertices=vertex_count(polygons),
        polygons=tuple(DrawnPolygon(drawn.projection.points(polygon), cap_polygon(polygon)) for polygon in polygons),
    ) for operator, polygons in covers)
    return AlertMap(
        map=drawn, warned=drawn.path(shapely.union_all(list(version.shapes))), operators=operators,
        named_areas=tuple(DrawnNamedArea(area, drawn.path(shape)) for area, shape in zip(named, named_shapes)),
        circles=tuple(drawn.path(circle) for circle in circles),
    )
