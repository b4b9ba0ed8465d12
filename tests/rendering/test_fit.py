"""Fitting warnings into budgets: examples, and properties over any Tibetan, Chinese or mixed text."""
from __future__ import annotations

import unicodedata
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.text import PROPERTY_SETTINGS, any_text
from warning_service.rendering.budgets import BeidouBudget, BroadcastBudget, Budget, CellBroadcastBudget, SmsBudget
from warning_service.rendering.fit import CUT_MARK, FitResult, Section, cut_mark, fit, split_parts
from warning_service.rendering.tibetan import (
    DISCOURAGED,
    SHADS,
    BreakKind,
    break_opportunities,
    cluster_boundaries,
    normalise,
)

# Garzê heavy-rain blue warning issued. / Keep away from rivers and slopes. / Beware of landslides and rockfalls.
BO_WARNING = "དཀར་མཛེས་ས་ཁུལ་དུ་ཆར་ཆེན་གྱི་ཉེན་བརྡ་སྔོན་པོ་བཏང་། "  # 51 units
BO_KEEP_AWAY = "ཆུ་ཁ་དང་རི་འདབས་ནས་ཐག་རིང་དུ་སྡོད་རོགས། "      # 40 units
BO_LANDSLIDES = "ས་རུད་དང་རྡོ་རུད་ལ་གཟབ་ནན་བྱེད་རོགས།"          # 36 units
ZH_WARNING = "甘孜州气象台发布暴雨蓝色预警。"
ZH_DETAIL = "预计未来六小时内康定、泸定、丹巴等地将出现五十毫米以上降雨，局地伴有雷电和短时大风，山洪、泥石流、滑坡等灾害风险较高。"
ZH_ACTION = "请远离河道。"


# --- examples ----------------------------------------------------------------------------

def test_text_that_fits_is_returned_normalised() -> None:
    result = fit([Section("\u0f40\u0f73"), Section(ZH_ACTION)], SmsBudget(1), separator=" ")
    assert result == FitResult("\u0f40\u0f71\u0f72 " + ZH_ACTION, SmsBudget(1).measure(result.text), False, (), False)


def test_an_optional_section_is_dropped_before_anything_is_cut() -> None:
    sections = [Section(ZH_WARNING), Section(ZH_DETAIL, optional=True), Section(ZH_ACTION)]
    result = fit(sections, SmsBudget(1), language="zh")
    assert result.text == ZH_WARNING + ZH_ACTION
    assert (result.shortened, result.dropped, result.cut) == (True, (1,), False)
    assert result.measure.fits


def test_optional_sections_are_dropped_from_the_last() -> None:
    sections = [Section(ZH_WARNING), Section(ZH_ACTION, optional=True), Section(ZH_DETAIL, optional=True)]
    result = fit(sections, SmsBudget(1), language="zh")
    assert result.text == ZH_WARNING + ZH_ACTION and result.dropped == (2,)


def test_required_tibetan_is_cut_at_a_shad_not_mid_syllable() -> None:
    text = BO_WARNING + BO_KEEP_AWAY + BO_LANDSLIDES  # 127 units: two segments
    result = fit([Section(text)], SmsBudget(1), language="bo")
    assert result.text == BO_WARNING.rstrip() + "…"  # ends ...བཏང་།… : the shad, then the mark
    assert (result.shortened, result.cut, result.measure.units) == (True, True, 51)


def test_a_sentence_end_that_loses_too_much_gives_way_to_a_syllable_break() -> None:
    result = fit([Section(BO_KEEP_AWAY + BO_WARNING + BO_LANDSLIDES)], SmsBudget(1), language="bo")
    assert result.text.endswith("\u0f0b…")  # after a tsheg: a whole syllable
    assert result.text.startswith(BO_KEEP_AWAY) and result.measure.units == 70


def test_chinese_is_cut_at_punctuation() -> None:
    # 40 characters: a cut between characters could keep 38; the 、 after 29 keeps enough.
    result = fit([Section(ZH_WARNING + ZH_DETAIL)], BeidouBudget.bds3_global(), language="zh")
    assert result.text == ZH_WARNING + "预计未来六小时内康定、泸定、……"
    assert result.measure.encoding == "chinese" and result.measure.fits


def test_latin_stays_gsm7_with_the_default_mark() -> None:
    result = fit([Section("Heavy rain warning. " * 20)], SmsBudget(1))
    assert result.text.endswith("warning. ...") and result.measure.encoding == "GSM-7"


def test_nothing_fits() -> None:
    result = fit([Section(ZH_WARNING)], BroadcastBudget(0.1), language="zh")
    assert result.text == "" and not result.measure.fits and result.cut


def test_no_sections() -> None:
    result = fit([], SmsBudget(1))
    assert result.text == "" and result.measure.fits and not result.shortened


def test_cut_mark_by_language_tag() -> None:
    assert cut_mark("zh-Hans") == "……" and cut_mark("bo_CN") == "…" and cut_mark("en") == " ..."
    assert cut_mark(None) == CUT_MARK[None]


