"""Tibetan text handling: normalisation, digits, clusters and break opportunities."""
from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from tests.support.text import PROPERTY_SETTINGS, any_text
from warning_service.rendering.tibetan import (
    DISCOURAGED,
    SHADS,
    Break,
    BreakKind,
    break_opportunities,
    cluster_boundaries,
    count_syllables,
    normalise,
    to_latin_digits,
    to_tibetan_digits,
)


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


# --- normalise and digits ----------------------------------------------------------

def test_normalise_writes_discouraged_vowel_signs_as_parts() -> None:
    assert normalise("\u0f40\u0f73") == "\u0f40\u0f71\u0f72"
    assert normalise("\u0f40\u0f75") == "\u0f40\u0f71\u0f74"
    assert normalise("\u0f40\u0f81") == "\u0f40\u0f71\u0f80"
    assert unicodedata.is_normalized("NFC", normalise("\u0f40\u0f73"))


def test_normalise_decomposes_deprecated_vocalic_signs_to_their_compatibility_parts() -> None:
    assert normalise("\u0f62\u0f77") == "\u0f62\u0fb2\u0f71\u0f80"
    assert normalise("\u0f63\u0f79") == "\u0f63\u0fb3\u0f71\u0f80"


def test_normalise_reorders_vowel_signs() -> None:
    # U+0F74 (ccc 132) after U+0F72 (ccc 130): NFC puts them in canonical order.
    assert normalise("\u0f40\u0f74\u0f72") == "\u0f40\u0f72\u0f74"


@PROPERTY_SETTINGS
@given(any_text)
def test_normalise_is_nfc_without_discouraged_signs_and_idempotent(text: str) -> None:
    result = normalise(text)
    assert unicodedata.is_normalized("NFC", result)
    assert not DISCOURAGED & set(result)
    assert normalise(result) == result


def test_digits_both_ways() -> None:
    assert to_tibetan_digits("M4.5, 2025") == "M\u0f24.\u0f25, \u0f22\u0f20\u0f22\u0f25"
    assert to_latin_digits("\u0f24.\u0f25") == "4.5"


@given(st.text())
def test_digits_round_trip_on_latin_digits(text: str) -> None:
    latin = to_latin_digits(text)
    assert to_latin_digits(to_tibetan_digits(latin)) == latin


# --- clusters ------------------------------------------------------------------------

def test_a_tibetan_stack_is_one_cluster() -> None:
    # སྒྲུབ: sa, subjoined ga, subjoined ra, vowel u | ba
    assert cluster_boundaries("\u0f66\u0f92\u0fb2\u0f74\u0f56") == [0, 4, 5]


def test_clusters_of_emoji_flags_and_crlf() -> None:
    assert cluster_boundaries("👩\u200d🚒x") == [0, 3, 4]
    assert cluster_boundaries("🇨🇳🇨🇳") == [0, 2, 4]
    assert cluster_boundaries("a\r\nb") == [0, 1, 3, 4]
    assert cluster_boundaries("a\ufe0f") == [0, 2]
    assert cluster_boundaries("") == [0]


@PROPERTY_SETTINGS
@given(any_text)
def test_clusters_never_start_with_a_mark(text: str) -> None:
    text = normalise(text)
    bounds = cluster_boundaries(text)
    assert bounds[0] == 0 and bounds[-1] == len(text) and bounds == sorted(set(bounds))
    for i in bounds[1:-1]:
        after_control = unicodedata.category(text[i - 1]) in ("Cc", "Cf") and text[i - 1] != "\u200d"
        assert after_control or not (_is_mark(text[i]) or text[i] in "\u200c\u200d"), (text, i)


# --- breaks ---------------------------------------------------------------------------

def test_break_after_a_shad_pair_not_before_the_second_shad() -> None:
    # ཡིན། །ཁྱེད: no part may start with the second shad or the space
    assert break_opportunities("\u0f61\u0f72\u0f53\u0f0d \u0f0d\u0f41\u0fb1\u0f7a\u0f51") == [
        Break(2, BreakKind.CLUSTER), Break(6, BreakKind.SENTENCE), Break(9, BreakKind.CLUSTER),
    ]


def test_tsheg_breaks_but_not_before_a_shad_nor_after_a_non_breaking_tsheg() -> None:
    # ང་། : tsheg then shad; ཀ༌ཁ : non-breaking tsheg
    assert break_opportunities("\u0f44\u0f0b\u0f0d\u0f40") == [Break(3, BreakKind.SENTENCE)]
    assert break_opportunities("\u0f40\u0f0b\u0f41") == [Break(2, BreakKind.PHRASE)]
    assert break_opportunities("\u0f40\u0f0c\u0f41") == []


def test_chinese_breaks_prefer_punctuation() -> None:
    kinds = {b.index: b.kind for b in break_opportunities("预警。请注意，远离“河道”。地震4.5级")}
    assert kinds[3] == BreakKind.SENTENCE          # after 。
    assert kinds[7] == BreakKind.PHRASE            # after ，
    assert kinds[1] == BreakKind.CHARACTER         # between 预 and 警
    assert 10 not in kinds                         # never after an opening quote
    assert 12 not in kinds and 13 not in kinds     # nor before a closing quote or 。
    assert kinds[14] == BreakKind.SENTENCE         # after ”。
    assert not {17, 18} & set(kinds)               # 4.5 stays whole


def test_latin_breaks() -> None:
    kinds = {b.index: b.kind for b in break_opportunities("Leave now. Go (uphill) at 12:30.")}
    assert kinds[6] == BreakKind.PHRASE and kinds[11] == BreakKind.SENTENCE
    assert 15 not in kinds  # not after an opening bracket
    assert not {28, 29, 30} & set(kinds)


@PROPERTY_SETTINGS
@given(any_text)
def test_every_break_is_a_cluster_boundary_and_never_starts_a_part_badly(text: str) -> None:
    text = normalise(text)
    bounds = set(cluster_boundaries(text))
    breaks = break_opportunities(text)
    assert [b.index for b in breaks] == sorted({b.index for b in breaks})
    for index in (b.index for b in breaks):
        assert 0 < index < len(text) and index in bounds
        assert text[index] not in SHADS and text[index] not in "\u0f0b\u0f0c" and not text[index].isspace()
        assert text[index - 1] != "\u0f0c"
        assert not (text[index - 1].isdigit() and text[index].isdigit())


def test_count_syllables() -> None:
    assert count_syllables("\u0f56\u0f40\u0fb2\u0f0b\u0f64\u0f72\u0f66\u0f0b\u0f56\u0f51\u0f7a\u0f0b\u0f63\u0f7a\u0f42\u0f66\u0f0d") == 4
    assert count_syllables("\u0f24.\u0f25 abc 中文") == 0
