"""Hanyu pinyin of place names, so an officer can find a county by typing "kangding" or "kāngdìng".

The bundled county data has no pinyin (its English names are romanised, without tone marks,
and not for every name), so it is derived with pypinyin. Imported on first use: its
dictionaries take tens of MB, which only the processes that render the compose page need.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=256)
def pinyin(name_zh: str) -> str:
    """"kāng dìng shì": tone marks, a space between syllables; other characters as they are."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(name_zh, style=Style.TONE))
