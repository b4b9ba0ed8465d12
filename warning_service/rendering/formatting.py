"""Dates, numbers and place names for Chinese (zh) and Tibetan (bo) messages.

Pure functions over Babel (CLDR 47) and the shipped reference data; the
templates use them as Jinja filters. Every Tibetan word here is sourced:
the date pattern and the list conjunction from the bilingual CENC report
(glossary source WXR), the county suffixes from data/regions/SOURCES.md.
Times are shown in Asia/Shanghai, the only civil time of the region.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_skeleton, get_time_format
from babel.numbers import format_decimal

from ..reference_data import county_rows
from .overlay import in_rendering, place_key
from .tibetan import to_tibetan_digits

LANGUAGES: tuple[str, ...] = ("bo", "zh")
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
BABEL_LOCALES = {"zh": "zh_CN", "bo": "bo_CN"}

# 11月7日 = ཟླ་༡༡པའི་ཚེས་༧ཉིན in the bilingual CENC report (glossary row 日（日期）, source WXR).
# CLDR's own bo pattern (ཟླ་བ་བཅུ་གཅིག་པའི་ཚེས་7) is not what PRC Tibetan news write.
_BO_DATE_PATTERN = "'ཟླ་'M'པའི་ཚེས་'d'ཉིན'"
# A quantity in each language; {n} is the formatted number. 公里 = སྤྱི་ལེ (WXR: སྤྱི་ལེ་༡༠).
# No Tibetan word for millimetre is sourced, so bo has no "mm".
_UNITS: dict[tuple[str, str], str] = {
    ("km", "zh"): "{n}公里",
    ("km", "bo"): "སྤྱི་ལེ་{n}",
    ("mm", "zh"): "{n}毫米",
}
_ROMAN_LEVELS = {"red": "I", "orange": "II", "yellow": "III", "blue": "IV"}
# Shads, and Chinese and Latin sentence ends.
_SENTENCE_ENDS = frozenset("།༎༏༐༑༔。！？!?.】")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    return language


def _digits(text: str, language: str, tibetan_digits: bool) -> str:
    """Babel writes Latin digits for bo too (CLDR default numbering latn)."""
    return to_tibetan_digits(text) if language == "bo" and tibetan_digits else text


# --- dates --------------------------------------------------------------------

def _aware(value: datetime) -> datetime:
    """A naive datetime is taken as UTC, as the models store it."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def beijing_time(value: datetime, *, seconds: bool = False) -> str:
    """"2026-12-04 05:04" in Beijing time: how the console, reports and exports show an instant to
    people (officers enter Beijing time; UTC there read as another day), and, to the second, how the
    county platforms' protocol and the ledger's records write one. Machine formats keep offsets."""
    return _aware(value).astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def local_datetime(value: datetime, language: str, *, tibetan_digits: bool = True) -> str:
    """Date and time in Asia/Shanghai: "11月24日 14:30" / "ཟླ་༡༡པའི་ཚེས་༢༤ཉིན ༡༤:༣༠"."""
    locale = BABEL_LOCALES[check_language(language)]
    value = _aware(value)
    if language == "zh":
        date = format_skeleton("MMMd", value, tzinfo=LOCAL_TIME, locale=locale)
    else:
        date = format_datetime(value, _BO_DATE_PATTERN, tzinfo=LOCAL_TIME, locale=locale)
    time = format_datetime(value, get_time_format("short", locale).pattern, tzinfo=LOCAL_TIME, locale=locale)
    return _digits(f"{date} {time}", language, tibetan_digits)


# --- numbers ------------------------------------------------------------------

def number(value: Decimal | int | float, language: str, decimals: int | None = None, *,
           tibetan_digits: bool = True) -> str:
    """A number with the locale's separators; `decimals` fixes the fraction digits."""
    locale = BABEL_LOCALES[check_language(language)]
    pattern = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return _digits(format_decimal(value, pattern, locale=locale), language, tibetan_digits)


def magnitude(value: Decimal | int | float, language: str, *, tibetan_digits: bool = True) -> str:
    """Magnitudes always carry one decimal, as the CENC reports them: 6.8, 5.0."""
    return number(value, language, 1, tibetan_digits=tibetan_digits)


