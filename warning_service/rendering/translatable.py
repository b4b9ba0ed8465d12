"""Every piece of Tibetan the public can receive, listed from templates_bo_zh/ and the reference data.

The translation desk (services/translations.py) keeps one entry per item. Each item names its Chinese
(and English), the texts it is used in, and its Tibetan where a source gives one; the desk's approved
Tibetan is laid over the rest (overlay.py). Nothing here writes Tibetan: `bo` is copied from the files.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..hazards import DEFAULT_ACTION
from ..reference_data import county_rows
from .overlay import action_key, chosen_action_key, hazard_key, place_key, term_key
from .render import ACTION_TERM, TemplateSet

# The colour words of partials/level.bo.j2, sourced there (ཉེན་བརྡ TIBECO-2022; colours [high], ལི་ཁྲི [medium]).
LEVEL_NAMES = {
    "red": ("红色预警", "red warning", "ཉེན་བརྡ་དམར་པོ"),
    "orange": ("橙色预警", "orange warning", "ཉེན་བརྡ་ལི་ཁྲི"),
    "yellow": ("黄色预警", "yellow warning", "ཉེན་བརྡ་སེར་པོ"),
    "blue": ("蓝色预警", "blue warning", "ཉེན་བརྡ་སྔོན་པོ"),
}
LEVEL_SOURCE = "glossary.csv 预警 (TIBECO-2022) and the colour rows; templates_bo_zh/messages/partials/level.bo.j2"
# A term a template stands in for literally: untranslated("取消").
_LITERAL_TERM = re.compile(r"""untranslated\(\s*["']([^"']+)["']\s*\)""")


@dataclass(frozen=True)
class Item:
    key: str
    kind: str                 # hazard, action, level, term, place (catalog and named areas: the desk adds them)
    zh: str
    en: str
    bo: str                   # the sourced Tibetan, or ""
    source: str               # where bo comes from
    hazard_code: str | None
    channels: tuple[str, ...]
    used_in: str


def items(templates: TemplateSet) -> Iterator[Item]:
    """Hazard names, default actions per level, protective actions by code, level names, template terms, counties."""
    texts = templates.texts
    sources = {text: _source(templates, text) for text in texts}
    acting = tuple(text for text in texts if "what_to_do" in sources[text] or "action" in sources[text])
    for hazard in templates.hazards:
        yield Item(hazard_key(hazard.code), "hazard", hazard.names["zh"], hazard.names["en"], hazard.names["bo"],
                   hazard.bo_source if hazard.names["bo"] else "", hazard.code, texts,
                   "the hazard's name, first in every message")
        for level in (*hazard.levels, DEFAULT_ACTION):
            action = hazard.actions[level]
            yield Item(action_key(hazard.code, level), "action", action["zh"], action["en"], action.get("bo", ""),
                       "hazards.toml" if action.get("bo") else "", hazard.code, acting,
                       f"what to do ({ACTION_TERM}), {level}")
    for code, chosen in templates.hazards.protective_actions.items():
        offered = sorted({hazard.code for hazard in templates.hazards if any(code in codes for codes in
                                                                             hazard.choices.values())})
        yield Item(chosen_action_key(code), "action", chosen.zh, chosen.en, chosen.bo, chosen.bo_source, None, acting,
                   f"what to do ({ACTION_TERM}), chosen as {code} for {', '.join(offered) or 'no hazard'}")
    for level, (zh, en, bo) in LEVEL_NAMES.items():
        yield Item(f"level:{level}", "level", zh, en, bo, LEVEL_SOURCE, None, texts, "the level after the hazard")
    literal = {term for text in texts for term in _LITERAL_TERM.findall(sources[text])}
    for term in sorted(literal):
        used = tuple(text for text in texts if f'untranslated("{term}")' in sources[text])
        yield Item(term_key(term), "term", term, "", "", "", None, used, "template wording (untranslated)")
    for row in county_rows():
        yield Item(place_key(row["code"]), "place", row["name_zh"], row["name_en"], row["name_bo"],
                   row["source_bo"], None, texts, "place names")


def _source(templates: TemplateSet, text: str) -> str:
    """The Tibetan default template of a text and everything it imports, as one source."""
    return "\n".join(templates.source(name) for name in templates.chain(f"default/{text}.bo.j2"))
