"""The console's offline county map, drawn from the bundled boundaries."""
from __future__ import annotations

import re

from warning_service.geography.county_map import county_map
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
