"""The 31 counties as an SVG map for the console, drawn from the bundled boundaries.

Offline by design: no tile server, nothing fetched. The outlines are simplified
(about 1 km) and projected equirectangularly around the region's middle latitude,
which at this size is indistinguishable from a proper projection. Pure: no Flask.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import shapely
from shapely.geometry import shape

from ..reference_data import boundaries

SIMPLIFY_DEGREES = 0.01
WIDTH = 640


@dataclass(frozen=True)
class CountyShape:
    code: str
    path: str          # SVG path data in the map's coordinates
    label_x: float     # a point inside the county, for its label
    label_y: float


@dataclass(frozen=True)
class CountyMap:
    width: int
    height: int
    counties: tuple[CountyShape, ...]


@lru_cache(maxsize=1)
def county_map() -> CountyMap:
    geometries = {code: shape(geometry).simplify(SIMPLIFY_DEGREES) for code, geometry in
                  boundaries("counties.geojson").items()}
    min_lon, min_lat, max_lon, max_lat = shapely.union_all(list(geometries.values())).bounds
    x_scale = math.cos(math.radians((min_lat + max_lat) / 2))
    scale = WIDTH / ((max_lon - min_lon) * x_scale)
    height = round((max_lat - min_lat) * scale)

    def point(lon: float, lat: float) -> str:
        return f"{(lon - min_lon) * x_scale * scale:.1f},{(max_lat - lat) * scale:.1f}"

    def rings(geometry) -> list[str]:
        polygons = getattr(geometry, "geoms", [geometry])
        return ["M" + "L".join(point(lon, lat) for lon, lat in ring.coords) + "Z"
                for polygon in polygons for ring in (polygon.exterior, *polygon.interiors)]

    shapes = []
    for code, geometry in sorted(geometries.items()):
        inside = geometry.representative_point()
        x, y = (float(value) for value in point(inside.x, inside.y).split(","))
        shapes.append(CountyShape(code, "".join(rings(geometry)), x, y))
    return CountyMap(WIDTH, height, tuple(shapes))
