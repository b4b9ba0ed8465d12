"""Polygons a CBC can take that cover the warned area: simplified outward, never inward.

A CBC maps polygons to the cells that serve them and accepts only so many vertices. Simplifying
a county boundary the usual way (Douglas-Peucker) cuts corners off, and the phones in those
corners would not be warned; here the area is only ever grown: simplified, then pushed outward
(a mitred buffer) until it covers the original again, at the finest tolerance whose vertices fit.
Parts that cannot each keep a polygon of their own are merged into convex hulls; the smallest
rotated rectangle and the bounding box always fit, and the tightest candidate wins.

Conventions:
- coordinates are WGS84 (x = longitude, y = latitude), as shapely and GeoJSON have them; CAP
  writes "lat,lon" pairs (`cap_polygon`);
- a polygon's vertices are counted as CAP writes them: the first point repeated at the end, so a
  triangle is 4 and a rectangle 5 (shapely's `exterior.coords` counts the same way);
- the result has no holes (CAP polygons have none: filling a hole only grows the area) and its
  points lie on a grid of `decimals` decimal places, so the CAP text is exactly the polygon that was
  checked to cover the area.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

MIN_VERTICES = 5  # the bounding box, the one shape that always fits
COORDINATE_DECIMALS = 5  # 1e-5 degrees: about 1.1 m north-south, as the shipped boundaries are drawn
STEPS_PER_DOUBLING = 2  # tolerances grow by sqrt(2) a step
GROWTH_TRIES = 6  # how often one tolerance may grow its outward push before a coarser one is tried


class CoverError(ValueError):
    """The area cannot be covered: nothing with an area in it, or a vertex limit below MIN_VERTICES."""


def vertex_count(polygons: Iterable[Polygon]) -> int:
    """Vertices as CAP writes them: every ring closed by repeating its first point."""
    return sum(len(polygon.exterior.coords) + sum(len(ring.coords) for ring in polygon.interiors)
               for polygon in polygons)


def cap_polygon(polygon: Polygon, decimals: int = COORDINATE_DECIMALS) -> str:
    """The CAP <polygon> text: "lat,lon" pairs separated by spaces, the first repeated last."""
    return " ".join(f"{lat:.{decimals}f},{lon:.{decimals}f}" for lon, lat in polygon.exterior.coords)


def cover(area: BaseGeometry | Iterable[BaseGeometry], max_vertices: int,
          decimals: int = COORDINATE_DECIMALS) -> list[Polygon]:
    """Polygons with at most `max_vertices` vertices in all whose union covers `area`.

    `area` is a (Multi)Polygon or several of them (county boundaries, an alert's own polygons and
    circles): their union is covered. Of the candidates that fit (the finest outward
    simplification, parts merged only as far as the limit forces; the smallest rotated rectangle;
    the bounding box) the one with the least area wins: it is never smaller than the area.
    """
    if max_vertices < MIN_VERTICES:
        raise CoverError(f"a CBC must accept at least {MIN_VERTICES} vertices (a closed rectangle)")
    target = _solid(area)
    grid = 10.0 ** -decimals
    candidates = [_box(target, grid, decimals)]
    rectangle = _outward(target, target.minimum_rotated_rectangle, 0.0, grid, decimals)
    if rectangle is not None:
        candidates.append(rectangle)
    parts = list(target.geoms)
    while len(parts) > max_vertices // 4:  # each part keeps at least a closed triangle
        parts = _merge_closest(parts)
    while True:
        found = _fit(target, parts, max_vertices, grid, decimals)
        if found is not None or len(parts) == 1:
            break
        parts = _merge_closest(parts)
    if found is not None:
        candidates.append(found)
    return min(candidates, key=_area)


def _solid(area: BaseGeometry | Iterable[BaseGeometry]) -> MultiPolygon:
    """The union of the area's polygons with their holes filled."""
    geometries = [area] if isinstance(area, BaseGeometry) else list(area)
    union = shapely.union_all(geometries)
    parts = [part for part in getattr(union, "geoms", [union]) if not part.is_empty]
    if any(not isinstance(part, Polygon) for part in parts):
        raise CoverError("the area has points or lines in it; give polygons or circles")
    if not parts:
        raise CoverError("the area is empty")
    return MultiPolygon([Polygon(part.exterior) for part in parts])


