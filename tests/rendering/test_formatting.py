"""Dates, numbers and place names for zh and bo (warning_service.rendering.formatting)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from warning_service.reference_data import county_rows
from warning_service.rendering import formatting as f

UTC_MORNING = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)   # 14:30 in Beijing
UTC_LATE = datetime(2026, 11, 6, 23, 5, tzinfo=UTC)       # 07:05 on 7 November in Beijing
GARZE, NGAWA = "513300", "513200"


# --- dates ----------------------------------------------------------------------

def test_zh_date_and_time_are_beijing_time_from_utc() -> None:
    assert f.local_datetime(UTC_MORNING, "zh") == "11月24日 14:30"


def test_date_changes_with_the_conversion_to_beijing_time() -> None:
    assert f.local_datetime(UTC_LATE, "zh") == "11月7日 07:05"


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert f.local_datetime(UTC_MORNING.replace(tzinfo=None), "zh") == "11月24日 14:30"


def test_bo_date_follows_the_cenc_report_pattern_with_tibetan_digits() -> None:
    # WXR: 11月7日 = ཟླ་༡༡པའི་ཚེས་༧ཉིན
    assert f.local_datetime(UTC_LATE, "bo") == "ཟླ་༡༡པའི་ཚེས་༧ཉིན ༠༧:༠༥"
    assert f.local_datetime(UTC_MORNING, "bo") == "ཟླ་༡༡པའི་ཚེས་༢༤ཉིན ༡༤:༣༠"


def test_bo_date_with_latin_digits_when_asked() -> None:
    assert f.local_datetime(UTC_LATE, "bo", tibetan_digits=False) == "ཟླ་11པའི་ཚེས་7ཉིན 07:05"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        f.local_datetime(UTC_MORNING, "en")


# --- numbers ----------------------------------------------------------------------

def test_numbers_use_the_locale_and_tibetan_digits_for_bo() -> None:
    assert f.number(Decimal("12345.5"), "zh") == "12,345.5"
    assert f.number(Decimal("12345.5"), "bo") == "༡༢,༣༤༥.༥"
    assert f.number(Decimal("29.59"), "bo", tibetan_digits=False) == "29.59"
    assert f.number(Decimal("3"), "zh", 2) == "3.00"


def test_magnitude_has_one_decimal() -> None:
    assert f.magnitude(Decimal("6.8"), "zh") == "6.8"
    assert f.magnitude(Decimal("5"), "zh") == "5.0"
    assert f.magnitude(Decimal("4.5"), "bo") == "༤.༥"   # WXR: ས་ཡོམ་རིམ་པ་༤.༥


def test_quantities_in_km_and_mm() -> None:
    assert f.quantity(Decimal("16"), "km", "zh") == "16公里"
    assert f.quantity(Decimal("10"), "km", "bo") == "སྤྱི་ལེ་༡༠"   # WXR: སྤྱི་ལེ་༡༠
    assert f.quantity(Decimal("50"), "mm", "zh") == "50毫米"


def test_a_unit_without_a_sourced_tibetan_word_is_refused() -> None:
    with pytest.raises(ValueError, match="no sourced bo wording"):
        f.quantity(Decimal("50"), "mm", "bo")


def test_levels_are_roman_numerals() -> None:
    assert [f.roman_level(level) for level in ("red", "orange", "yellow", "blue")] == ["I", "II", "III", "IV"]
    with pytest.raises(ValueError):
        f.roman_level("purple")


# --- places ----------------------------------------------------------------------

def test_county_and_city_names_in_both_scripts() -> None:
    assert f.place_name("513301", "zh") == "康定市"
    assert f.place_name("513301", "bo") == "དར་མདོ་གྲོང་ཁྱེར"     # city: name_bo + ་གྲོང་ཁྱེར
    assert f.place_name("513201", "bo") == "འབར་ཁམས་གྲོང་ཁྱེར"   # 马尔康市, as glossary row 马尔康市
    assert f.place_name("513322", "zh") == "泸定县"
    assert f.place_name("513322", "bo") == "ལྕགས་ཟམ་རྫོང"         # county: name_bo + ་རྫོང
    assert f.place_name(GARZE, "bo") == "དཀར་མཛེས་བོད་རིགས་རང་སྐྱོང་ཁུལ"  # prefecture rows carry the full name


def test_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown county"):
        f.place_name("110101", "zh")


def test_lists_are_joined_in_each_script() -> None:
    assert f.places(["513322", "513301"], "zh") == "康定市、泸定县"          # in code order
    assert f.places(["513301", "513322"], "bo") == "དར་མདོ་གྲོང་ཁྱེར་དང་ལྕགས་ཟམ་རྫོང"
    three = f.places(["513301", "513322", "513323"], "bo")
    # WXR: རྫོང་དང་། ཤང་། གྲོང་ཚོ — with ་། after ང
    assert three == "དར་མདོ་གྲོང་ཁྱེར་དང་། ལྕགས་ཟམ་རྫོང་། རོང་བྲག་རྫོང"
    assert f.places(["513301"], "bo") == "དར་མདོ་གྲོང་ཁྱེར"
    assert f.places([], "zh") == ""


def test_a_whole_prefecture_is_named_once() -> None:
    garze = [row["code"] for row in county_rows() if row["prefecture_code"] == GARZE and row["code"] != GARZE]
    assert len(garze) == 18
    assert f.places([*garze, "513221"], "zh") == "汶川县、甘孜藏族自治州"
    assert f.place_codes([GARZE, "513301"]) == [GARZE]   # a county inside a named prefecture is not repeated
    assert f.place_codes(garze[:-1]) == sorted(garze[:-1])
    assert f.place_codes([NGAWA]) == [NGAWA]


def test_sentence_ends() -> None:
    assert f.end_sentence("注意防范", "zh") == "注意防范。"
    assert f.end_sentence("注意防范。", "zh") == "注意防范。"
    assert f.end_sentence("ཉེན་བརྡ་སེར་པོ", "bo") == "ཉེན་བརྡ་སེར་པོ།"
    assert f.end_sentence("ལྕགས་ཟམ་རྫོང", "bo") == "ལྕགས་ཟམ་རྫོང་།"     # ་། after ང
    assert f.end_sentence("རླུང་དྲག", "bo") == "རླུང་དྲག །"             # space before the shad after ག
    assert f.end_sentence("ཆུ་ལོག", "bo") == "ཆུ་ལོག །"
    assert f.end_sentence("ཉེན་བརྡ (རིམ་པ་III)", "bo") == "ཉེན་བརྡ (རིམ་པ་III)།"
    assert f.end_sentence("减少外出", "bo") == "减少外出"                 # no shad after quoted Chinese
    assert f.end_sentence("", "bo") == ""
