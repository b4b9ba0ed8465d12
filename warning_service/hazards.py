"""The region's hazard catalogue: what each hazard is called, who may issue it,
its warning levels, queues and default actions.

The data lives in templates_bo_zh/hazards.toml (reviewed by people); this module
reads and checks it, and maps what agencies send (CAP event codes, event names
with the level written inside, CAP severities) to a hazard and a level code.

Pure standard library: no Flask, no database. Level codes are plain strings;
LEVELS, QUEUES and AGENCY_KINDS mirror models.alert.Level,
extensions.QUEUE_NAMES and models.agency.AgencyKind (a test keeps them equal)
so that importing this module never needs the models.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

LEVELS: tuple[str, ...] = ("red", "orange", "yellow", "blue")
QUEUES: tuple[str, ...] = ("critical", "high", "default", "low")
AGENCY_KINDS: tuple[str, ...] = ("seismic", "geology", "weather", "forestry", "hydrology", "tourism", "other")
CAP_CATEGORIES: tuple[str, ...] = (
    "Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other",
)
BO_STATUSES: tuple[str, ...] = ("sourced", "awaiting_review")
# Our own CAP <eventCode> valueName: its value is a hazard code of this catalogue.
EWS_VALUE_NAME = "EWS-HAZARD"
# Hazards whose every alert goes to the critical queue, whatever the level.
ALWAYS_CRITICAL: frozenset[str] = frozenset({"earthquake_early_warning"})
# How long an Actual alert sent without `expires` stays in force, unless its hazard sets `validity_hours`.
DEFAULT_VALIDITY_HOURS = 24
MAX_VALIDITY_HOURS = 24 * 30
# Key of the action used for alerts without a level.
DEFAULT_ACTION = "default"
# The CAP <parameter> valueName naming a chosen protective action by its code (repeated, or codes separated
# by spaces or commas); an alert keeps its codes in its parameters under this name, separated by spaces.
ACTION_PARAMETER = "ACTION_CODE"
# Event names matched once per catalogue and remembered: how many, and the longest (any longer is matched afresh).
MATCHED_NAMES_KEPT = 1024
MATCHED_NAME_MAX_CHARS = 200

CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "templates_bo_zh" / "hazards.toml"

# Discouraged Tibetan vowel signs: they decompose canonically and NFC does not
# recompose them, so stored text writes them as their parts.
DISCOURAGED_TIBETAN = frozenset("\u0f73\u0f75\u0f81")

_CODE_RE = re.compile(r"[a-z][a-z0-9_]*")
_OASIS_RE = re.compile(r"OET-\d{3}")
_NATIONAL_RE = re.compile(r"\d{2}[A-Z]\d{2}")
_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_TIBETAN_RE = re.compile(r"[\u0f00-\u0fff]")
_SEPARATORS_RE = re.compile(r"[\s_\-]+")

_HAZARD_KEYS = frozenset({
    "code", "names", "bo_status", "bo_source", "bo_candidates", "cap_category", "cap_events", "zh_aliases",
    "oasis_event_codes", "national_event_codes", "agency_kinds", "levels", "priority", "priority_default", "actions",
    "parameters", "validity_hours",
})


@dataclass(frozen=True)
class ParameterRule:
    """A numeric CAP parameter the message templates read (as `numbers.<name>`), and its plausible range."""

    minimum: Decimal
    maximum: Decimal
    unit: str  # "" (magnitude), "km", "mm", "°"


# The parameters a hazard may define (hazards.toml `parameters`); intake checks their values.
PARAMETER_RULES: Mapping[str, ParameterRule] = MappingProxyType({
    "magnitude": ParameterRule(Decimal(0), Decimal(10), ""),
    "depth_km": ParameterRule(Decimal(0), Decimal(700), "km"),
    "latitude": ParameterRule(Decimal(-90), Decimal(90), "°"),
    "longitude": ParameterRule(Decimal(-180), Decimal(180), "°"),
    "rain_mm": ParameterRule(Decimal(0), Decimal(2000), "mm"),
})
_ACTION_KEYS = frozenset({"zh", "en", "bo", "bo_source", "choices"})
_PROTECTIVE_KEYS = frozenset({"zh", "en", "bo", "bo_source"})


class CatalogueError(ValueError):
    """The catalogue file is unreadable or breaks a rule; the message names the hazard and field."""


@dataclass(frozen=True, eq=False)  # one object per hazard: compared and hashed by identity
class Hazard:
    code: str
    names: Mapping[str, str]                   # zh, en, bo ("" until a sourced term exists)
    bo_status: str                             # "sourced" or "awaiting_review"
    bo_source: str                             # glossary row or citation for bo (or for bo_candidates)
    bo_candidates: tuple[str, ...]             # attested candidates for reviewers; never rendered
    cap_category: str
    cap_events: tuple[str, ...]
    zh_aliases: tuple[str, ...]
    oasis_event_codes: tuple[str, ...]
    national_event_codes: tuple[str, ...]
    agency_kinds: frozenset[str]
    levels: tuple[str, ...]                    # empty: the hazard has no colour levels
    priority: Mapping[str, str]                # level -> queue
    priority_default: str                      # queue for alerts without one of the hazard's levels
    actions: Mapping[str, Mapping[str, str]]   # level or "default" -> lang -> text
    parameters: tuple[str, ...] = ()           # keys of PARAMETER_RULES its alerts carry (magnitude, rain_mm, ...)
    validity_hours: int = DEFAULT_VALIDITY_HOURS  # an Actual alert sent without `expires` ends this long after onset
    choices: Mapping[str, tuple[str, ...]] = dataclass_field(default_factory=dict)  # level or "default" -> protective action codes

    def choices_for(self, level: str | None) -> tuple[str, ...]:
        """The protective actions an officer may tick (an agency may name) at this level."""
        return self.choices.get(level if level in self.levels else DEFAULT_ACTION, ())

    def queue_for(self, level: str | None) -> str:
        """The RQ queue for an alert of this hazard at this level.

        A level the hazard does not use (or none) takes priority_default.
        """
        if level is not None and level not in LEVELS:
            raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
        return self.priority.get(level, self.priority_default) if level else self.priority_default


@dataclass(frozen=True)
class ProtectiveAction:
    """One protective action, chosen by code (ACTION_CODE) rather than typed: zh and en, bo only with its source."""

    code: str
    zh: str
    en: str
    bo: str = ""
    bo_source: str = ""


class HazardCatalogue:
    """The hazards in file order, with look-ups by code, event code and event name, and the protective
    actions their levels offer (`protective_actions`, by code)."""

    def __init__(self, hazards: list[Hazard], protective_actions: Mapping[str, ProtectiveAction] | None = None) -> None:
        self.protective_actions: Mapping[str, ProtectiveAction] = MappingProxyType(dict(protective_actions or {}))
        self._hazards = tuple(hazards)
        self._by_code = {hazard.code: hazard for hazard in hazards}
        self._by_oasis = {code: hazard for hazard in hazards for code in hazard.oasis_event_codes}
        self._by_national = {code: hazard for hazard in hazards for code in hazard.national_event_codes}
        self._aliases = [_Alias(alias, hazard) for hazard in hazards for alias in alias_keys(hazard)]
        # Agencies send the same few event names again and again, and matching one tries every alias.
        self._matched_names = lru_cache(maxsize=MATCHED_NAMES_KEPT)(self._match_event_name)

    def __iter__(self) -> Iterator[Hazard]:
        return iter(self._hazards)

    def __len__(self) -> int:
        return len(self._hazards)

    def all(self) -> list[Hazard]:
        return list(self._hazards)

    def get(self, code: str) -> Hazard | None:
        return self._by_code.get(code)

    def match_event_code(self, value_name: str, value: str) -> Hazard | None:
        """A CAP <eventCode>: ours (EWS-HAZARD), OASIS (OET, OET:v1.2) or a national event type."""
        name, value = value_name.strip().casefold(), value.strip()
        if name == EWS_VALUE_NAME.casefold():
            return self.get(value.casefold())
        if name == "oet" or name.startswith("oet:"):
            return self._by_oasis.get(value.upper())
        # China's platform sends its event type (e.g. 11B03) under no agreed valueName.
        return self._by_national.get(value.upper())

    def match_event_name(self, text: str) -> tuple[Hazard, str | None] | None:
        """`_match_event_name`, remembered for the names short enough to be real ones."""
        if len(text) > MATCHED_NAME_MAX_CHARS:
            return self._match_event_name(text)
        return self._matched_names(text)

    def _match_event_name(self, text: str) -> tuple[Hazard, str | None] | None:
        """Hazard and level from an event name such as "暴雨橙色预警" or "Red Rainstorm Warning".

        The longest matching alias wins (地震预警 over 地震); between equally long
        ones, the later one, since a Chinese name ends with its hazard
        ("强降雨引发泥石流"). The level is returned only when the hazard uses it
        (an earthquake report has no colour levels).
        """
        spaced = normalise(text)
        compact = spaced.replace(" ", "")
        found = [
            (len(alias.key), end, alias.hazard)
            for alias in self._aliases
            if (end := alias.end_in(spaced, compact)) >= 0
        ]
        if not found:
            return None
        hazard = max(found, key=lambda match: match[:2])[2]
        level = level_from_text(text)
        return hazard, level if level in hazard.levels else None


def action_codes(parameters: Mapping[str, str]) -> tuple[str, ...]:
    """The protective action codes an alert's parameters carry, in order."""
    return tuple(parameters.get(ACTION_PARAMETER, "").split())


