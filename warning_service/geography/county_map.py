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
class Projection:
    """Equirectangular around the region's middle latitude: lon, lat to the map's x, y (north up)."""

    min_lon: float
    max_lat: float
    x_scale: float
    scale: float

    def point(self, lon: float, lat: float) -> str:
        return f"{(lon - self.min_lon) * self.x_scale * self.scale:.1f},{(self.max_lat - lat) * self.scale:.1f}"

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
    x_scale = math.cos(math.radians((min_lat + max_lat) / 2))
    projection = Projection(min_lon, max_lat, x_scale, WIDTH / ((max_lon - min_lon) * x_scale))
    height = round((max_lat - min_lat) * projection.scale)
    shapes = []
    for code, geometry in sorted(geometries.items()):
        inside = geometry.representative_point()
        x, y = (float(value) for value in projection.point(inside.x, inside.y).split(","))
        shapes.append(CountyShape(code, projection.path(geometry), x, y))
    return CountyMap(WIDTH, height, tuple(shapes), projection)
