"""Finding counties by what an officer types: a code, or part of the Chinese, Tibetan or English name,
or the pinyin with or without tone marks. The console's county picker (static/console/app.js
`searchKey`) matches the same labels the same way, so a name that finds a county there finds it in
the reports too. Pure: no Flask.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Protocol

from .pinyin import pinyin

# Latin combining marks (tone marks) only: Tibetan vowel signs are marks too and must stay.
_DROPPED = re.compile(r"[\u0300-\u036f\s'’]")


class NamedCounty(Protocol):
    code: str
    name_zh: str
    name_bo: str
    name_en: str


def search_key(text: str) -> str:
    """"Kāng dìng" and "kangding" alike: tone marks, spaces and apostrophes dropped, lower case."""
    return _DROPPED.sub("", unicodedata.normalize("NFD", text)).lower()


def county_label(county: NamedCounty) -> str:
    """The county as the picker lists it and the search reads it: its names and its pinyin."""
    return f"{county.name_zh} {county.name_bo} {county.name_en} · {pinyin(county.name_zh)}"


def matching_counties(counties: Iterable[NamedCounty], wanted: str) -> list[str]:
    """The codes of the counties `wanted` names: the one whose code it is, else every county whose
    label contains it (as the picker filters)."""
    counties = list(counties)
    text = wanted.strip()
    if any(county.code == text for county in counties):
        return [text]
    key = search_key(text)
    if not key:
        return []
    return [county.code for county in counties if key in search_key(county_label(county))]