def normalise(text: str) -> str:
    """NFKC (full-width forms, Ⅳ -> IV), case-folded, separators collapsed to one space."""
    return _SEPARATORS_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def alias_key(text: str) -> str:
    """A name as matched: normalised, and without spaces when Chinese (暴 雨 = 暴雨)."""
    key = normalise(text)
    return key.replace(" ", "") if _CJK_RE.search(key) else key


def alias_keys(hazard: Hazard) -> set[str]:
    """Every normalised name an agency may use for the hazard."""
    return {key for _, key in _alias_fields(hazard)}


def _alias_fields(hazard: Hazard) -> list[tuple[str, str]]:
    """(field, normalised alias) for the names, zh_aliases and cap_events of a hazard."""
    return [
        *((f"names.{lang}", alias_key(hazard.names[lang])) for lang in ("zh", "en")),
        *(("zh_aliases", alias_key(alias)) for alias in hazard.zh_aliases),
        *(("cap_events", alias_key(alias)) for alias in hazard.cap_events),
    ]


class _Alias:
    """One normalised name of a hazard, and how to find it in an event name."""

    def __init__(self, key: str, hazard: Hazard) -> None:
        self.key, self.hazard = key, hazard
        # Chinese: a substring, spaces ignored. English: whole words, plural allowed ("Strong Winds").
        self._compact = key if _CJK_RE.search(key) else None
        self._words = re.compile(rf"(?<![a-z0-9]){re.escape(key)}(?:s|es)?(?![a-z0-9])")

    def end_in(self, spaced: str, compact: str) -> int:
        """Where the last occurrence ends, or -1."""
        if self._compact is not None:
            start = compact.rfind(self._compact)
            return start + len(self._compact) if start >= 0 else -1
        return max((match.end() for match in self._words.finditer(spaced)), default=-1)


