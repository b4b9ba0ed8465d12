"""Tibetan (and Chinese) text handling: normalisation, digits, grapheme clusters
and the places where a warning may be cut.

Pure standard library. Indices are Python string (code point) indices. Every
function but `normalise` expects text that went through `normalise` first: NFC
reorders Tibetan vowel signs, so lengths, clusters and breaks are only stable
after it.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

TSHEG = "\u0f0b"
NON_BREAKING_TSHEG = "\u0f0c"
# Shads end a clause or sentence and never start a line (line-break class EX).
SHADS = frozenset("\u0f0d\u0f0e\u0f0f\u0f10\u0f11\u0f14")

# U+0F73, U+0F75, U+0F81 are discouraged: they decompose canonically and NFC
# does not recompose them. U+0F77 and U+0F79 are Deprecated (PropList.txt) and
# only have compatibility decompositions, which NFC keeps; the standard says to
# write all five as their parts, which is what NFKD of each gives
# (U+0F77 -> U+0FB2 U+0F71 U+0F80).
DISCOURAGED = frozenset("\u0f73\u0f75\u0f81\u0f77\u0f79")
_AS_PARTS = {ord(ch): unicodedata.normalize("NFKD", ch) for ch in DISCOURAGED}

_TO_TIBETAN_DIGITS = str.maketrans("0123456789", "\u0f20\u0f21\u0f22\u0f23\u0f24\u0f25\u0f26\u0f27\u0f28\u0f29")
_TO_LATIN_DIGITS = str.maketrans("\u0f20\u0f21\u0f22\u0f23\u0f24\u0f25\u0f26\u0f27\u0f28\u0f29", "0123456789")

ZWNJ, ZWJ = "\u200c", "\u200d"

# Sentence ends; the ASCII ones in _NUMERIC_PUNCT only when no letter or digit
# follows ("4.5", "12:30", "1,000" are not breaks).
_SENTENCE_PUNCT = SHADS | frozenset("。！？；!?;.\uff0e")
_CLAUSE_PUNCT = frozenset("，、：,:")
_NUMERIC_PUNCT = frozenset(".,:;")
_LINE_SEPARATORS = frozenset("\n\r\u2028\u2029\x85")
# Closing brackets and quotes stay with the text before them.
_CLOSING = frozenset("”’）》」』】〕〉］｝)]}\u0f3b\u0f3d")
# Never start a part (UAX #14 classes EX, CL, IS, BA, GL, PO among these
# scripts): a shad, a tsheg, closing brackets, punctuation that ends something,
# a unit sign after a number.
_NO_START = (SHADS | _CLOSING | _SENTENCE_PUNCT | _CLAUSE_PUNCT
             | frozenset("\u0f0b\u0f0c\u0f08\u0f12…‥·%‰℃°′″"))
# Never end a part (classes OP, PR, BB, GL): opening brackets and quotes, Tibetan
# head marks (yig mgo) that introduce the text after them, glue characters.
_NO_END = frozenset("“‘（《「『【〔〈［｛([{¥$€£\u0f3a\u0f3c"
                    "\u0f01\u0f02\u0f03\u0f04\u0f06\u0f07\u0f08\u0f09\u0f0a\u0f0c\u0f12\u0fd0\u0fd1\u0fd3")

_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))


def normalise(text: str) -> str:
    """NFC, with the discouraged and deprecated Tibetan vowel signs written as their parts."""
    return unicodedata.normalize("NFC", text.translate(_AS_PARTS))


def to_tibetan_digits(text: str) -> str:
    """Latin digits 0-9 as Tibetan digits U+0F20-0F29 (CLDR `bo` keeps Latin digits)."""
    return text.translate(_TO_TIBETAN_DIGITS)


def to_latin_digits(text: str) -> str:
    return text.translate(_TO_LATIN_DIGITS)


def is_tibetan(ch: str) -> bool:
    return "\u0f00" <= ch <= "\u0fff"


def is_han(ch: str) -> bool:
    cp = ord(ch)
    return cp == 0x3007 or any(lo <= cp <= hi for lo, hi in _HAN_RANGES)


def count_syllables(text: str) -> int:
    """Tibetan syllables: runs of Tibetan letters and marks, separated by tsheg, shad, space or anything else."""
    count, inside = 0, False
    for ch in text:
        syllabic = is_tibetan(ch) and unicodedata.category(ch)[0] in "LM"
        count += syllabic and not inside
        inside = syllabic
    return count


@lru_cache(maxsize=4096)
def _extends(ch: str) -> bool:
    """Never starts a grapheme cluster: UAX #29 Extend, SpacingMark and ZWJ.

    Covers the Tibetan stack (subjoined letters U+0F90-0FBC and vowel signs are
    Mn, U+0F3E/0F3F/0F7F are Mc), combining marks in general, ZWNJ/ZWJ,
    variation selectors (Mn), emoji modifiers and tag characters.
    """
    cp = ord(ch)
    return (unicodedata.category(ch)[0] == "M" or ch in (ZWNJ, ZWJ)
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F)


@lru_cache(maxsize=4096)
def _is_control(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cc", "Zl", "Zp") or (category == "Cf" and not _extends(ch))


def _is_regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _cluster_starts(text: str) -> list[bool]:
    """starts[i]: a new grapheme cluster begins at i (i in 0..len).

    UAX #29 extended grapheme clusters, simplified to what warnings contain:
    CR LF, controls, marks, ZWJ sequences (no break after ZWJ) and flag pairs.
    Not modelled: Hangul jamo sequences (NFC composes modern ones), Prepend
    characters and Indic conjuncts.
    """
    starts = [True] * (len(text) + 1)
    regional_run = 0
    for i in range(1, len(text)):
        prev, ch = text[i - 1], text[i]
        regional_run = regional_run + 1 if _is_regional(prev) else 0
        if prev == "\r" and ch == "\n":
            starts[i] = False
        elif _is_control(prev) or _is_control(ch):
            continue
        elif _extends(ch) or prev == ZWJ or (_is_regional(ch) and regional_run % 2 == 1):
            starts[i] = False
    return starts


def cluster_boundaries(text: str) -> list[int]:
    """Every index where a grapheme cluster may end, including 0 and len(text).

    A Tibetan stack (base, subjoined letters, vowel signs and marks) is one cluster.
    """
    starts = _cluster_starts(text)
    return [i for i in range(len(text) + 1) if starts[i]]


class BreakKind(IntEnum):
    """How good a place to cut is; higher is better."""

    CLUSTER = 0    # any other grapheme boundary: cuts a syllable or word, last resort
    CHARACTER = 1  # between two Han characters
    PHRASE = 2     # after a tsheg (syllable), a space or clause punctuation (，、：)
    SENTENCE = 3   # after a shad, sentence punctuation (。！？；) or a line break


@dataclass(frozen=True)
class Break:
    index: int
    kind: BreakKind


def is_sentence_end(text: str, j: int) -> bool:
    """text[j] ends a sentence (ASCII . ; only when no letter or digit follows)."""
    ch = text[j]
    if ch in _LINE_SEPARATORS:
        return True
    if ch not in _SENTENCE_PUNCT:
        return False
    return ch not in _NUMERIC_PUNCT or j + 1 == len(text) or not text[j + 1].isalnum()


def _is_clause_end(text: str, j: int) -> bool:
    ch = text[j]
    if ch == TSHEG:
        return True
    if ch not in _CLAUSE_PUNCT:
        return False
    return ch not in _NUMERIC_PUNCT or j + 1 == len(text) or not text[j + 1].isalnum()


def _break_kind(text: str, i: int) -> BreakKind:
    """Kind of a cut before text[i], judged by what precedes it (past spaces and closing brackets)."""
    j, after_space = i, False
    while j > 0 and (text[j - 1] in _CLOSING or text[j - 1].isspace()):
        if text[j - 1] in _LINE_SEPARATORS:
            return BreakKind.SENTENCE
        after_space = after_space or text[j - 1].isspace()
        j -= 1
    if j > 0 and is_sentence_end(text, j - 1):
        return BreakKind.SENTENCE
    if after_space or (j > 0 and _is_clause_end(text, j - 1)):
        return BreakKind.PHRASE
    if j > 0 and is_han(text[j - 1]) and (is_han(text[i]) or text[i] in _NO_END):
        return BreakKind.CHARACTER
    return BreakKind.CLUSTER


def _inside_number(text: str, i: int) -> bool:
    """A cut before text[i] would split a number such as 45, 4.5 or ༤.༥ (and change what it says)."""
    if not text[i].isdigit():
        return False
    prev = text[i - 1]
    return prev.isdigit() or (prev in _NUMERIC_PUNCT and i >= 2 and text[i - 2].isdigit())


def _may_break(text: str, i: int, starts: list[bool]) -> bool:
    ch = text[i]
    return (starts[i] and ch not in _NO_START and not ch.isspace() and not _extends(ch)
            and text[i - 1] not in _NO_END and not _inside_number(text, i))


def break_opportunities(text: str) -> list[Break]:
    """Where text may be cut (0 < index < len), in index order, each with its kind.

    A cut at i keeps text[:i]; what follows never starts with a shad, a tsheg,
    closing punctuation or a space (cuts go after spaces), and what precedes never
    ends with an opening bracket, a head mark or a non-breaking tsheg. Numbers
    are never split. Every index is a cluster boundary.
    """
    starts = _cluster_starts(text)
    return [Break(i, _break_kind(text, i)) for i in range(1, len(text)) if _may_break(text, i, starts)]
