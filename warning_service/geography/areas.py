"""Which of our 31 counties (and which townships) an alert's CAP <area> blocks reach.

Pure: reads the shipped reference data once, no Flask, no database. Geocodes are
GB/T 2260 administrative codes; polygons and circles are intersected with the
county boundaries of data/regions/counties.geojson.
"""
from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

import numpy as np
import shapely
from shapely.geometry import shape

from ..cap.errors import FieldError
from ..cap.message import AreaBlock, Circle
from ..reference_data import boundaries

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
MAX_RADIUS_KM = 1000.0
CIRCLE_VERTICES = 64
# valueName spellings of GB/T 2260 codes, upper-cased and without spaces ("GB/T 2260", "adcode", ...).
ADMIN_CODE_SYSTEMS = frozenset({"GB/T2260", "GBT2260", "ADCODE"})
# The valueName of a named area's code: intake puts the area's registered polygon beside it (named_areas.py).
NAMED_AREA = "NAMED_AREA"
# Codes retired by the 2015 upgrades (康定县 -> 康定市, 马尔康县 -> 马尔康市) still turn up in
# older senders' configurations; they name the same territory as their successors.
RETIRED_CODES = {"513321": "513301", "513229": "513201"}
CHINA_ADCODE = "100000"  # AMap's adcode for the whole country
INTERIORS_INTERSECT = "T********"  # DE-9IM: for two polygons, an overlap of positive area
_CODE = re.compile(r"[0-9]{6}|[0-9]{12}")
_GEOS_REASON = re.compile(r"(?P<what>.+)\[(?P<x>\S+) (?P<y>\S+)\]")
Source = TypeVar("Source")


@dataclass
class AreaResolution:
    county_codes: list[str] = field(default_factory=list)
    township_codes: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True)
class RegionMap:
    """The 31 county boundaries as prepared shapely geometries, indexed by an STRtree.

    GEOS prepared geometries keep mutable caches and shapely releases the GIL, so two
    threads using them at once crash the process (seen with 8 threads on GEOS 3.14):
    every predicate on `geometries` holds `lock`. The STRtree alone is safe to share.
    """

    codes: tuple[str, ...]  # aligned with geometries
    geometries: tuple[shapely.Geometry, ...]  # x = lon, y = lat
    tree: shapely.STRtree
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def counties_overlapping(self, geometry: shapely.Geometry) -> list[str]:
        """Counties sharing a positive area with a (valid) polygon; a shared border alone does not count."""
        candidates = self.tree.query(geometry)
        with self.lock:
            return [
                self.codes[index]
                for index in candidates
                if shapely.relate_pattern(self.geometries[index], geometry, INTERIORS_INTERSECT)
            ]

    def county_at(self, lat: float, lon: float) -> str | None:
        """The county containing the point; on a border shared by two, the lower code."""
        point = shapely.Point(lon, lat)
        candidates = self.tree.query(point)
        with self.lock:
            found = [self.codes[index] for index in candidates if self.geometries[index].intersects(point)]
        return min(found, default=None)

    def counties_for_code(self, code: str) -> list[str]:
        """Our counties inside a 6-digit code: a county, a prefecture (XXXX00), a province (XX0000) or China."""
        code = RETIRED_CODES.get(code, code)
        if code == CHINA_ADCODE:
            return list(self.codes)
        if code.endswith("0000"):
            prefix = code[:2]
        elif code.endswith("00"):
            prefix = code[:4]
        else:
            prefix = code
        return [county for county in self.codes if county.startswith(prefix)]

    def county_of_township(self, code: str) -> str | None:
        county = RETIRED_CODES.get(code[:6], code[:6])
        return county if county in self.codes else None

    def is_in_our_prefectures(self, code: str) -> bool:
        """Whether a code is numbered inside 5132xx/5133xx, even if it names no county we know."""
        return any(code[:4] == county[:4] for county in self.codes)


@lru_cache(maxsize=1)
def region_map() -> RegionMap:
    shapes = boundaries("counties.geojson")
    codes = tuple(sorted(shapes))
    geometries = tuple(shape(shapes[code]) for code in codes)
    shapely.prepare(geometries)
    return RegionMap(codes, geometries, shapely.STRtree(geometries))


def county_of_point(lat: float, lon: float) -> str | None:
    """Which of our 31 counties contains the point, or None."""
    return region_map().county_at(lat, lon)


def resolve_areas(areas: list[AreaBlock], location: str = "area") -> AreaResolution:
    """Resolve every polygon, circle and geocode of the areas; locations read f"{location}[i].polygon[j]"."""
    region = region_map()
    parts: list[AreaResolution] = []
    for area_index, area in enumerate(areas):
        where = f"{location}[{area_index}]"
        for index, points in enumerate(area.polygons):
            parts.append(_shape_part(_polygon, points, f"{where}.polygon[{index}]", region))
        for index, circle in enumerate(area.circles):
            parts.append(_shape_part(_circle, circle, f"{where}.circle[{index}]", region))
        for index, (name, value) in enumerate(area.geocodes):
            parts.append(_geocode_part(name, value, f"{where}.geocode[{index}]", region))
        if not (area.polygons or area.circles or area.geocodes):
            parts.append(AreaResolution(unresolved=[f"{where}: no polygon, circle or geocode (areaDesc {area.description!r})"]))
    return _merge(parts)


def _merge(parts: list[AreaResolution]) -> AreaResolution:
    return AreaResolution(
        county_codes=sorted({code for part in parts for code in part.county_codes}),
        township_codes=sorted({code for part in parts for code in part.township_codes}),
        unresolved=[note for part in parts for note in part.unresolved],
        outside=[note for part in parts for note in part.outside],
        errors=[error for part in parts for error in part.errors],
    )


