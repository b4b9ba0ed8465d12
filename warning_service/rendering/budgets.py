"""Budgets: how much of a channel a text takes, and whether it fits.

The measures the channels' budgets are made of (each channel picks its own, with its settings, in
its package): SMS segments in GSM-7 or UCS-2, BeiDou short-message bits, read-out time. Every budget
measures the text after `tibetan.normalise` (NFC changes lengths).
Figures are those of docs/CHANNELS.md.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from types import MappingProxyType
from typing import Protocol

from . import tibetan

# --- SMS -------------------------------------------------------------------

GSM7_SINGLE, GSM7_PER_PART = 160, 153
UCS2_SINGLE, UCS2_PER_PART = 70, 67
TWILIO_MAX_BODY = 1_600  # error 21617; counted in UTF-16 code units (conservative)
CHINA_MAX_SEGMENTS = 8   # Twilio's advice for messages to China
# GSM 03.38 basic character set (without the escape) and its extension table,
# whose characters take an escape septet plus their own.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# --- BeiDou short message ----------------------------------------------------

BDS3_REGIONAL_BITS = 14_000
BDS3_GLOBAL_BITS = 560
BDS2_HIGHEST_LEVEL_BITS = 1_680  # lower BDS-2 levels carry far less: read the card's level
CHINESE_MODE_BITS = 14  # GB2312 zone/position code
CODE_MODE_BITS = 4      # BCD digit
MIXED_MODE_BITS = 8     # per byte
BEIDOU_MODES = ("auto", "mixed")

# --- Cell broadcast --------------------------------------------------------------
# 3GPP TS 23.041 §9.4.1.2: a CBS page is 88 octets, 6 of header and 82 of content; a message has 1 to 15
# pages. Chinese and Tibetan go as UCS-2, two octets a UTF-16 code unit: 41 units a page, 615 a message.
CBS_PAGE_OCTETS = 82
CBS_UNITS_PER_PAGE = CBS_PAGE_OCTETS // 2
CBS_MAX_PAGES = 15

# --- Broadcast read-out ------------------------------------------------------
# Estimates, to be calibrated with recorded speech from the county stations.
HAN_PER_SECOND = 4.0                # ≈ 240 characters a minute, normal broadcast speech
TIBETAN_SYLLABLES_PER_SECOND = 3.0
LATIN_WORDS_PER_SECOND = 2.5
DIGITS_PER_SECOND = 4.0             # a digit is read as about one syllable
SENTENCE_PAUSE_SECONDS = 0.5
DEFAULT_RATES: Mapping[str, float] = MappingProxyType({
    "han": HAN_PER_SECOND,
    "tibetan": TIBETAN_SYLLABLES_PER_SECOND,
    "latin": LATIN_WORDS_PER_SECOND,
    "digit": DIGITS_PER_SECOND,
})


@dataclass(frozen=True)
class Measure:
    units: int     # UTF-16 code units or septets (SMS), bits (BeiDou), tenths of seconds (broadcast)
    parts: int     # SMS segments / BeiDou messages needed / 1 for broadcast
    encoding: str  # "GSM-7" | "UCS-2" | "chinese" | "mixed" | "code" | "speech" | "characters" | "CBS"
    fits: bool

    def describe(self) -> str:
        if self.encoding in ("GSM-7", "UCS-2"):
            noun = "segment" if self.parts == 1 else "segments"
            return f"{self.parts} {self.encoding} {noun} ({self.units:,} units)"
        if self.encoding == "speech":
            seconds = f"{self.units // 10:,}" if self.units % 10 == 0 else f"{self.units / 10:,.1f}"
            return f"{seconds} s read-out"
        if self.encoding == "characters":
            return f"{self.units:,} characters"
        if self.encoding == "CBS":
            return f"{self.parts} CBS {'page' if self.parts == 1 else 'pages'} ({self.units:,} units)"
        messages = f" in {self.parts} messages" if self.parts > 1 else ""
        return f"{self.units:,} bits ({self.encoding}){messages}"


class Budget(Protocol):
    @property
    def name(self) -> str: ...

    def measure(self, text: str) -> Measure: ...


def _cluster_costs(text: str, unit_cost: Callable[[str], int], capacity: int) -> list[int]:
    """Cost of each grapheme cluster, in order; a cluster too big for one part falls back to its code points.

    Segments are filled cluster by cluster, as Twilio's segment calculator does,
    so a Tibetan stack or a surrogate pair never straddles two segments.
    """
    bounds = tibetan.cluster_boundaries(text)
    costs: list[int] = []
    for start, end in pairwise(bounds):
        each = [unit_cost(ch) for ch in text[start:end]]
        if sum(each) > capacity:
            costs.extend(each)
        else:
            costs.append(sum(each))
    return costs


def _pack(costs: Iterable[int], capacity: int) -> int:
    """Parts needed when items are placed in order and none straddles two parts."""
    parts, used = 0, capacity
    for cost in costs:
        if used + cost > capacity:
            parts, used = parts + 1, 0
        used += cost
    return parts


def _gsm7_cost(ch: str) -> int:
    return 2 if ch in GSM7_EXTENSION else 1


def _ucs2_cost(ch: str) -> int:
    """UTF-16 code units: characters beyond the BMP are a surrogate pair."""
    return 2 if ord(ch) > 0xFFFF else 1


def utf16_units(text: str) -> int:
    return sum(map(_ucs2_cost, text))


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


@dataclass(frozen=True)
class SmsBudget:
    """SMS segments: GSM-7 when every character is in GSM 03.38, else UCS-2 in UTF-16 code units."""

    max_segments: int = CHINA_MAX_SEGMENTS

    @property
    def name(self) -> str:
        return f"SMS (up to {self.max_segments} segments)"

    def measure(self, text: str) -> Measure:
        text = tibetan.normalise(text)
        if is_gsm7(text):
            encoding, single, per_part, unit_cost = "GSM-7", GSM7_SINGLE, GSM7_PER_PART, _gsm7_cost
        else:
            encoding, single, per_part, unit_cost = "UCS-2", UCS2_SINGLE, UCS2_PER_PART, _ucs2_cost
        costs = _cluster_costs(text, unit_cost, per_part)
        units = sum(costs)
        parts = _pack(costs, per_part) if units > single else min(units, 1)
        fits = parts <= self.max_segments and utf16_units(text) <= TWILIO_MAX_BODY
        return Measure(units, parts, encoding, fits)


@dataclass(frozen=True)
class CellBroadcastBudget:
    """A cell broadcast message: UTF-16 code units of UCS-2 CBS pages (docs/CHANNELS.md). The CBC cuts
    the text into pages, so only the total counts: at most `max_pages` x 41 units; a character beyond
    the Basic Multilingual Plane counts two, as the SMS budget counts it."""

    max_pages: int = CBS_MAX_PAGES

    @property
    def name(self) -> str:
        return f"cell broadcast (up to {self.max_pages} pages)"

    def measure(self, text: str) -> Measure:
        units = utf16_units(tibetan.normalise(text))
        pages = max(1, math.ceil(units / CBS_UNITS_PER_PAGE))
        return Measure(units, pages, "CBS", units <= self.max_pages * CBS_UNITS_PER_PAGE)


# --- BeiDou ------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _gb2312_double_byte(ch: str) -> bool:
    try:
        return len(ch.encode("gb2312")) == 2
    except UnicodeEncodeError:
        return False


def beidou_mode(text: str) -> str:
    """The cheapest BeiDou coding that carries text: "code" (digits only), "chinese" or "mixed".

    Chinese mode sends 14-bit GB2312 zone/position codes, so it carries only
    GB2312's double-byte characters: ASCII letters and digits force mixed mode
    (write them full-width to stay in Chinese mode).
    """
    if text and text.isascii() and text.isdigit():
        return "code"
    if all(_gb2312_double_byte(ch) for ch in text):
        return "chinese"
    return "mixed"


def mixed_codec(text: str) -> str:
    """Byte encoding of mixed mode: UTF-8 when there is Tibetan (not in GB2312/GBK), else GB18030."""
    return "utf-8" if any(tibetan.is_tibetan(ch) for ch in text) else "gb18030"


@dataclass(frozen=True)
class BeidouBudget:
    """BeiDou short messages of capacity_bits each; fits when max_parts messages carry the text."""

    capacity_bits: int
    mode: str = "auto"  # "auto" picks the cheapest coding; "mixed" for terminals that only send mixed
    max_parts: int = 1

    def __post_init__(self) -> None:
        if self.mode not in BEIDOU_MODES:
            raise ValueError(f"BeiDou mode must be one of {BEIDOU_MODES}, not {self.mode!r}")

    @classmethod
    def bds3_regional(cls, mode: str = "auto", max_parts: int = 1) -> BeidouBudget:
        return cls(BDS3_REGIONAL_BITS, mode, max_parts)

    @classmethod
    def bds3_global(cls, mode: str = "auto", max_parts: int = 1) -> BeidouBudget:
        return cls(BDS3_GLOBAL_BITS, mode, max_parts)

    @classmethod
    def bds2(cls, capacity_bits: int = BDS2_HIGHEST_LEVEL_BITS, mode: str = "auto", max_parts: int = 1) -> BeidouBudget:
        """BDS-2: the capacity depends on the card's communication level (1,680 bits at the highest)."""
        return cls(capacity_bits, mode, max_parts)

    @property
    def name(self) -> str:
        return f"BeiDou ({self.capacity_bits:,} bits)"

    def measure(self, text: str) -> Measure:
        text = tibetan.normalise(text)
        mode = beidou_mode(text) if self.mode == "auto" else "mixed"
        costs = _cluster_costs(text, _beidou_cost(mode, text), self.capacity_bits)
        parts = _pack(costs, self.capacity_bits)
        return Measure(sum(costs), parts, mode, parts <= self.max_parts)


