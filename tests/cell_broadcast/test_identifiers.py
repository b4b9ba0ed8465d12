"""CBS message identifiers: the numbers issue 16 fixes, their TS 23.041 meaning, per-operator overrides."""
from __future__ import annotations

import pytest

from warning_service.channels.cell_broadcast.identifiers import (
    DEFAULT_IDENTIFIERS,
    STANDARD,
    UnmappedAlert,
    check_overrides,
    message_identifier,
)


@pytest.mark.parametrize("level, zh, bo", [
    ("red", 4370, 4383), ("orange", 4371, 4384), ("yellow", 4373, 4386), ("blue", 4396, 4397),
])
def test_levels_map_to_the_issue_numbers_in_both_languages(level, zh, bo):
    assert message_identifier(level, "rainstorm", "Actual", "zh-CN") == zh
    assert message_identifier(level, "rainstorm", "Actual", "bo-CN") == bo
    assert message_identifier(level, "rainstorm", "Actual", "bo") == bo


def test_earthquake_early_warning_is_the_etws_earthquake_identifier_whatever_the_level_or_language():
    for level in (None, "red", "blue"):
        for language in ("zh-CN", "bo-CN"):
            assert message_identifier(level, "earthquake_early_warning", "Actual", language) == 4352


@pytest.mark.parametrize("hazard", ["earthquake_early_warning", "landslide"])
def test_exercise_and_test_win_over_hazard_and_level(hazard):
    assert message_identifier("red", hazard, "Exercise", "zh-CN") == 4381
    assert message_identifier("red", hazard, "Exercise", "bo-CN") == 4394
    assert message_identifier("red", hazard, "Test", "zh-CN") == 4380
    assert message_identifier("red", hazard, "Test", "bo-CN") == 4393


def test_a_report_without_colour_level_is_public_safety_information():
    assert message_identifier(None, "earthquake", "Actual", "zh-CN") == 4396
    assert message_identifier(None, "aftershock", "Actual", "bo-CN") == 4397


@pytest.mark.parametrize("level, status, language", [
    ("red", "Draft", "zh-CN"), ("red", "System", "zh-CN"), ("purple", "Actual", "zh-CN"), ("red", "Actual", "en-GB"),
])
def test_what_is_never_broadcast_or_not_mapped_is_refused(level, status, language):
    with pytest.raises(UnmappedAlert):
        message_identifier(level, "rainstorm", status, language)


def test_every_mapped_number_is_in_the_standard_table_with_the_right_language_role():
    for first, additional in DEFAULT_IDENTIFIERS.values():
        assert not STANDARD[first].additional_language
        assert STANDARD[additional].additional_language or STANDARD[additional].language_neutral
        if STANDARD[first].language_neutral:
            assert first == additional


def test_cmas_additional_language_numbers_are_thirteen_up_except_public_safety():
    for key in ("red", "orange", "yellow", "exercise", "test"):
        first, additional = DEFAULT_IDENTIFIERS[key]
        assert additional == first + 13
    assert DEFAULT_IDENTIFIERS["blue"] == (4396, 4397)


def test_an_operator_override_replaces_only_its_own_row():
    overrides = {"blue": (4373, 4386)}
    assert check_overrides(overrides) == []
    assert message_identifier("blue", "fog", "Actual", "zh-CN", overrides) == 4373
    assert message_identifier("blue", "fog", "Actual", "bo-CN", overrides) == 4386
    assert message_identifier("red", "fog", "Actual", "zh-CN", overrides) == 4370


def test_bad_overrides_are_named():
    problems = check_overrides({"purple": (4370, 4383), "red": (4370,), "orange": (50, 4384), "yellow": (4373, "x")})
    assert len(problems) == 4
    assert "purple" in problems[0] and "red" in problems[1]