def quantity(value: Decimal | int | float, unit: str, language: str, *, tibetan_digits: bool = True) -> str:
    """A distance or depth in km, or rain in mm: "16公里", "སྤྱི་ལེ་༡༦"."""
    template = _UNITS.get((unit, check_language(language)))
    if template is None:
        raise ValueError(f"no sourced {language} wording for the unit {unit!r}")
    return template.format(n=number(value, language, tibetan_digits=tibetan_digits))


def roman_level(level: str) -> str:
    """China's warning levels: red I, orange II, yellow III, blue IV."""
    try:
        return _ROMAN_LEVELS[level]
    except KeyError:
        raise ValueError(f"unknown level {level!r}") from None


# --- places -------------------------------------------------------------------

@lru_cache(maxsize=1)
def _regions() -> tuple[dict[str, dict[str, str]], dict[str, frozenset[str]]]:
    """Rows by code, and each prefecture's county codes."""
    rows = {row["code"]: row for row in county_rows()}
    members: dict[str, set[str]] = {}
    for code, row in rows.items():
        if code != row["prefecture_code"]:
            members.setdefault(row["prefecture_code"], set()).add(code)
    return rows, {code: frozenset(codes) for code, codes in members.items()}


def place_name(code: str, language: str) -> str:
    """One county, city or prefecture in the language's script.

    name_bo is the bare toponym: a county takes ་རྫོང and a city ་གྲོང་ཁྱེར
    (data/regions/SOURCES.md); prefecture rows carry the full name.
    """
    rows, _ = _regions()
    row = rows.get(code)
    if row is None:
        raise ValueError(f"unknown county or prefecture code {code!r}")
    if check_language(language) == "zh":
        return row["name_zh"]
    name = in_rendering().get(place_key(code)) or row["name_bo"]   # a warning text: the desk's approved name first
    if code == row["prefecture_code"]:
        return name
    suffix = "གྲོང་ཁྱེར" if row["name_zh"].endswith("市") else "རྫོང"
    return f"{name}་{suffix}"


def place_codes(codes: Iterable[str]) -> list[str]:
    """Codes in code order, a prefecture standing for all of its counties."""
    _, members = _regions()
    wanted = set(codes)
    whole = {prefecture for prefecture, counties in members.items() if prefecture in wanted or counties <= wanted}
    covered = {county for prefecture in whole for county in members[prefecture]}
    return sorted((wanted - covered) | whole)


def places(codes: Iterable[str], language: str) -> str:
    """The alert's area as one phrase: "康定市、泸定县" / "དར་མདོ་གྲོང་ཁྱེར་དང་ལྕགས་ཟམ་རྫོང"."""
    return join_list([place_name(code, language) for code in place_codes(codes)], language)


def join_list(items: Sequence[str], language: str) -> str:
    """zh with 、; bo as in the CENC report (WXR): "A་དང་B" for two, "A་དང་། B། C" for more."""
    if check_language(language) == "zh" or len(items) < 2:
        return "、".join(items)
    if len(items) == 2:
        return f"{items[0]}་དང་{items[1]}"
    return " ".join([f"{items[0]}་དང་།", *(end_sentence(item, "bo") for item in items[1:-1]), items[-1]])


def end_sentence(text: str, language: str) -> str:
    """End a sentence: 。 in zh; a shad in bo.

    Tibetan orthography: after ང the tsheg stays (ང་།); after a bare final ཀ or ག,
    whose vertical stroke would merge with it, the shad follows a space (ག །;
    Rangjung Yeshe wiki, "usage of the shad"; Unicode L2/05-073 counts ཀ and ག
    as implying a shad). Text that already ends a sentence is kept, and so is
    Chinese quoted in a Tibetan message.
    """
    text = text.rstrip()
    if not text or text[-1] in _SENTENCE_ENDS:
        return text
    if check_language(language) == "zh":
        return text + "。"
    if _CJK.match(text[-1]):
        return text
    if text[-1] == "ང":
        return text + "་།"
    return text + (" །" if text[-1] in "ཀག" else "།")