def _fit(target: MultiPolygon, parts: list[Polygon], max_vertices: int, grid: float,
         decimals: int) -> list[Polygon] | None:
    """The finest outward simplification of `parts` that fits, or None when even the coarsest does not.

    Tolerances run from none at all up to the size of the shape (every part a triangle); fewer
    vertices come with coarser tolerances, so a bisection finds the finest that fits in a few tries.
    """
    shape = shapely.union_all(parts)
    minx, miny, maxx, maxy = shape.bounds
    diagonal = max(math.hypot(maxx - minx, maxy - miny), grid)
    finest = max(grid, diagonal * 1e-5)
    steps = math.ceil(math.log2(diagonal / finest) * STEPS_PER_DOUBLING) + 1

    def attempt(step: int) -> list[Polygon] | None:
        tolerance = finest * 2.0 ** ((step - 1) / STEPS_PER_DOUBLING) if step else 0.0
        candidate = _outward(target, shape, tolerance, grid, decimals)
        if candidate is None or vertex_count(candidate) > max_vertices:
            return None
        fitting.append(candidate)
        return candidate

    # Vertices and area fall with the tolerance only roughly, so every fit seen is kept and the
    # tightest of them wins.
    fitting: list[list[Polygon]] = []
    if attempt(steps) is None:
        return None
    low, high = -1, steps  # `high` fits; nothing up to `low` is known to
    while high - low > 1:
        middle = (low + high) // 2
        if attempt(middle) is None:
            low = middle
        else:
            high = middle
    return min(fitting, key=_area)


def _outward(target: MultiPolygon, shape: BaseGeometry, tolerance: float, grid: float,
             decimals: int) -> list[Polygon] | None:
    """`shape` simplified with `tolerance`, then pushed out until it covers `target` on the grid."""
    simplified = shape.simplify(tolerance, preserve_topology=True) if tolerance else shape
    # First the push the area's farthest vertex needs, one grid step more (more than half its
    # diagonal, for the rounding); a vertex-to-vertex measure can miss an edge that bulges further,
    # so the covering is checked, and on failure the push grows from what Douglas-Peucker
    # guarantees: every dropped vertex lies within `tolerance` of the new edges.
    vertices = shapely.points(shapely.get_coordinates(target))
    pushes = [float(shapely.distance(simplified, vertices).max()) + grid]
    if not tolerance:
        pushes.insert(0, 0.0)  # a shape not simplified may already lie on the grid
    pushes += [(tolerance + grid) * 2 ** k for k in range(GROWTH_TRIES)]
    for push in pushes:
        grown = simplified.buffer(push, join_style="mitre", mitre_limit=2.0) if push else simplified
        polygons = _on_grid(grown, decimals)
        if polygons is not None and _covers(polygons, target):
            return polygons
    return None


def _on_grid(shape: BaseGeometry, decimals: int) -> list[Polygon] | None:
    """The parts of `shape`, holes filled, points rounded to the grid; None if rounding broke one."""
    polygons = []
    for part in getattr(shape, "geoms", [shape]):
        ring = [(round(x, decimals), round(y, decimals)) for x, y in part.exterior.coords]
        polygon = shapely.remove_repeated_points(Polygon(ring))
        if polygon.is_empty or not polygon.is_valid or len(polygon.exterior.coords) < 4:
            return None
        polygons.append(polygon)
    return polygons


def _covers(polygons: list[Polygon], target: BaseGeometry) -> bool:
    return shapely.union_all(polygons).covers(target)


def _area(polygons: list[Polygon]) -> float:
    return shapely.union_all(polygons).area


def _merge_closest(parts: list[Polygon]) -> list[Polygon]:
    """One part fewer: the two nearest parts become their convex hull (which may swallow others)."""
    pairs = ((parts[i].distance(parts[j]), i, j) for i in range(len(parts)) for j in range(i + 1, len(parts)))
    _, i, j = min(pairs)
    hull = shapely.union_all([parts[i], parts[j]]).convex_hull
    merged = shapely.union_all([hull, *(part for k, part in enumerate(parts) if k not in (i, j))])
    return [Polygon(part.exterior) for part in getattr(merged, "geoms", [merged])]


def _box(target: BaseGeometry, grid: float, decimals: int) -> list[Polygon]:
    """The bounding box, its edges moved out to the grid: it always covers and always fits."""
    minx, miny, maxx, maxy = target.bounds
    for margin in (0.0, grid, 2 * grid):
        low_x, low_y = (round(math.floor(v / grid) * grid - margin, decimals) for v in (minx, miny))
        high_x, high_y = (round(math.ceil(v / grid) * grid + margin, decimals) for v in (maxx, maxy))
        box = [shapely.box(low_x, low_y, high_x, high_y)]
        if _covers(box, target):
            return box
    raise AssertionError("a bounding box grown by two grid steps must cover its area")
