"""Channel budgets: exact figures from docs/CHANNELS.md, and measures that grow with the text."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.text import PROPERTY_SETTINGS, any_text
from warning_service.rendering.budgets import (
    BDS2_HIGHEST_LEVEL_BITS,
    BDS3_GLOBAL_BITS,
    BDS3_REGIONAL_BITS,
    BeidouBudget,
    BroadcastBudget,
    Budget,
    CellBroadcastBudget,
    Measure,
    SmsBudget,
)
from warning_service.rendering.tibetan import BreakKind, break_opportunities, cluster_boundaries, normalise

HAN = "预"
BULLETIN = "ས་ཡོམ་རིམ་པ་༤.༥བརྒྱབ།"  # "an earthquake of magnitude 4.5 struck", from a real bulletin
STACK = "\u0f66\u0f92\u0fb2\u0f74"  # སྒྲུ: one cluster of 4 code units

sms = SmsBudget()


# --- cell broadcast ----------------------------------------------------------------------

cbs = CellBroadcastBudget()


def test_cell_broadcast_is_615_utf16_units_in_pages_of_41() -> None:
    assert cbs.measure(HAN * 41) == Measure(41, 1, "CBS", True)
    assert cbs.measure(HAN * 42).parts == 2
    assert cbs.measure(HAN * 615) == Measure(615, 15, "CBS", True)
    assert not cbs.measure(HAN * 616).fits
    assert cbs.measure("😀" * 308).units == 616 and not cbs.measure("😀" * 308).fits  # surrogate pairs count two
    assert CellBroadcastBudget(2).measure(HAN * 83).fits is False
    assert cbs.measure(HAN * 82).describe() == "2 CBS pages (82 units)"


def test_cell_broadcast_counts_tibetan_after_nfc() -> None:
    assert cbs.measure("\u0f40\u0f73").units == 3  # U+0F73 is written as two code points after NFC
    assert cbs.measure(BULLETIN * 40).units == len(normalise(BULLETIN)) * 40


# --- SMS ---------------------------------------------------------------------------------

def test_gsm7_single_and_multipart() -> None:
    assert sms.measure("Hello") == Measure(5, 1, "GSM-7", True)
    assert sms.measure("a" * 160).parts == 1
    assert sms.measure("a" * 161).parts == 2
    assert sms.measure("a" * 306).parts == 2
    assert sms.measure("a" * 307).parts == 3
    assert sms.measure("") == Measure(0, 0, "GSM-7", True)


def test_gsm7_extension_characters_cost_two_septets_and_stay_whole() -> None:
    assert sms.measure("€") == Measure(2, 1, "GSM-7", True)
    assert sms.measure("{" * 80) == Measure(160, 1, "GSM-7", True)
    # 153 septets a part: 76 escapes fill 152, the 77th moves on whole.
    assert sms.measure("{" * 153).parts == 3


def test_ucs2_single_and_multipart() -> None:
    assert sms.measure(HAN * 70) == Measure(70, 1, "UCS-2", True)
    assert sms.measure(HAN * 71).parts == 2
    assert sms.measure(HAN * 134).parts == 2
    assert sms.measure(HAN * 135).parts == 3
    assert sms.measure("Hello 预").encoding == "UCS-2"


def test_characters_beyond_the_bmp_cost_two_units_and_never_straddle_segments() -> None:
    assert sms.measure("😀") == Measure(2, 1, "UCS-2", True)
    # 134 units would be 2 parts, but the pair at units 67-68 moves to part 2.
    assert sms.measure(HAN * 66 + "😀" + HAN * 66) == Measure(134, 3, "UCS-2", True)


def test_a_tibetan_stack_never_straddles_segments() -> None:
    assert sms.measure(HAN * 66 + STACK + HAN * 64) == Measure(134, 3, "UCS-2", True)
    assert sms.measure(HAN * 63 + STACK + HAN * 67).parts == 2


def test_tibetan_is_counted_in_utf16_units_after_nfc() -> None:
    assert sms.measure(BULLETIN) == Measure(21, 1, "UCS-2", True)
    # U+0F73 is written as two code points, so it costs two units.
    assert sms.measure("\u0f40\u0f73").units == 3


def test_segment_limit_and_twilio_body_cap() -> None:
    assert not SmsBudget(max_segments=1).measure(HAN * 71).fits
    assert SmsBudget(max_segments=2).measure(HAN * 71).fits
    generous = SmsBudget(max_segments=20)
    assert generous.measure("a" * 1600).fits
    assert generous.measure("a" * 1601) == Measure(1601, 11, "GSM-7", False)


def test_describe() -> None:
    assert sms.measure(HAN * 94).describe() == "2 UCS-2 segments (94 units)"
    assert sms.measure("Hello").describe() == "1 GSM-7 segment (5 units)"


# --- BeiDou ---------------------------------------------------------------------------------

def test_beidou_capacities() -> None:
    assert BeidouBudget.bds3_regional().capacity_bits == BDS3_REGIONAL_BITS == 14_000
    assert BeidouBudget.bds3_global().capacity_bits == BDS3_GLOBAL_BITS == 560
    assert BeidouBudget.bds2().capacity_bits == BDS2_HIGHEST_LEVEL_BITS == 1_680
    assert BeidouBudget.bds2(628).capacity_bits == 628


def test_beidou_chinese_mode() -> None:
    assert BeidouBudget.bds3_regional().measure(HAN * 100) == Measure(1_400, 1, "chinese", True)
    assert BeidouBudget.bds3_global().measure(HAN * 40) == Measure(560, 1, "chinese", True)
    assert BeidouBudget.bds3_global().measure(HAN * 41) == Measure(574, 2, "chinese", False)
    assert BeidouBudget.bds3_global(max_parts=2).measure(HAN * 41).fits
    assert BeidouBudget.bds3_regional().measure("地震６．８级，请避险。").encoding == "chinese"


def test_beidou_code_mode_for_digits_only() -> None:
    assert BeidouBudget.bds3_global().measure("0123456789") == Measure(40, 1, "code", True)


def test_beidou_mixed_mode() -> None:
    # Tibetan goes as UTF-8: 3 bytes, 24 bits a code point (the ASCII point: 8 bits).
    assert BeidouBudget.bds3_global().measure(BULLETIN) == Measure(20 * 24 + 8, 1, "mixed", True)
    assert BeidouBudget.bds3_global().measure("བཀྲ་ཤིས") == Measure(7 * 24, 1, "mixed", True)
    # ASCII forces mixed mode; without Tibetan it is GB18030: 2 bytes a Han character, 1 an ASCII one.
    assert BeidouBudget.bds3_global().measure("地震4.5级") == Measure(72, 1, "mixed", True)
    assert BeidouBudget.bds3_global(mode="mixed").measure(HAN * 10) == Measure(160, 1, "mixed", True)


def test_beidou_describe_and_bad_mode() -> None:
    assert BeidouBudget.bds3_global().measure(BULLETIN * 2).describe() == "976 bits (mixed) in 2 messages"
    assert BeidouBudget.bds3_regional().measure(HAN * 80).describe() == "1,120 bits (chinese)"
    with pytest.raises(ValueError):
        BeidouBudget(560, mode="binary")


# --- Broadcast --------------------------------------------------------------------------------

def test_broadcast_chinese_sentence() -> None:
    # 14 characters at 4 a second, and a pause at the full stop: 4.0 s.
    measure = BroadcastBudget(5).measure("甘孜州气象台发布暴雨蓝色预警。")
    assert measure == Measure(40, 1, "speech", True)
    assert measure.describe() == "4 s read-out"
    assert not BroadcastBudget(3.9).measure("甘孜州气象台发布暴雨蓝色预警。").fits


def test_broadcast_tibetan_latin_and_digits() -> None:
    # བཀྲ་ཤིས་བདེ་ལེགས། : 4 syllables at 3 a second + 0.5 s pause = 1.83 s, rounded up.
    assert BroadcastBudget(5).measure("བཀྲ་ཤིས་བདེ་ལེགས།").units == 19
    # 4 words at 2.5 a second and two pauses.
    assert BroadcastBudget(5).measure("Leave now. Go uphill.").units == 26
    # Two digits, no pause: the point is a decimal point.
    assert BroadcastBudget(5).measure("4.5").units == 5
    assert BroadcastBudget(5).measure("༤.༥ 地震。").describe() == "1.5 s read-out"
    assert BroadcastBudget(5).measure("甘孜。\n").units == 10  # one pause for 。 and the line break


def test_broadcast_rates_are_settable() -> None:
    assert BroadcastBudget(5, {"han": 5.0}).measure("甘孜州气象台发布暴雨蓝色预警。").units == 33
    with pytest.raises(ValueError):
        BroadcastBudget(5, {"klingon": 1.0})
    with pytest.raises(ValueError):
        BroadcastBudget(5, {"han": 0})


# --- every budget: a longer text never measures less ----------------------------------------------

BUDGETS = [SmsBudget(), BeidouBudget.bds3_global(), BeidouBudget.bds2(), BroadcastBudget(60)]


def _assert_grows(budget: Budget, text: str, cut: int) -> None:
    whole, prefix = budget.measure(text), budget.measure(text[:cut])
    assert prefix.units <= whole.units and prefix.parts <= whole.parts, (budget.name, cut)
    assert prefix.fits or not whole.fits


@PROPERTY_SETTINGS
@given(any_text, st.data())
def test_sms_and_beidou_measures_grow_with_the_prefix(text: str, data: st.DataObject) -> None:
    """fit's binary search finds the longest cut when measures grow with the prefix."""
    text = normalise(text)
    cut = data.draw(st.sampled_from(cluster_boundaries(text)))
    for budget in BUDGETS[:3]:
        _assert_grows(budget, text, cut)


@PROPERTY_SETTINGS
@given(any_text, st.data())
def test_broadcast_measure_grows_at_good_breaks(text: str, data: st.DataObject) -> None:
    """Read-out time can shrink at a cluster break ("e." ends a sentence, "e.g" does not), not at better ones."""
    text = normalise(text)
    good = [b.index for b in break_opportunities(text) if b.kind > BreakKind.CLUSTER]
    cut = data.draw(st.sampled_from(good + [0, len(text)]))
    _assert_grows(BUDGETS[3], text, cut)


def test_a_character_count_describes_itself_as_characters():
    from warning_service.rendering.budgets import Measure

    assert Measure(units=41, parts=1, encoding="characters", fits=True).describe() == "41 characters"
