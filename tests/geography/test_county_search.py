"""Counties found by code or by any of their names, as the console's county picker finds them."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from warning_service.geography.county_search import county_label, matching_counties, search_key


@dataclass(frozen=True)
class County:
    code: str
    name_zh: str
    name_bo: str
    name_en: str


COUNTIES = [County("513301", "康定市", "དར་མདོ", "Kangding City"), County("513322", "泸定县", "ལྕགས་ཟམ", "Luding County"),
            County("513334", "理塘县", "ལི་ཐང", "Litang County")]


@pytest.mark.parametrize("wanted", ["513301", "康定市", "康定", "དར་མདོ", "kangding", "Kāngdìng", "KANG DING", "Kangding City"])
def test_a_county_is_found_by_code_or_any_name(wanted):
    assert matching_counties(COUNTIES, wanted) == ["513301"]


def test_a_name_part_finds_every_county_it_is_part_of_and_nothing_finds_none():
    assert matching_counties(COUNTIES, "county") == ["513322", "513334"]
    assert matching_counties(COUNTIES, "成都") == [] and matching_counties(COUNTIES, "  ") == []
    assert matching_counties(COUNTIES, "513399") == []


def test_tone_marks_go_but_tibetan_vowel_signs_stay():
    assert search_key("Kāng dìng") == "kangding"
    assert search_key("ལི་ཐང") != search_key("ལ་ཐང")  # the vowel sign ི is a combining mark too
    assert "kāng dìng shì" in county_label(COUNTIES[0])
