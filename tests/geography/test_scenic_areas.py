"""The demo's scenic areas (data/scenic_areas.toml): each centre in the county the file says, checked against
the shipped boundaries (data/regions/counties.geojson); each shape sourced and marked as not surveyed."""
from __future__ import annotations

import pytest

from warning_service.demo_data import scenic_areas
from warning_service.geography.areas import county_of_point
from warning_service.geography.named_areas import CODE, counties_touched, geometry_from_circle
from warning_service.reference_data import county_rows

SEED_PLAN = {"九寨沟", "黄龙", "四姑娘山", "达古冰川", "海螺沟", "稻城亚丁", "毕棚沟", "木格措"}
COUNTY_NAMES = {row["code"]: row["name_zh"] for row in county_rows()}


def test_the_seed_plan_s_scenic_areas_are_all_there_once():
    areas = scenic_areas()
    assert {area["name_zh"] for area in areas} == SEED_PLAN
    assert len({area["code"] for area in areas}) == len(areas) == len(SEED_PLAN)


@pytest.mark.parametrize("area", scenic_areas(), ids=lambda area: area["code"])
def test_each_centre_lies_in_its_county_and_its_shape_says_how_it_was_made(area):
    assert county_of_point(area["lat"], area["lon"]) == area["county"], COUNTY_NAMES.get(area["county"])
    assert CODE.fullmatch(area["code"])
    assert area["county"] in counties_touched(geometry_from_circle(area["lat"], area["lon"], area["radius_km"]))
    assert area["accuracy"].startswith(("approximate: circle of", "rough: circle of"))
    assert f"circle of {area['radius_km']:g} km" in area["accuracy"]
    assert area["source"].strip() and "name_bo" not in area  # no Tibetan without a glossary entry