def _beidou_cost(mode: str, text: str) -> Callable[[str], int]:
    if mode == "code":
        return lambda ch: CODE_MODE_BITS
    if mode == "chinese":
        return lambda ch: CHINESE_MODE_BITS
    codec = mixed_codec(text)
    return lambda ch: MIXED_MODE_BITS * len(ch.encode(codec))


# --- Broadcast -----------------------------------------------------------------

@dataclass(frozen=True)
class SpeechCounts:
    han: int = 0
    tibetan: int = 0   # syllables
    latin: int = 0     # words
    digit: int = 0
    pauses: int = 0    # sentence ends


def speech_counts(text: str) -> SpeechCounts:
    """What a reader says: Han characters, Tibetan syllables, Latin words, digits, sentence pauses."""
    han = digit = latin = pauses = 0
    in_word = False
    for j, ch in enumerate(text):
        han += tibetan.is_han(ch)
        digit += ch.isdigit()
        wordy = ch.isalpha() and not tibetan.is_han(ch) and not tibetan.is_tibetan(ch)
        latin += wordy and not in_word
        in_word = wordy
        pauses += tibetan.is_sentence_end(text, j) and not _sentence_continues(text, j + 1)
    return SpeechCounts(han, tibetan.count_syllables(text), latin, digit, pauses)


