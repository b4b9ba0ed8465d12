"""The console's offline county maps, drawn from the bundled boundaries: the whole region, and framed on an area."""
from __future__ import annotations

import re

import shapely
from shapely.geometry import Point

from warning_service.geography.county_map import MAX_ASPECT, MIN_ASPECT, county_map, framed_map
from warning_service.reference_data import county_rows

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def test_every_county_is_drawn_inside_the_map_with_its_label_inside_the_frame():
    drawn = county_map()
    assert sorted(county.code for county in drawn.counties) == sorted(
        row["code"] for row in county_rows() if row["code"] != row["prefecture_code"])
    for county in drawn.counties:
        assert county.path.startswith("M") and county.path.endswith("Z")
        values = [float(value) for value in NUMBER.findall(county.path)]
        xs, ys = values[0::2], values[1::2]
        assert min(xs) >= -0.1 and max(xs) <= drawn.width + 0.1
        assert min(ys) >= -0.1 and max(ys) <= drawn.height + 0.1
        assert min(xs) <= county.label_x <= max(xs) and min(ys) <= county.label_y <= max(ys)


def test_the_map_is_small_enough_for_a_slow_county_link():
    assert sum(len(county.path) for county in county_map().counties) < 60_000  # under 2 s at 256 kbit/s


def test_north_is_up_and_west_is_left():
    by_code = {county.code: county for county in county_map().counties}
    # Hongyuan (513233) lies north of Dêrong (513338); Sêrxü (513332) lies west of Wenchuan (513221).
    assert by_code["513233"].label_y < by_code["513338"].label_y
    assert by_code["513332"].label_x < by_code["513221"].label_x


def drawn_points(path: str) -> list[tuple[float, float]]:
    values = [float(value) for value in NUMBER.findall(path)]
    return list(zip(values[0::2], values[1::2]))


def test_a_framed_map_holds_its_counties_and_the_shapes_laid_over_them():
    circle = Point(102.0335, 29.617).buffer(0.3)  # reaches beyond Luding
    drawn = framed_map(["513322"], [circle])
    assert drawn.targeted == {"513322"}
    codes = {county.code for county in drawn.counties}
    assert {"513322", "513301"} <= codes and "513332" not in codes  # Luding, its neighbour; not far-off Sêrxü
    for x, y in drawn_points(drawn.path(circle)) + [point for county in drawn.counties for point in drawn_points(county.path)
                                                    if county.code == "513322"]:
        assert -0.1 <= x <= drawn.width + 0.1 and -0.1 <= y <= drawn.height + 0.1
    luding = drawn_points(next(county.path for county in drawn.counties if county.code == "513322"))
    assert max(x for x, _ in luding) - min(x for x, _ in luding) > drawn.width / 3  # framed on it, not the region


def test_a_framed_map_is_neither_a_strip_nor_a_tower():
    tall = shapely.box(101.0, 30.0, 101.01, 31.0)
    wide = shapely.box(101.0, 30.0, 102.0, 30.01)
    for shape_ in (tall, wide):
        drawn = framed_map([], [shape_])
        assert drawn.width * MIN_ASPECT - 1 <= drawn.height <= drawn.width * MAX_ASPECT + 1


def test_a_framed_map_of_the_whole_region_is_small_enough_for_a_slow_county_link():
    every = [county.code for county in county_map().counties]
    assert sum(len(county.path) for county in framed_map(every).counties) < 60_000


def test_the_points_of_a_polygon_are_each_of_its_vertices_closing_one_included():
    square = shapely.box(101.0, 30.0, 101.5, 30.5)
    drawn = framed_map([], [square])
    points = drawn.projection.points(square).split()
    assert len(points) == 5 and points[0] == points[-1]
