"""The 31 counties as an SVG map for the console, drawn from the bundled boundaries: the whole region
(the compose page's picker) or framed on one alert's area (its page: what each CBC gets, `framed_map`).

Offline by design: no tile server, nothing fetched. The outlines are simplified
(about 1 km on the whole region, about a pixel on a framed map) and projected equirectangularly
around the middle latitude, which at this size is indistinguishable from a proper projection.
Pure: no Flask.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from ..reference_data import boundaries

SIMPLIFY_DEGREES = 0.01
WIDTH = 640
FRAME_MARGIN = 0.05  # of the framed area's larger side, on each side
# A framed map is no taller than wide nor flatter than 2:1: a long strip of an area still gives a page-sized map.
MIN_ASPECT, MAX_ASPECT = 0.5, 1.0


@dataclass(frozen=True)
class CountyShape:
    code: str
    path: str          # SVG path data in the map's coordinates
    label_x: float     # a point inside the county, for its label
    label_y: float


@dataclass(frozen=True)
class Projection:
    """Equirectangular around the region's middle latitude: lon, lat to the map's x, y (north up)."""

    min_lon: float
    max_lat: float
    x_scale: float
    scale: float

    @classmethod
    def framing(cls, min_lon: float, min_lat: float, max_lon: float, max_lat: float, width: int) -> Projection:
        """The projection that draws these bounds `width` wide, north up."""
        x_scale = math.cos(math.radians((min_lat + max_lat) / 2))
        return cls(min_lon, max_lat, x_scale, width / ((max_lon - min_lon) * x_scale))

    def point(self, lon: float, lat: float) -> str:
        return f"{(lon - self.min_lon) * self.x_scale * self.scale:.1f},{(self.max_lat - lat) * self.scale:.1f}"

    def points(self, polygon: Polygon) -> str:
        """An SVG <polygon>'s points: the exterior ring, every vertex as given (the closing one too)."""
        return " ".join(self.point(lon, lat) for lon, lat in polygon.exterior.coords)

    def path(self, geometry: shapely.Geometry) -> str:
        """SVG path data of a polygon or multipolygon, holes included."""
        polygons = getattr(geometry, "geoms", [geometry])
        return "".join("M" + "L".join(self.point(lon, lat) for lon, lat in ring.coords) + "Z"
                       for polygon in polygons for ring in (polygon.exterior, *polygon.interiors))


@dataclass(frozen=True)
class CountyMap:
    width: int
    height: int
    counties: tuple[CountyShape, ...]
    projection: Projection  # to draw other shapes (named areas) on the same map


@lru_cache(maxsize=1)
def county_map() -> CountyMap:
    geometries = {code: shape(geometry).simplify(SIMPLIFY_DEGREES) for code, geometry in
                  boundaries("counties.geojson").items()}
    min_lon, min_lat, max_lon, max_lat = shapely.union_all(list(geometries.values())).bounds
    projection = Projection.framing(min_lon, min_lat, max_lon, max_lat, WIDTH)
    height = round((max_lat - min_lat) * projection.scale)
    return CountyMap(WIDTH, height, _drawn(geometries, projection), projection)


@dataclass(frozen=True)
class FramedMap:
    """The counties around an area, its own drawn targeted; `projection` draws the shapes laid over them."""

    width: int
    height: int
    counties: tuple[CountyShape, ...]  # every county in the frame, clipped to it
    targeted: frozenset[str]
    projection: Projection

    def path(self, geometry: BaseGeometry) -> str:
        """SVG path data of a shape drawn over the counties, simplified to about a pixel (a shape of thousands
        of points must not weigh on a county's slow link)."""
        return self.projection.path(geometry.simplify(1 / self.projection.scale))


def framed_map(county_codes: Sequence[str], shapes: Iterable[BaseGeometry] = (), width: int = WIDTH) -> FramedMap:
    """A map framed on the counties `county_codes` and the `shapes` to be laid over them (all inside it),
    with every county that reaches into the frame: clipped to it and simplified to about a pixel, so its
    size follows the picture, not the boundaries' detail."""
    geometries = {code: shape(geometry) for code, geometry in boundaries("counties.geojson").items()}
    min_lon, min_lat, max_lon, max_lat = shapely.union_all(
        [geometries[code] for code in county_codes] + list(shapes)).bounds
    margin = max(max_lon - min_lon, max_lat - min_lat) * FRAME_MARGIN
    min_lon, min_lat, max_lon, max_lat = min_lon - margin, min_lat - margin, max_lon + margin, max_lat + margin
    x_scale = math.cos(math.radians((min_lat + max_lat) / 2))
    aspect = (max_lat - min_lat) / ((max_lon - min_lon) * x_scale)
    if aspect > MAX_ASPECT:  # widen, around the middle
        grow = ((max_lat - min_lat) / MAX_ASPECT / x_scale - (max_lon - min_lon)) / 2
        min_lon, max_lon = min_lon - grow, max_lon + grow
    elif aspect < MIN_ASPECT:  # heighten, around the middle
        grow = ((max_lon - min_lon) * x_scale * MIN_ASPECT - (max_lat - min_lat)) / 2
        min_lat, max_lat = min_lat - grow, max_lat + grow
    projection = Projection.framing(min_lon, min_lat, max_lon, max_lat, width)
    height = round((max_lat - min_lat) * projection.scale)
    pixel = 1 / projection.scale
    # Clipped a few pixels outside the picture: the cut edges are not drawn as borders.
    frame = shapely.box(min_lon, min_lat, max_lon, max_lat).buffer(3 * pixel, join_style="mitre")
    clipped = {code: _polygonal(geometry.intersection(frame).simplify(pixel)) for code, geometry in geometries.items()
               if geometry.intersects(frame)}
    shown = {code: geometry for code, geometry in clipped.items() if geometry.area > 0}
    return FramedMap(width, height, _drawn(shown, projection), frozenset(county_codes), projection)


def _polygonal(geometry: BaseGeometry) -> MultiPolygon:
    """The areas of a clipped shape, without the lines or points where it only touched the frame."""
    return MultiPolygon([part for part in shapely.get_parts(geometry) if isinstance(part, Polygon)])


def _drawn(geometries: dict[str, BaseGeometry], projection: Projection) -> tuple[CountyShape, ...]:
    """Each county's path and a point inside it for its label, by code."""
    shapes = []
    for code, geometry in sorted(geometries.items()):
        inside = geometry.representative_point()
        x, y = (float(value) for value in projection.point(inside.x, inside.y).split(","))
        shapes.append(CountyShape(code, projection.path(geometry), x, y))
    return tuple(shapes)