def _sentence_continues(text: str, j: int) -> bool:
    """The next non-space character (from j) also ends a sentence, so one pause covers both."""
    while j < len(text) and text[j].isspace() and not tibetan.is_sentence_end(text, j):
        j += 1
    return j < len(text) and tibetan.is_sentence_end(text, j)


@dataclass(frozen=True)
class BroadcastBudget:
    """Estimated read-out time of the text on county emergency broadcast (TTS or announcer)."""

    max_seconds: float
    chars_per_second: Mapping[str, float] | None = None  # overrides DEFAULT_RATES by key

    def __post_init__(self) -> None:
        given = self.chars_per_second or {}
        unknown = set(given) - set(DEFAULT_RATES)
        if unknown:
            raise ValueError(f"unknown read-out rates {sorted(unknown)}; known: {sorted(DEFAULT_RATES)}")
        if any(rate <= 0 for rate in given.values()):
            raise ValueError("read-out rates must be positive")

    @property
    def rates(self) -> Mapping[str, float]:
        return {**DEFAULT_RATES, **(self.chars_per_second or {})}

    @property
    def name(self) -> str:
        return f"broadcast ({self.max_seconds:g} s)"

    def seconds(self, text: str) -> Fraction:
        counts = speech_counts(tibetan.normalise(text))
        spoken = sum(Fraction(getattr(counts, key)) / Fraction(rate) for key, rate in self.rates.items())
        return spoken + counts.pauses * Fraction(SENTENCE_PAUSE_SECONDS)

    def measure(self, text: str) -> Measure:
        tenths = math.ceil(self.seconds(text) * 10)
        return Measure(tenths, 1, "speech", tenths <= Fraction(self.max_seconds) * 10)
