"""The shapes of named areas: read from an uploaded GeoJSON polygon or drawn from a centre and radius,
checked as strictly as intake checks a CAP polygon (never repaired), placed in our counties, and
written back as the CAP polygons an alert naming the area carries.

Pure: no Flask, no database. Refusals carry a stable code (the registry words it) and its details.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import shapely

from ..cap.message import Circle
from .areas import NAMED_AREA, circle_ring, geocode_system, region_map
from .county_map import SIMPLIFY_DEGREES, county_map

CODE = re.compile(r"[a-z][a-z0-9_-]{1,39}", re.ASCII)  # what agencies send: hailuogou, daocheng-yading
MAX_RADIUS_KM = 100  # a place, not a region: wider than this is a county's or a prefecture's warning
COORDINATE_DECIMALS = 6  # about 0.1 m: a drawn circle's points are stored no finer
_WRAPPERS = ("FeatureCollection", "Feature")
Ring = list[tuple[float, float]]  # (lon, lat), as GeoJSON writes them


class ShapeRefused(ValueError):
    """A shape the admin must correct; `code` says why, `details` fill the registry's wording."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


def is_named_area(value_name: str) -> bool:
    """Whether a CAP geocode names a named area by its code."""
    return geocode_system(value_name) == NAMED_AREA


def named_area_codes(geocodes: Iterable[Sequence[str]]) -> list[str]:
    """The codes of the named areas among (valueName, value) geocodes, once each, in order."""
    return list(dict.fromkeys(value.strip() for name, value in geocodes if is_named_area(name)))


def geometry_from_geojson(text: str, max_polygon_points: int, max_points: int) -> dict[str, Any]:
    """The GeoJSON Polygon or MultiPolygon in `text` (bare, or a Feature or FeatureCollection of one), as
    a GeoJSON geometry of plain [lon, lat] positions. Points are counted before any is read."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise ShapeRefused("geojson_malformed") from None
    geometry = _unwrapped(document)
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(coordinates, list) or not coordinates:
        raise ShapeRefused("geojson_not_polygon", found=kind if isinstance(kind, str) else _json_kind(geometry))
    polygons = coordinates if kind == "MultiPolygon" else [coordinates]
    rings = [_exterior(polygon) for polygon in polygons]
    for ring in rings:
        _check_count(len(ring), max_polygon_points)
    _check_count(sum(map(len, rings)), max_points)
    return {"type": "MultiPolygon" if len(rings) > 1 else "Polygon",
            "coordinates": [[_positions(ring)] for ring in rings] if len(rings) > 1 else [_positions(rings[0])]}


def geometry_from_circle(lat: float, lon: float, radius_km: float) -> dict[str, Any]:
    """A circle as a GeoJSON polygon (64 points on the sphere, as intake draws a CAP circle)."""
    for value, limit, code in ((lat, 90, "latitude_out_of_range"), (lon, 180, "longitude_out_of_range")):
        if not (math.isfinite(value) and -limit <= value <= limit):
            raise ShapeRefused(code, value=value)
    if not (math.isfinite(radius_km) and 0 < radius_km <= MAX_RADIUS_KM):
        raise ShapeRefused("radius_out_of_range", max=MAX_RADIUS_KM, value=radius_km)
    ring = np.round(circle_ring(Circle(lat, lon, radius_km)), COORDINATE_DECIMALS)
    ring[-1] = ring[0]  # closed exactly, whatever the rounding did
    return {"type": "Polygon", "coordinates": [ring.tolist()]}


def counties_touched(geometry: dict[str, Any]) -> list[str]:
    """The counties the (valid) shape shares an area with; refused when it is not a valid simple polygon
    or lies outside Garzê and Ngawa."""
    shape = shapely.multipolygons([shapely.polygons(ring) for ring in _rings(geometry)])
    reason = shapely.is_valid_reason(shape)
    if reason != "Valid Geometry":
        raise ShapeRefused("polygon_invalid", reason=reason)
    counties = region_map().counties_overlapping(shape)
    if not counties:
        raise ShapeRefused("shape_outside")
    return sorted(counties)


def geometry_text(geometry: dict[str, Any]) -> str:
    """The geometry as stored: compact GeoJSON."""
    return json.dumps(geometry, separators=(",", ":"))


def cap_polygons(geometry_geojson: str) -> list[list[tuple[float, float]]]:
    """The stored shape as CAP polygons: each ring as (lat, lon) points, closed."""
    return [[(lat, lon) for lon, lat in ring] for ring in _rings(json.loads(geometry_geojson))]


def map_path(geometry_geojson: str) -> str:
    """The stored shape as SVG path data on the console's county map, simplified to about 100 m (a shape
    of thousands of points must not weigh on a county's slow link)."""
    shape = shapely.from_geojson(geometry_geojson).simplify(SIMPLIFY_DEGREES / 10)
    return county_map().projection.path(shape)


def _rings(geometry: dict[str, Any]) -> Iterator[Ring]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return (polygon[0] for polygon in polygons)


def _unwrapped(document: Any) -> Any:
    """A Feature's geometry, or a FeatureCollection's single feature's."""
    while isinstance(document, dict) and document.get("type") in _WRAPPERS:
        if document["type"] == "Feature":
            document = document.get("geometry")
            continue
        features = document.get("features")
        if not isinstance(features, list) or len(features) != 1:
            raise ShapeRefused("geojson_features", count=len(features) if isinstance(features, list) else 0)
        document = features[0]
    return document


def _exterior(polygon: Any) -> list:
    """A polygon's one ring: CAP polygons have no holes, and leaving a hole out would warn where it was not meant."""
    if not isinstance(polygon, list) or not polygon or not isinstance(polygon[0], list):
        raise ShapeRefused("geojson_not_polygon", found=_json_kind(polygon))
    if len(polygon) > 1:
        raise ShapeRefused("polygon_holes", count=len(polygon) - 1)
    return polygon[0]


def _check_count(count: int, allowed: int) -> None:
    if count > allowed:
        raise ShapeRefused("too_many_points", allowed=allowed, count=count)


def _positions(ring: list) -> Ring:
    """[lon, lat] numbers in range (an altitude is dropped), at least 4 and closed."""
    points: Ring = []
    for index, position in enumerate(ring):
        numbers = position[:2] if isinstance(position, list) and len(position) >= 2 else []
        if len(numbers) != 2 or not all(_finite(number) for number in numbers) \
                or not (-180 <= numbers[0] <= 180 and -90 <= numbers[1] <= 90):
            raise ShapeRefused("position_malformed", index=index)
        points.append((float(numbers[0]), float(numbers[1])))
    if len(points) < 4 or points[0] != points[-1]:
        raise ShapeRefused("ring_not_closed", count=len(points))
    return points


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