def test_split_parts_examples() -> None:
    chinese = ZH_WARNING + ZH_DETAIL + ZH_ACTION
    parts = split_parts(chinese, BeidouBudget.bds3_global(), "zh")
    assert "".join(parts) == chinese and len(parts) == 3
    assert parts == [
        ZH_WARNING + "预计未来六小时内康定、泸定、",
        "丹巴等地将出现五十毫米以上降雨，局地伴有雷电和短时大风，山洪、泥石流、",
        "滑坡等灾害风险较高。" + ZH_ACTION,
    ]
    tibetan = (BO_WARNING + BO_KEEP_AWAY) * 3
    assert split_parts(tibetan, SmsBudget(2), "bo") == [BO_WARNING + BO_KEEP_AWAY] * 3  # 91 units each
    assert split_parts("", SmsBudget(1)) == []


def test_split_parts_refuses_a_cluster_that_does_not_fit() -> None:
    with pytest.raises(ValueError):
        split_parts("\u0f66\u0f92\u0fb2\u0f74", BeidouBudget(64))  # one stack, 96 bits


# --- properties ------------------------------------------------------------------------------

budgets = st.one_of(
    st.integers(1, 8).map(SmsBudget),
    st.builds(BeidouBudget, st.sampled_from([560, 1_680, 14_000]), st.sampled_from(["auto", "mixed"])),
    st.integers(5, 120).map(BroadcastBudget),
    st.integers(1, 15).map(CellBroadcastBudget),
)
part_budgets = st.one_of(
    st.just(SmsBudget(1)), st.sampled_from([BeidouBudget(560), BeidouBudget(1_680)]), st.integers(5, 30).map(BroadcastBudget),
)
# Repeated, so that texts are often long enough for the budgets below to drop and cut.
section_text = st.builds(lambda texts, times: "".join(texts) * times, st.lists(any_text, min_size=1, max_size=3),
                         st.integers(1, 12))
sections_strategy = st.lists(st.builds(Section, section_text, st.booleans()), max_size=6)
languages = st.sampled_from(["bo", "zh", None])
separators = st.sampled_from(["", " ", "\n", "\u0f0d "])


def _trimmed(text: str, i: int) -> str:
    bounds = set(cluster_boundaries(text))
    while i > 0 and text[i - 1].isspace() and i - 1 in bounds:
        i -= 1
    return text[:i]


def _assert_clean(text: str) -> None:
    assert unicodedata.is_normalized("NFC", text)
    assert not DISCOURAGED & set(text)


@PROPERTY_SETTINGS
@given(sections_strategy, budgets, separators, languages)
def test_fit_result_fits_and_is_a_clean_prefix(
    sections: list[Section], budget: Budget, separator: str, language: str | None,
) -> None:
    result = fit(sections, budget, separator, language)
    mark = cut_mark(language)
    _assert_clean(result.text)
    assert result.measure == budget.measure(result.text) or (result.text == "" and not result.measure.fits)
    assert result.measure.fits or result.text == ""
    assert result.shortened == (bool(result.dropped) or result.cut)

    optional = [i for i, section in enumerate(sections) if section.optional]
    assert list(result.dropped) == optional[len(optional) - len(result.dropped):]  # the last ones
    kept = [i for i in range(len(sections)) if i not in result.dropped]
    joined = normalise(separator.join(sections[i].text for i in kept))

    if not result.cut:
        assert result.text == joined
        if result.dropped:  # dropping stopped as soon as the text fitted
            restored = sorted([*kept, result.dropped[0]])
            assert not budget.measure(separator.join(sections[i].text for i in restored)).fits
        return

    assert result.dropped == tuple(optional) and not budget.measure(joined).fits
    breaks = {b.index: b.kind for b in break_opportunities(joined)}
    if result.text == "":  # only when not even the shortest cut fits
        shortest = next((i for i in sorted(breaks) if joined[:i].strip()), None)
        assert shortest is None or not budget.measure(_trimmed(joined, shortest) + mark).fits
        return
    assert result.text.endswith(mark)
    body = result.text[: -len(mark)]
    cut = len(body)
    end = cut
    while end < len(joined) and joined[end].isspace():
        end += 1
    assert body and joined.startswith(body)
    assert cut in cluster_boundaries(joined)
    assert end in breaks and joined[end] not in SHADS
    # Nothing longer of the same or a better kind fits (the binary search found the longest).
    if breaks[end] > BreakKind.CLUSTER or not isinstance(budget, BroadcastBudget):
        later = [i for i, kind in sorted(breaks.items()) if i > end and kind >= breaks[end]]
        if later:
            assert not budget.measure(_trimmed(joined, later[0]) + mark).fits


@PROPERTY_SETTINGS
@given(section_text, part_budgets)
def test_split_parts_round_trip_and_every_part_fits(text: str, budget: Budget) -> None:
    normal = normalise(text)
    breaks = [b.index for b in break_opportunities(normal)]
    try:
        parts = split_parts(text, budget, None)
    except ValueError:
        # Only when some stretch between two allowed cuts is too big on its own.
        positions = [0, *breaks, len(normal)]
        assert any(not budget.measure(normal[a:b]).fits for a, b in pairwise(positions))
        return
    assert "".join(parts) == normal
    offset = 0
    for part in parts:
        assert part and budget.measure(part).fits
        _assert_clean(part)
        assert offset == 0 or (offset in breaks and part[0] not in SHADS)
        offset += len(part)