# --- levels -------------------------------------------------------------------

_COLOUR_WORDS = {"红色": "red", "橙色": "orange", "黄色": "yellow", "蓝色": "blue"}
_ENGLISH_WORDS = {"red": "red", "orange": "orange", "amber": "orange", "yellow": "yellow", "blue": "blue"}
_ROMAN = {"i": "red", "ii": "orange", "iii": "yellow", "iv": "blue"}
_CHINESE_NUMERALS = {"一": "red", "二": "orange", "三": "yellow", "四": "blue"}
_LEVEL_PATTERNS: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (re.compile("(红色|橙色|黄色|蓝色)"), _COLOUR_WORDS),
    (re.compile(r"(?<![a-z0-9])(red|orange|amber|yellow|blue)(?![a-z0-9])"), _ENGLISH_WORDS),
    (re.compile(r"(?<![a-z0-9])(iv|iii|ii|i) ?级"), _ROMAN),
    # Not 十一级 / 五至六级 (wind force) and not 四级以上 / 四级风: those are measures, not warning levels.
    (re.compile("(?<![零一二三四五六七八九十两几至到~])(一|二|三|四)级(?![以风阵])"), _CHINESE_NUMERALS),
)
# "…黄色预警升级为橙色预警": the level in force is the one after the change.
_CHANGE_RE = re.compile("(升级为|降级为|调整为|变更为|更改为|upgraded to|downgraded to|raised to|lowered to)")
_SEVERITIES = {
    "extreme": "red", "severe": "orange", "moderate": "yellow", "minor": "blue",
    # China's national platform writes the colour into <severity> (e.g. <severity>Blue</severity>).
    "red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue",
}


