"""CBS message identifiers (3GPP TS 23.041 §9.4.1.2.2): the number a handset filters and shows by.

A handset decides from the message identifier alone whether to sound, show or drop a cell
broadcast, so the choice is data, reviewed like the hazard catalogue, and each operator may
override it (its CBC or its handsets' settings may differ). Chinese is the first language;
Tibetan goes out under the identifier TS 23.041 reserves for the same alert in an additional
language. ETWS identifiers (4352-4356) have no language variant: both languages use them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

FIRST_LANGUAGE = "zh"
ADDITIONAL_LANGUAGE = "bo"
EARTHQUAKE_EARLY_WARNING = "earthquake_early_warning"  # the hazard code of templates_bo_zh/hazards.toml
LEVELS = ("red", "orange", "yellow", "blue")
# Mapping keys besides the levels: what decides the identifier before the level does.
EEW, EXERCISE, TEST, UNLEVELLED = "earthquake_early_warning", "exercise", "test", "unlevelled"
# TS 23.041 reserves 4352-6399 (0x1100-0x18FF) for the Public Warning System.
PWS_RANGE = range(4352, 6400)


@dataclass(frozen=True)
class Identifier:
    """One message identifier of TS 23.041 table 9.4.1.2.2 and what the table says it means."""

    number: int
    meaning: str
    additional_language: bool  # the variant for "additional languages" of a CMAS identifier
    language_neutral: bool = False  # ETWS: one identifier whatever the language


# The identifiers the mapping uses, with the meaning TS 23.041 gives them (CMAS names; EU-Alert
# uses the same numbers).
STANDARD: Mapping[int, Identifier] = MappingProxyType({i.number: i for i in (
    Identifier(4352, "ETWS earthquake warning", False, language_neutral=True),
    Identifier(4370, "CMAS Presidential Level Alert (cannot be switched off)", False),
    Identifier(4371, "CMAS Extreme Alert: severity Extreme, urgency Immediate, certainty Observed", False),
    Identifier(4373, "CMAS Severe Alert: severity Extreme, urgency Expected, certainty Observed", False),
    Identifier(4380, "CMAS Required Monthly Test", False),
    Identifier(4381, "CMAS Exercise", False),
    Identifier(4383, "CMAS Presidential Level Alert, additional languages", True),
    Identifier(4384, "CMAS Extreme Alert (Extreme, Immediate, Observed), additional languages", True),
    Identifier(4386, "CMAS Severe Alert (Extreme, Expected, Observed), additional languages", True),
    Identifier(4393, "CMAS Required Monthly Test, additional languages", True),
    Identifier(4394, "CMAS Exercise, additional languages", True),
    Identifier(4396, "CMAS Public Safety Alert", False),
    Identifier(4397, "CMAS Public Safety Alert, additional languages", True),
)})

# key -> (first language, additional language). Levels follow the Emergency Response Law's I-IV
# from the most to the least severe CMAS class; blue and unlevelled reports (earthquake reports,
# aftershocks) are public-safety information. Test (the link test) uses the monthly-test pair.
DEFAULT_IDENTIFIERS: Mapping[str, tuple[int, int]] = MappingProxyType({
    EEW: (4352, 4352),
    "red": (4370, 4383),
    "orange": (4371, 4384),
    "yellow": (4373, 4386),
    "blue": (4396, 4397),
    UNLEVELLED: (4396, 4397),
    EXERCISE: (4381, 4394),
    TEST: (4380, 4393),
})


class UnmappedAlert(ValueError):
    """No identifier fits: a status that is never broadcast, a level or a language not mapped."""


def mapping_key(level: str | None, hazard: str, status: str) -> str:
    """Which row of the mapping an alert uses: the status first (an exercise earthquake early
    warning must still be an exercise on the handset), then earthquake early warning, then the level."""
    if status == "Test":
        return TEST
    if status == "Exercise":
        return EXERCISE
    if status != "Actual":
        raise UnmappedAlert(f"a {status} message is never broadcast")
    if hazard == EARTHQUAKE_EARLY_WARNING:
        return EEW
    if level is None:
        return UNLEVELLED
    if level not in LEVELS:
        raise UnmappedAlert(f"no identifier for level {level!r}")
    return level


def message_identifier(level: str | None, hazard: str, status: str, language: str,
                       overrides: Mapping[str, Sequence[int]] | None = None) -> int:
    """The CBS_MESSAGE_IDENTIFIER for one <info> block.

    `language` is "zh"/"bo" or a CAP tag such as "zh-CN"; `overrides` is an operator's own rows,
    key -> (first language, additional language), checked with `check_overrides`.
    """
    key = mapping_key(level, hazard, status)
    first, additional = {**DEFAULT_IDENTIFIERS, **(overrides or {})}[key]
    primary = language.split("-", 1)[0].lower()
    if primary == FIRST_LANGUAGE:
        return first
    if primary == ADDITIONAL_LANGUAGE:
        return additional
    raise UnmappedAlert(f"no identifier for language {language!r}")


def check_overrides(overrides: Mapping[str, Sequence[int]]) -> list[str]:
    """What is wrong with an operator's overrides (empty when nothing): known keys, two
    identifiers each, both in the PWS range, so a typo cannot send a warning on a channel
    no handset listens to."""
    problems = []
    for key, pair in overrides.items():
        if key not in DEFAULT_IDENTIFIERS:
            problems.append(f"{key!r} is not one of {', '.join(DEFAULT_IDENTIFIERS)}")
        elif len(pair) != 2:
            problems.append(f"{key}: give two identifiers, first and additional language")
        elif not all(isinstance(n, int) and n in PWS_RANGE for n in pair):
            problems.append(f"{key}: identifiers must be whole numbers from {PWS_RANGE.start} to {PWS_RANGE.stop - 1}")
    return problems
