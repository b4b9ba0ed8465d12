"""The polygon cover never shrinks the warned area and never exceeds the CBC's vertex limit."""
from __future__ import annotations

import math

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, shape

from warning_service.channels.cell_broadcast.cover import (
    COORDINATE_DECIMALS,
    MIN_VERTICES,
    CoverError,
    cap_polygon,
    cover,
    vertex_count,
)
from warning_service.reference_data import boundaries

COUNTIES = {code: shape(geometry) for code, geometry in boundaries("counties.geojson").items()}
CODES = sorted(COUNTIES)


def assert_covers(area, polygons: list[Polygon], max_vertices: int) -> None:
    """The whole contract: covers with no tolerance, fits, no holes, points on the CAP grid."""
    assert vertex_count(polygons) <= max_vertices
    assert shapely.union_all(polygons).covers(shapely.union_all(area if isinstance(area, list) else [area]))
    for polygon in polygons:
        assert polygon.is_valid and not polygon.interiors
        assert polygon.exterior.coords[0] == polygon.exterior.coords[-1]
        for x, y in polygon.exterior.coords:
            assert round(x, COORDINATE_DECIMALS) == x and round(y, COORDINATE_DECIMALS) == y


def star(cx: float, cy: float, radii: list[float], turn: float) -> Polygon:
    """A simple polygon: one vertex per radius at evenly spread angles around a centre."""
    step = 2 * math.pi / len(radii)
    return Polygon([(cx + r * math.cos(turn + i * step), cy + r * math.sin(turn + i * step)) for i, r in enumerate(radii)])


stars = st.builds(
    star,
    cx=st.floats(97.0, 104.0), cy=st.floats(28.0, 34.0),
    radii=st.lists(st.floats(0.0005, 0.8), min_size=3, max_size=120), turn=st.floats(0, math.tau),
)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(stars, min_size=1, max_size=6), max_vertices=st.integers(MIN_VERTICES, 80))
def test_random_polygons_are_covered_within_the_limit(parts, max_vertices):
    assert_covers(parts, cover(parts, max_vertices), max_vertices)


@settings(max_examples=60, deadline=None)
@given(codes=st.lists(st.sampled_from(CODES), min_size=1, max_size=5, unique=True),
       max_vertices=st.integers(MIN_VERTICES, 300))
def test_real_county_boundaries_are_covered_within_the_limit(codes, max_vertices):
    area = [COUNTIES[code] for code in codes]
    assert_covers(area, cover(area, max_vertices), max_vertices)


@pytest.mark.parametrize("code", CODES)
def test_every_county_fits_a_hundred_vertices_without_much_extra_area(code):
    polygons = cover(COUNTIES[code], 100)
    assert_covers(COUNTIES[code], polygons, 100)
    assert shapely.union_all(polygons).area < 1.6 * COUNTIES[code].area


def test_all_31_counties_and_a_circle_far_away_are_covered():
    area = [*COUNTIES.values(), Point(110.0, 25.0).buffer(0.2)]
    for max_vertices in (5, 12, 60, 400):
        assert_covers(area, cover(area, max_vertices), max_vertices)


def test_an_area_that_already_fits_on_the_grid_comes_back_unchanged():
    square = Polygon([(101.0, 30.0), (101.5, 30.0), (101.5, 30.5), (101.0, 30.5)])
    polygons = cover(square, 5)
    assert len(polygons) == 1 and polygons[0].equals(square)


def test_holes_are_filled_because_cap_polygons_have_none():
    ring = Point(101, 30).buffer(0.5, quad_segs=4).difference(Point(101, 30).buffer(0.2, quad_segs=4))
    polygons = cover(ring, 64)
    assert_covers(ring, polygons, 64)
    assert shapely.union_all(polygons).covers(Point(101, 30))


def test_many_islands_merge_when_each_cannot_keep_a_polygon():
    islands = [Point(100 + i * 0.3, 30).buffer(0.05) for i in range(10)]
    polygons = cover(islands, 12)
    assert_covers(islands, polygons, 12)
    assert len(polygons) <= 3


def test_cap_text_is_lat_lon_with_the_first_point_repeated():
    text = cap_polygon(Polygon([(101.0, 30.0), (101.5, 30.0), (101.5, 30.25)]))
    assert text == "30.00000,101.00000 30.00000,101.50000 30.25000,101.50000 30.00000,101.00000"


@pytest.mark.parametrize("area, max_vertices", [
    (Point(101, 30).buffer(0.1), 4), (Point(101, 30), 10), (Polygon(), 10),
    ([Point(101, 30).buffer(0.1), shapely.LineString([(100, 29), (100.5, 29)])], 10),
])
def test_impossible_requests_are_refused(area, max_vertices):
    with pytest.raises(CoverError):
        cover(area, max_vertices)