def level_from_text(text: str) -> str | None:
    """The warning level written in a text: 橙色, Ⅱ级, II 级, 二级, "orange", "amber"; None if none."""
    normalised = normalise(text)
    changes = list(_CHANGE_RE.finditer(normalised))
    if changes:
        normalised = normalised[changes[-1].end():]
    compact = re.sub(r"(?<=[^a-z0-9]) | (?=[^a-z0-9])", "", normalised)  # "II 级" -> "II级", "暴雨 橙色" -> "暴雨橙色"
    found = [
        (match.start(), table[match.group(1)])
        for pattern, table in _LEVEL_PATTERNS
        for match in pattern.finditer(compact)
    ]
    return min(found)[1] if found else None


def level_from_severity(severity: str | None) -> str | None:
    """CAP severity to a level: Extreme red, Severe orange, Moderate yellow, Minor blue; Unknown/empty None."""
    return _SEVERITIES.get((severity or "").strip().casefold())


# --- loading ------------------------------------------------------------------

def load_catalogue(path: Path) -> HazardCatalogue:
    """Read and check the catalogue; raise CatalogueError naming the hazard and field at fault."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue: {exc}") from exc
    entries = data.get("hazard")
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{path}: no [[hazard]] entries")
    hazards = [_hazard(entry, index) for index, entry in enumerate(entries)]
    _check_unique(hazards)
    protective = _protective_actions(data.get("protective_actions", {}))
    for hazard in hazards:
        for level, codes in hazard.choices.items():
            if unknown := [code for code in codes if code not in protective]:
                raise CatalogueError(f"hazard {hazard.code!r}, field 'actions.{level}.choices': "
                                     f"unknown protective action {unknown[0]!r} (see [protective_actions])")
    return HazardCatalogue(hazards, protective)


def _protective_actions(table: Any) -> dict[str, ProtectiveAction]:
    """[protective_actions.<code>]: zh and en; bo only beside a bo_source (sourced, or exported from the desk)."""
    if not isinstance(table, dict):
        raise CatalogueError("protective_actions must be a table of [protective_actions.<code>]")
    result = {}
    for code, texts in table.items():
        where = f"protective action {code!r}"
        if not _CODE_RE.fullmatch(code):
            raise CatalogueError(f"{where}: a code is lower-case letters, digits and underscores")
        if not isinstance(texts, dict) or set(texts) - _PROTECTIVE_KEYS:
            raise CatalogueError(f"{where}: expected zh, en and optionally bo with bo_source")
        values = {key: texts.get(key, "") for key in _PROTECTIVE_KEYS}
        if not all(isinstance(value, str) for value in values.values()) or not (values["zh"].strip()
                                                                                and values["en"].strip()):
            raise CatalogueError(f"{where}: zh and en are required strings")
        if bool(values["bo"].strip()) != bool(values["bo_source"].strip()):
            raise CatalogueError(f"{where}: bo and bo_source go together")
        if values["bo"] and not (_TIBETAN_RE.search(values["bo"]) and unicodedata.is_normalized("NFC", values["bo"])
                                 and not DISCOURAGED_TIBETAN & set(values["bo"])):
            raise CatalogueError(f"{where}: bo {values['bo']!r} is not NFC Tibetan with the vowel signs as parts")
        result[code] = ProtectiveAction(code, values["zh"], values["en"], values["bo"], values["bo_source"])
    return result


@lru_cache(maxsize=1)
def catalogue() -> HazardCatalogue:
    """The shipped catalogue, read once per process."""
    return load_catalogue(CATALOGUE_PATH)


class _Fields:
    """Typed access to one [[hazard]] table; every error names the hazard and the field."""

    def __init__(self, entry: Any, index: int) -> None:
        if not isinstance(entry, dict):
            raise CatalogueError(f"hazard #{index + 1}: not a table")
        code = entry.get("code")
        self.label = f"hazard {code!r}" if isinstance(code, str) and code else f"hazard #{index + 1}"
        self.entry = entry

    def error(self, field: str, problem: str) -> CatalogueError:
        return CatalogueError(f"{self.label}, field {field!r}: {problem}")

    def text(self, field: str, table: dict | None = None, name: str | None = None, required: bool = True) -> str:
        value = (self.entry if table is None else table).get(name or field, "")
        if not isinstance(value, str):
            raise self.error(field, f"must be a string, not {value!r}")
        if required and not value.strip():
            raise self.error(field, "is missing or empty")
        return value

    def strings(self, field: str, required: bool = False) -> tuple[str, ...]:
        value = self.entry.get(field, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self.error(field, "must be a list of non-empty strings")
        if required and not value:
            raise self.error(field, "must not be empty")
        seen: set[str] = set()
        for item in value:
            key = alias_key(item)
            if key in seen:
                raise self.error(field, f"duplicate entry {item!r}")
            seen.add(key)
        return tuple(value)

    def choices(self, field: str, allowed: tuple[str, ...], required: bool = False) -> tuple[str, ...]:
        values = self.strings(field, required)
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise self.error(field, f"unknown value(s) {', '.join(map(repr, unknown))}; expected {', '.join(allowed)}")
        return values

    def table(self, field: str) -> dict:
        value = self.entry.get(field)
        if not isinstance(value, dict):
            raise self.error(field, "is missing or not a table")
        return value

    def tibetan(self, field: str, value: str) -> None:
        if not unicodedata.is_normalized("NFC", value):
            raise self.error(field, f"Tibetan text {value!r} is not NFC")
        if DISCOURAGED_TIBETAN & set(value):
            raise self.error(field, f"Tibetan text {value!r} uses U+0F73/U+0F75/U+0F81; write the vowel parts")


def _hazard(entry: Any, index: int) -> Hazard:
    f = _Fields(entry, index)
    unknown = sorted(set(entry) - _HAZARD_KEYS)
    if unknown:
        raise f.error(unknown[0], "is not a catalogue field (typo?)")
    code = f.text("code")
    if not _CODE_RE.fullmatch(code):
        raise f.error("code", "must be lower-case letters, digits and underscores")

    names_table = f.table("names")
    if unknown := sorted(set(names_table) - {"zh", "en", "bo"}):
        raise f.error(f"names.{unknown[0]}", "is not a name (zh, en, bo); fields after [hazard.names] belong to it")
    names = {lang: f.text(f"names.{lang}", names_table, lang, required=lang != "bo") for lang in ("zh", "en", "bo")}
    bo_status, bo_source, bo_candidates = _tibetan_status(f, names["bo"])

    cap_category = f.text("cap_category")
    if cap_category not in CAP_CATEGORIES:
        raise f.error("cap_category", f"unknown category {cap_category!r}; expected one of {', '.join(CAP_CATEGORIES)}")

    oasis = f.strings("oasis_event_codes")
    if bad := [item for item in oasis if not _OASIS_RE.fullmatch(item)]:
        raise f.error("oasis_event_codes", f"{bad[0]!r} is not of the form OET-000")
    national = f.strings("national_event_codes")
    if bad := [item for item in national if not _NATIONAL_RE.fullmatch(item)]:
        raise f.error("national_event_codes", f"{bad[0]!r} is not of the form 11B03")

    levels = f.choices("levels", LEVELS)
    priority, priority_default = _priorities(f, code, levels)
    return Hazard(
        code=code,
        names=MappingProxyType(names),
        bo_status=bo_status,
        bo_source=bo_source,
        bo_candidates=bo_candidates,
        cap_category=cap_category,
        cap_events=f.strings("cap_events", required=True),
        zh_aliases=f.strings("zh_aliases"),
        oasis_event_codes=oasis,
        national_event_codes=national,
        agency_kinds=frozenset(f.choices("agency_kinds", AGENCY_KINDS, required=True)),
        levels=levels,
        priority=MappingProxyType(priority),
        priority_default=priority_default,
        actions=_actions(f, levels),
        choices=_choices(f),
        parameters=f.choices("parameters", tuple(PARAMETER_RULES)),
        validity_hours=_validity_hours(f),
    )


def _validity_hours(f: _Fields) -> int:
    """Whole hours: a warning that never ends would be broadcast as in force for ever."""
    value = f.entry.get("validity_hours", DEFAULT_VALIDITY_HOURS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_VALIDITY_HOURS:
        raise f.error("validity_hours", f"must be a whole number of hours from 1 to {MAX_VALIDITY_HOURS}, not {value!r}")
    return value


def _tibetan_status(f: _Fields, bo: str) -> tuple[str, str, tuple[str, ...]]:
    """A Tibetan name is shown only once sourced; candidates stay apart so nothing unreviewed is rendered."""
    status = f.text("bo_status")
    if status not in BO_STATUSES:
        raise f.error("bo_status", f"unknown status {status!r}; expected one of {', '.join(BO_STATUSES)}")
    source = f.text("bo_source", required=False)
    candidates = f.strings("bo_candidates")
    if status == "sourced" and not (bo.strip() and source.strip()):
        raise f.error("names.bo", "a sourced Tibetan name needs both names.bo and bo_source")
    if status == "awaiting_review" and bo:
        raise f.error("names.bo", "must be empty while awaiting review; put attested candidates in bo_candidates")
    if candidates and not source.strip():
        raise f.error("bo_source", "bo_candidates need a bo_source naming where they are attested")
    for field, value in [("names.bo", bo), *(("bo_candidates", candidate) for candidate in candidates)]:
        if value and not _TIBETAN_RE.search(value):
            raise f.error(field, f"{value!r} is not Tibetan text")
        f.tibetan(field, value)
    return status, source, candidates


def _priorities(f: _Fields, code: str, levels: tuple[str, ...]) -> tuple[dict[str, str], str]:
    table = f.entry.get("priority", {})
    if not isinstance(table, dict):
        raise f.error("priority", "must be a table of level = queue")
    if set(table) != set(levels):
        raise f.error("priority", f"must give a queue for exactly the levels [{', '.join(levels)}], not [{', '.join(table)}]")
    default = f.text("priority_default")
    for field, queue in [*((f"priority.{level}", queue) for level, queue in table.items()), ("priority_default", default)]:
        if queue not in QUEUES:
            raise f.error(field, f"unknown queue {queue!r}; expected one of {', '.join(QUEUES)}")
        if code in ALWAYS_CRITICAL and queue != "critical":
            raise f.error(field, f"{code} always goes to the critical queue")
    if table.get("red", "critical") != "critical":
        raise f.error("priority.red", "a red warning always goes to the critical queue")
    return dict(table), default


def _actions(f: _Fields, levels: tuple[str, ...]) -> Mapping[str, Mapping[str, str]]:
    table = f.table("actions")
    expected = {*levels, DEFAULT_ACTION}
    if set(table) != expected:
        raise f.error("actions", f"must have exactly [{', '.join((*levels, DEFAULT_ACTION))}], not [{', '.join(table)}]")
    actions: dict[str, Mapping[str, str]] = {}
    for key, texts in table.items():
        field = f"actions.{key}"
        if not isinstance(texts, dict):
            raise f.error(field, "must be a table of lang = text")
        if unknown := sorted(set(texts) - _ACTION_KEYS):
            raise f.error(f"{field}.{unknown[0]}", "is not an action field; expected zh, en, bo (+ bo_source)")
        action = {lang: f.text(f"{field}.{lang}", texts, lang) for lang in ("zh", "en")}
        if not isinstance(texts.get("choices", []), list):
            raise f.error(f"{field}.choices", "must be a list of protective action codes")
        if "bo" in texts or "bo_source" in texts:
            action["bo"] = f.text(f"{field}.bo", texts, "bo")
            f.text(f"{field}.bo_source", texts, "bo_source")
            f.tibetan(f"{field}.bo", action["bo"])
        actions[key] = MappingProxyType(action)
    return MappingProxyType(actions)


def _choices(f: _Fields) -> Mapping[str, tuple[str, ...]]:
    """Per level, the protective action codes offered (checked against [protective_actions] by the loader)."""
    choices = {}
    for key, texts in f.table("actions").items():
        codes = texts.get("choices", [])
        if not all(isinstance(code, str) for code in codes) or len(set(codes)) < len(codes):
            raise f.error(f"actions.{key}.choices", "must list distinct protective action codes")
        choices[key] = tuple(codes)
    return MappingProxyType(choices)


def _check_unique(hazards: list[Hazard]) -> None:
    """Codes, event codes and aliases each belong to one hazard only."""
    codes: set[str] = set()
    owners: dict[tuple[str, str], str] = {}
    for hazard in hazards:
        if hazard.code in codes:
            raise CatalogueError(f"hazard {hazard.code!r}, field 'code': duplicate code")
        codes.add(hazard.code)
        keys = [("oasis_event_codes", "oasis", code) for code in hazard.oasis_event_codes]
        keys += [("national_event_codes", "national", code) for code in hazard.national_event_codes]
        keys += [(field, "alias", alias) for field, alias in _alias_fields(hazard)]
        for field, kind, value in keys:
            owner = owners.setdefault((kind, value), hazard.code)
            if owner != hazard.code:
                what = "alias" if kind == "alias" else "event code"
                raise CatalogueError(
                    f"hazard {hazard.code!r}, field {field!r}: duplicate {what} {value!r}, already used by hazard {owner!r}")