class _Invalid(ValueError):
    """A polygon or circle the sender must correct; the message says why."""


def _shape_part(
    build: Callable[[Source], shapely.Polygon | shapely.Point], source: Source, where: str, region: RegionMap,
) -> AreaResolution:
    """`build` turns the CAP polygon or circle into a shapely polygon, or raises _Invalid."""
    try:
        geometry = build(source)
    except _Invalid as problem:
        return AreaResolution(errors=[FieldError(where, str(problem))])
    if isinstance(geometry, shapely.Point):
        county = region.county_at(geometry.y, geometry.x)
        counties = [county] if county else []
    else:
        counties = region.counties_overlapping(geometry)
    return AreaResolution(county_codes=counties) if counties else AreaResolution(outside=[where])


def geocode_system(name: str) -> str:
    """A geocode's valueName as compared: upper-cased, without spaces ("GB/T 2260" -> "GB/T2260")."""
    return "".join(name.split()).upper()


def _geocode_part(name: str, value: str, where: str, region: RegionMap) -> AreaResolution:
    system = geocode_system(name)
    if system == NAMED_AREA:
        return AreaResolution()  # resolved by the polygon intake added beside it
    if system not in ADMIN_CODE_SYSTEMS:
        return AreaResolution(unresolved=[f"{where}: geocode {name}={value} is not a GB/T 2260 code"])
    code = value.strip()
    if not _CODE.fullmatch(code):
        return AreaResolution(errors=[FieldError(where, f"geocode {name} must be a 6-digit county or 12-digit township code, got {value!r}")])
    if len(code) == 12 and code.endswith("000000"):
        code = code[:6]  # the 12-digit statistical form of a county, prefecture or province code
    if len(code) == 6:
        counties, townships = region.counties_for_code(code), list[str]()
    else:
        county = region.county_of_township(code)
        counties, townships = ([county], [code]) if county else ([], [])
    if counties:
        return AreaResolution(county_codes=counties, township_codes=townships)
    if region.is_in_our_prefectures(code):
        return AreaResolution(unresolved=[f"{where}: geocode {name}={code} names no county of Garzê or Ngawa"])
    return AreaResolution(outside=[f"{where}: geocode {name}={code}"])


def _polygon(points: list[tuple[float, float]]) -> shapely.Polygon:
    """The CAP polygon (lat, lon points) as a shapely polygon (lon, lat), validated but never repaired."""
    if len(points) < 4:
        raise _Invalid(f"a polygon needs at least 4 points (the last repeating the first), got {len(points)}")
    coordinates = np.asarray(points, dtype=float)
    lats, lons = coordinates[:, 0], coordinates[:, 1]
    out_of_range = ~((np.abs(lats) <= 90) & (np.abs(lons) <= 180))  # NaN counts as out of range
    if out_of_range.any():
        index = int(np.argmax(out_of_range))
        raise _Invalid(f"point {index}: {_coordinate_problem(lats[index], lons[index])}")
    if tuple(points[0]) != tuple(points[-1]):
        raise _Invalid("the polygon is not closed: its last point must repeat the first")
    polygon = shapely.polygons(coordinates[:, ::-1])
    reason = shapely.is_valid_reason(polygon)
    if reason != "Valid Geometry":
        raise _Invalid(f"not a valid simple polygon ({_lat_lon_reason(reason)}); it is not repaired, send a corrected one")
    return polygon


def _circle(circle: Circle) -> shapely.Polygon | shapely.Point:
    """A circle as a polygon; radius 0 is a point (seismic agencies send an epicentre so)."""
    if problem := _coordinate_problem(circle.lat, circle.lon):
        raise _Invalid(f"centre: {problem}")
    if not 0 <= circle.radius_km <= MAX_RADIUS_KM:
        raise _Invalid(f"radius must be between 0 (a point) and {MAX_RADIUS_KM:g} km, got {circle.radius_km:g}")
    if circle.radius_km == 0:
        return shapely.Point(circle.lon, circle.lat)
    return shapely.polygons(circle_ring(circle))


def circle_ring(circle: Circle) -> np.ndarray:
    """Closed ring of (lon, lat): destination points at radius_km on the sphere, every 360/64 degrees of bearing.

    Longitudes stay continuous around the centre, so a circle across the antimeridian
    runs past 180 and one over a pole gives a degenerate ring. Neither is repaired: such
    circles lie far from the region (28-35 N, 97-105 E) and only need to miss it.
    """
    lat, lon = math.radians(circle.lat), math.radians(circle.lon)
    angle = circle.radius_km / EARTH_RADIUS_KM
    bearings = np.linspace(0.0, 2 * math.pi, CIRCLE_VERTICES, endpoint=False)
    sin_lats = np.clip(math.sin(lat) * math.cos(angle) + math.cos(lat) * math.sin(angle) * np.cos(bearings), -1.0, 1.0)
    lons = lon + np.arctan2(np.sin(bearings) * math.sin(angle) * math.cos(lat), math.cos(angle) - math.sin(lat) * sin_lats)
    ring = np.degrees(np.column_stack([lons, np.arcsin(sin_lats)]))
    return np.vstack([ring, ring[:1]])


def _coordinate_problem(lat: float, lon: float) -> str | None:
    if not -90 <= lat <= 90:
        return f"latitude {lat:g} is not between -90 and 90"
    if not -180 <= lon <= 180:
        return f"longitude {lon:g} is not between -180 and 180"
    return None


def _lat_lon_reason(reason: str) -> str:
    """GEOS says "Self-intersection[x y]" with x = lon; CAP senders think in lat, lon."""
    match = _GEOS_REASON.fullmatch(reason)
    if not match:
        return reason.lower()
    return f"{match['what'].lower()} near lat {match['y']}, lon {match['x']}"
