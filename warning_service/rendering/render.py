"""Render an alert's text per channel and language from the reviewed templates.

Pure: no Flask, no database. The caller builds an AlertView (from an Alert row
or a preview request); render() picks the template (hazard, then family, then
default), renders it in a Jinja2 sandbox and splits the output into sections;
render_fitted() fits them to the channel's budget. Render once per alert,
channel and language: per recipient, only choose among the results.
Templates, sections and review flags: templates_bo_zh/README.md.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ..cap.message import parse_number
from ..hazards import DEFAULT_ACTION, LEVELS, PARAMETER_RULES, Hazard, HazardCatalogue, catalogue
from . import formatting
from .budgets import Budget, Measure
from .fit import FitResult, Section, fit
from .overlay import (
    EMPTY,
    Overlay,
    action_key,
    area_key,
    chosen_action_key,
    current_overlay,
    hazard_key,
    rendering_with,
    term_key,
)
from .tibetan import is_han, normalise, to_tibetan_digits

TEMPLATES_ROOT = Path(__file__).resolve().parent.parent.parent / "templates_bo_zh"
# The CAP fields rendered from templates like the channels' texts (each channel names its own template,
# channels/catalog.py lists them all).
CAP_TEXTS: tuple[str, ...] = ("headline", "description", "instruction")
LANGUAGES = formatting.LANGUAGES
STATUSES: tuple[str, ...] = ("Actual", "Exercise", "Test")
MSG_TYPES: tuple[str, ...] = ("Alert", "Update", "Cancel")
REVIEW_STATUSES: tuple[str, ...] = ("reviewed", "awaiting_review")
# Between sections (and between the lines of one section): Chinese runs on after its
# own punctuation; Tibetan puts a space after the shad.
SEPARATORS: Mapping[str, str] = MappingProxyType({"zh": "", "bo": " "})
# Between the two languages of one combined message.
COMBINED_SEPARATOR = "\n"
# CAP parameters the templates get as numbers (unparsable values are left out).
NUMERIC_PARAMETERS: tuple[str, ...] = tuple(PARAMETER_RULES)
LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType({"bo": "Tibetan", "zh": "Chinese"})
# The review.toml term a Tibetan template lists while its protective action has no Tibetan: met in a
# rendering whose action has sourced or approved Tibetan.
ACTION_TERM = "防御指引"

# The CAP headline's budget, unless CAP_HEADLINE_MAX_CHARS says otherwise.
CAP_HEADLINE_CHARS = 160

# A section marker line, "§required" or "§optional", optionally followed by a note for reviewers.
_MARKER_LINE = re.compile(r"^[ \t]*§[ \t]*(\w*)[^\n]*\n?", re.MULTILINE)
# What a marker becomes before Jinja compiles the template: a control character that
# free texts cannot carry (they are cleaned of control characters), so no agency
# text can open a section.
_SENTINEL = "\x1e"
_SPLIT = re.compile(f"{_SENTINEL}(required|optional)\n?")


class RenderError(Exception):
    """A template or its data is broken, or the alert cannot be rendered; the message says which."""


@dataclass(frozen=True)
class AlertView:
    """Everything a template may use; built from an Alert row or a preview request by the caller."""

    hazard_code: str
    level: str | None
    status: str                       # "Actual", "Exercise" or "Test"
    msg_type: str                     # "Alert", "Update" or "Cancel"
    county_codes: tuple[str, ...]
    onset: datetime | None
    expires: datetime | None
    sent: datetime
    parameters: Mapping[str, str] = field(default_factory=dict)
    headline: Mapping[str, str] = field(default_factory=dict)      # free texts by language tag
    description: Mapping[str, str] = field(default_factory=dict)
    instruction: Mapping[str, str] = field(default_factory=dict)
    sender_name: str | None = None
    all_clear: bool = False
    named_places: tuple[NamedPlace, ...] = ()  # the named areas targeted (a scenic area), in order
    actions: tuple[str, ...] = ()  # protective action codes chosen (hazards.toml [protective_actions]), in order


@dataclass(frozen=True)
class NamedPlace:
    """A named area as its texts name it: bo is None until a sourced Tibetan name is registered; the desk's
    approved name is used then, else the Chinese stands in, recorded as a missing term."""

    zh: str
    bo: str | None = None
    code: str = ""            # the registered code, by which the desk's approved Tibetan name is found


@dataclass(frozen=True)
class RenderedText:
    channel: str
    language: str
    sections: tuple[Section, ...]
    template: str                     # the template file used, relative to messages/
    reviewed: bool                    # every template involved is reviewed and no term was missing
    missing_terms: tuple[str, ...]    # terms without a sourced Tibetan word (static and from this render)

    @property
    def chinese_sections(self) -> tuple[str, ...]:
        """The sections of a Tibetan text that still carry Chinese: never silent about what a reader misses."""
        if self.language != "bo":
            return ()
        return tuple(section.text for section in self.sections if any(map(is_han, section.text)))

    @property
    def text(self) -> str:
        """All sections, unfitted."""
        return normalise(SEPARATORS[self.language].join(section.text for section in self.sections))


@dataclass(frozen=True)
class FittedText:
    """One message as sent: one language, or both languages combined (preferred first)."""

    rendered: tuple[RenderedText, ...]
    fit: FitResult
    warnings: tuple[str, ...]         # "unreviewed Tibetan", "unreviewed Chinese", "shortened", "cut", "over budget"

    @property
    def text(self) -> str:
        return self.fit.text

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(rendered.language for rendered in self.rendered)


@dataclass(frozen=True)
class Review:
    status: str
    reviewer: str
    missing_terms: tuple[str, ...]

    @property
    def reviewed(self) -> bool:
        return self.status == "reviewed"


@dataclass(frozen=True)
class CharacterBudget:
    """A plain length limit in characters (CAP text fields); None means no limit."""

    max_chars: int | None

    @property
    def name(self) -> str:
        return "no limit" if self.max_chars is None else f"{self.max_chars} characters"

    def measure(self, text: str) -> Measure:
        length = len(normalise(text))
        return Measure(length, 1, "characters", self.max_chars is None or length <= self.max_chars)


# --- the template set ------------------------------------------------------------

class _SectionMarkers(Extension):
    """Turns the marker lines of a template's source into sentinels before compiling."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        def marker(match: re.Match[str]) -> str:
            kind = match.group(1)
            if kind not in ("required", "optional"):
                line = source.count("\n", 0, match.start()) + 1
                raise TemplateSyntaxError(f"section marker must be §required or §optional, not {match.group(0).strip()!r}",
                                          line, name, filename)
            return f"{_SENTINEL}{kind}\n"
        return _MARKER_LINE.sub(marker, source)


def _environment(messages: Path) -> ImmutableSandboxedEnvironment:
    """Jinja's sandbox, which also keeps templates from changing the lists and dicts they are given."""
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(messages),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_SectionMarkers],
    )
    env.filters.update(
        datetime=formatting.local_datetime,
        number=formatting.number,
        magnitude=formatting.magnitude,
        quantity=formatting.quantity,
        places=formatting.places,
        roman=formatting.roman_level,
        sentence=formatting.end_sentence,
        tibetan_digits=to_tibetan_digits,
    )
    return env


class TemplateSet:
    """The templates under root/messages with their families (families.toml) and reviews (review.toml).

    Checked when loaded: every hazard has one family, every CAP field has a default template,
    every text with a default template (each channel's) has one in every language, every
    template file has a review entry and the other way round. `texts`: the names of the
    texts it renders, from default/<text>.<language>.j2.
    """

    def __init__(self, root: Path, hazards: HazardCatalogue | None = None) -> None:
        self.hazards = hazards or catalogue()
        self.env = _environment(root / "messages")
        self.families = _load_families(root / "families.toml", self.hazards)
        names = sorted(self.env.list_templates(filter_func=lambda name: name.endswith(".j2")))
        self.reviews = _load_reviews(root / "review.toml", names)
        self._chains = {name: self._chain(name) for name in names}
        defaults = [name.removeprefix("default/").split(".")[0] for name in names if name.startswith("default/")]
        self.texts: tuple[str, ...] = tuple(dict.fromkeys([*CAP_TEXTS, *defaults]))
        missing = [f"default/{text}.{language}.j2" for text in self.texts for language in LANGUAGES
                   if f"default/{text}.{language}.j2" not in self._chains]
        if missing:
            raise RenderError(f"{root}: missing default templates {', '.join(missing)}")

    def _chain(self, name: str) -> tuple[str, ...]:
        """The template and every template it imports, includes or extends, transitively."""
        seen: list[str] = []
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.append(current)
            try:
                source = self.env.loader.get_source(self.env, current)[0]  # type: ignore[union-attr]  # built with one
                referenced = list(meta.find_referenced_templates(self.env.parse(source)))
            except TemplateError as exc:
                raise RenderError(f"template {current}: {exc}") from exc
            named = [name for name in referenced if name is not None]
            if len(named) < len(referenced):
                raise RenderError(f"template {current}: imports a template by a computed name; name it literally")
            pending.extend(named)
        return tuple(seen)

    def chain(self, name: str) -> tuple[str, ...]:
        """A template and every template it uses."""
        return self._chains[name]

    def source(self, name: str) -> str:
        return self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]  # built with one

    def template_for(self, hazard_code: str, channel: str, language: str) -> str:
        """The first of hazards/<code>/, families/<family>/, default/ that has <channel>.<language>.j2."""
        filename = f"{channel}.{language}.j2"
        family = self.families[hazard_code]
        candidates = (f"hazards/{hazard_code}/{filename}", f"families/{family}/{filename}", f"default/{filename}")
        return next(name for name in candidates if name in self._chains)

    def render(self, view: AlertView, channel: str, language: str, overlay: Overlay = EMPTY) -> RenderedText:
        """`overlay`: Tibetan approved on the translation desk, used where the files have none."""
        hazard = _check_view(view, channel, language, self.hazards, self.texts)
        name = self.template_for(hazard.code, channel, language)
        untranslated: list[str] = []
        met: set[str] = set()
        context = _context(view, hazard, self.families[hazard.code], channel, language, untranslated.append,
                           overlay, met.add)
        context["chosen_actions"] = _chosen_actions(view, self.hazards, language, untranslated.append, overlay)
        if context["chosen_actions"]:
            met.add(ACTION_TERM)   # the level's default action is not used
        try:
            with rendering_with(overlay):
                output = self.env.get_template(name).render(context)
        except (TemplateError, ValueError, TypeError, ArithmeticError) as exc:
            raise RenderError(f"template {name} ({view.hazard_code}, {channel}, {language}): "
                              f"{type(exc).__name__}: {exc}") from exc
        reviews = [self.reviews[part] for part in self._chains[name]]
        static = [term for review in reviews for term in review.missing_terms if term not in met]
        missing = tuple(dict.fromkeys(static + untranslated))
        return RenderedText(
            channel=channel,
            language=language,
            sections=_sections(output, language, name),
            template=name,
            reviewed=all(review.reviewed for review in reviews) and not untranslated,
            missing_terms=missing,
        )


def _load_families(path: Path, hazards: HazardCatalogue) -> dict[str, str]:
    """hazard code -> family; every catalogued hazard in exactly one family."""
    data = _read_toml(path)
    family_of: dict[str, str] = {}
    for family, codes in data.items():
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise RenderError(f"{path}: family {family!r} must be a list of hazard codes")
        for code in codes:
            if code in family_of:
                raise RenderError(f"{path}: hazard {code!r} is in families {family_of[code]!r} and {family!r}")
            if hazards.get(code) is None:
                raise RenderError(f"{path}: family {family!r} names unknown hazard {code!r}")
            family_of[code] = family
    if unplaced := [hazard.code for hazard in hazards if hazard.code not in family_of]:
        raise RenderError(f"{path}: hazards without a family: {', '.join(unplaced)}")
    return family_of


def _load_reviews(path: Path, names: Sequence[str]) -> dict[str, Review]:
    data = _read_toml(path)
    if unlisted := sorted(set(names) - set(data)):
        raise RenderError(f"{path}: templates without a review entry: {', '.join(unlisted)}")
    if stale := sorted(set(data) - set(names)):
        raise RenderError(f"{path}: review entries for missing templates: {', '.join(stale)}")
    return {name: _review(path, name, data[name]) for name in names}


def _review(path: Path, name: str, entry: Any) -> Review:
    where = f"{path}, [{name!r}]"
    if not isinstance(entry, dict) or set(entry) - {"status", "reviewer", "missing_terms", "note"}:
        raise RenderError(f"{where}: expected status, reviewer, missing_terms and an optional note")
    status, reviewer, terms = entry.get("status"), entry.get("reviewer", ""), entry.get("missing_terms", [])
    if status not in REVIEW_STATUSES:
        raise RenderError(f"{where}: status must be one of {', '.join(REVIEW_STATUSES)}, not {status!r}")
    if not isinstance(reviewer, str) or not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise RenderError(f"{where}: reviewer must be a string and missing_terms a list of strings")
    if status == "reviewed" and (not reviewer.strip() or terms):
        raise RenderError(f"{where}: a reviewed template names its reviewer and has no missing terms")
    return Review(status, reviewer, tuple(terms))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RenderError(f"{path}: cannot read: {exc}") from exc


# --- one rendering -----------------------------------------------------------------

def _check_view(view: AlertView, channel: str, language: str, hazards: HazardCatalogue,
                texts: Sequence[str]) -> Hazard:
    checks = [("channel", channel, texts), ("language", language, LANGUAGES), ("status", view.status, STATUSES),
              ("msg_type", view.msg_type, MSG_TYPES), ("level", view.level, (*LEVELS, None))]
    problems = [f"{what} {value!r} is not one of {', '.join(map(str, allowed))}"
                for what, value, allowed in checks if value not in allowed]
    hazard = hazards.get(view.hazard_code)
    if hazard is None:
        problems.append(f"unknown hazard {view.hazard_code!r}")
    if problems or hazard is None:
        raise RenderError("cannot render: " + "; ".join(problems))
    return hazard


# Zero-width characters (U+200B-U+200D), directional marks, embeddings, overrides and isolates
# (U+200E-U+200F, U+202A-U+202E, U+2066-U+2069) and the byte-order mark: invisible, they can hide
# words or show a text in another order than it is read out and counted. Tibetan needs none of
# them (tsheg U+0F0B and shad are ordinary characters); tests keep templates_bo_zh/ free of them.
INVISIBLE_FORMATTING = frozenset(map(chr, (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                           0xFEFF)))
_WITHOUT_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE_FORMATTING))


def clean_text(text: str) -> str:
    """A free text as templates get it: NFC, one line, no control or invisible formatting characters.

    One line and no controls, so that agency text can never start a section. The invisible formatting
    goes here rather than at intake: every text an agency or officer wrote (headline, description,
    instruction, parameters, sender) passes here on its way to any channel, whichever way it came in
    (CAP XML, JSON, the console's form) and whenever it was stored, while the stored original stays
    as received, the evidence of what was sent to us.
    """
    one_line = " ".join(normalise(text.translate(_WITHOUT_INVISIBLE)).split())
    return "".join(ch for ch in one_line if unicodedata.category(ch) != "Cc")


def free_text(texts: Mapping[str, str], language: str) -> str:
    """The text for a language from a mapping keyed by "zh", "bo" or a CAP tag such as "zh-CN"."""
    if language in texts:
        return clean_text(texts[language])
    for tag, text in texts.items():
        if re.split(r"[-_]", tag.strip(), maxsplit=1)[0].casefold() == language:
            return clean_text(text)
    return ""


def _context(view: AlertView, hazard: Hazard, family: str, channel: str, language: str,
             record_missing: Callable[[str], None], overlay: Overlay = EMPTY,
             record_met: Callable[[str], None] = lambda term: None) -> dict[str, Any]:
    """The variables a template sees (documented in templates_bo_zh/README.md); in Tibetan, the hazard's
    name, its action and the terms untranslated() stands in for come from `overlay` where the files have none."""
    level_key = view.level if view.level is not None and view.level in hazard.actions else DEFAULT_ACTION
    actions = hazard.actions[level_key]
    name = hazard.names[language]
    action = actions.get(language, "")
    if language == "bo":
        name = name or overlay.get(hazard_key(hazard.code))
        action = action or overlay.get(action_key(hazard.code, level_key))
        if action:
            record_met(ACTION_TERM)
    parameters = {name.strip(): clean_text(value) for name, value in view.parameters.items()}
    numbers: dict[str, Decimal] = {
        name: number for name in NUMERIC_PARAMETERS
        if name in parameters and (number := parse_number(parameters[name])) is not None
    }

    def untranslated(text: str, term: str | None = None) -> str:
        """Chinese standing in for a Tibetan term that has no source yet; recorded as missing. A term
        (a call without `term`) approved on the desk is used instead, and met."""
        if term is None and language == "bo" and (approved := overlay.get(term_key(text))):
            record_met(text)
            return approved
        record_missing(term or text)
        return text

    return {
        "lang": language,
        "channel": channel,
        "status": view.status,
        "msg_type": view.msg_type,
        "all_clear": view.all_clear,
        "ended": view.all_clear or view.msg_type == "Cancel",
        "hazard": {"code": hazard.code, "family": family, "name": name, "name_zh": hazard.names["zh"]},
        "level": view.level,
        "areas": tuple(view.county_codes),
        "named_places": tuple(place.zh if language == "zh"
                              else place.bo or overlay.get(area_key(place.code)) or untranslated(place.zh)
                              for place in view.named_places),
        "onset": view.onset,
        "expires": view.expires,
        "sent": view.sent,
        "parameters": parameters,
        "numbers": numbers,
        "headline": free_text(view.headline, language),
        "description": free_text(view.description, language),
        "instruction": free_text(view.instruction, language),
        "action": action,
        "action_zh": actions["zh"],
        "sender_name": clean_text(view.sender_name or ""),
        "untranslated": untranslated,
    }


def _chosen_actions(view: AlertView, hazards: HazardCatalogue, language: str,
                    record_missing: Callable[[str], None], overlay: Overlay) -> str:
    """The protective actions chosen, each a sentence; in Tibetan each one's sourced or approved Tibetan, else
    its Chinese stands in and is recorded as missing (intake refuses unknown codes: a stale one is skipped)."""
    sentences = []
    for code in view.actions:
        action = hazards.protective_actions.get(code)
        if action is None:
            continue
        text = action.zh
        if language == "bo":
            text = action.bo or overlay.get(chosen_action_key(code))
            if not text:
                record_missing(action.zh)
                text = action.zh
        sentences.append(formatting.end_sentence(text, "zh" if any(map(is_han, text)) else language))
    return SEPARATORS[language].join(sentences)


def _sections(output: str, language: str, name: str) -> tuple[Section, ...]:
    """Split rendered output at its markers; lines of a section are joined, empty sections left out."""
    head, *rest = _SPLIT.split(output)
    if head.strip():
        raise RenderError(f"template {name}: text before the first section marker: {head.strip()[:40]!r}")
    separator = SEPARATORS[language]
    sections = []
    for kind, body in zip(rest[::2], rest[1::2]):
        text = normalise(separator.join(line.strip() for line in body.splitlines() if line.strip()))
        if text:
            sections.append(Section(text, optional=kind == "optional"))
    return tuple(sections)


# --- module API ------------------------------------------------------------------------

@lru_cache(maxsize=1)
def default_templates() -> TemplateSet:
    """The shipped templates, loaded and checked once per process."""
    return TemplateSet(TEMPLATES_ROOT)


def render(view: AlertView, channel: str, language: str) -> RenderedText:
    """The text of one channel in one language, as ordered sections; raises RenderError."""
    return default_templates().render(view, channel, language, current_overlay())


def cap_text_budget(text: str, settings: Mapping[str, Any] | None = None) -> Budget:
    """A CAP field's budget: the headline's CAP_HEADLINE_MAX_CHARS (160), description and instruction
    unlimited. A channel's budget is its own (channels/catalog.py budget_for)."""
    settings = settings or {}
    budgets: dict[str, Callable[[], Budget]] = {
        "headline": lambda: CharacterBudget(int(settings.get("CAP_HEADLINE_MAX_CHARS", CAP_HEADLINE_CHARS))),
        "description": lambda: CharacterBudget(None),
        "instruction": lambda: CharacterBudget(None),
    }
    if text not in budgets:
        raise RenderError(f"{text!r} is not a CAP field ({', '.join(CAP_TEXTS)}); a channel's budget is its own")
    return budgets[text]()


def _warnings(rendered: Sequence[RenderedText], result: FitResult) -> tuple[str, ...]:
    unreviewed = [f"unreviewed {LANGUAGE_NAMES[text.language]}" for text in rendered if not text.reviewed]
    state = [("shortened", result.shortened), ("cut", result.cut), ("over budget", not result.measure.fits)]
    return tuple(dict.fromkeys(unreviewed + [warning for warning, applies in state if applies]))


def fit_rendered(rendered: RenderedText, budget: Budget) -> FittedText:
    """Fit one rendered text: optional sections dropped from the last, then a cut if still too long."""
    result = fit(rendered.sections, budget, SEPARATORS[rendered.language], rendered.language)
    return FittedText((rendered,), result, _warnings([rendered], result))


def render_fitted(view: AlertView, channel: str, language: str, budget: Budget | None = None) -> FittedText:
    """Render and fit one text; `budget` may be left out for a CAP field only."""
    return fit_rendered(render(view, channel, language), budget or cap_text_budget(channel))


def messages_for_recipient(view: AlertView, channel: str, languages: Sequence[str],
                           budget: Budget) -> list[FittedText]:
    """The messages for a recipient who reads `languages`, in preference order.

    One message per language, preferred first; but when both languages fit in one
    message (preferred first, a newline between) without shortening either, that one
    message. Call it once per channel and language preference, not per recipient.
    """
    texts = [render(view, channel, language) for language in dict.fromkeys(languages)]
    if len(texts) > 1:
        combined = fit([Section(text.text) for text in texts], budget, COMBINED_SEPARATOR)
        if not combined.shortened and combined.measure.fits:
            return [FittedText(tuple(texts), combined, _warnings(texts, combined))]
    return [fit_rendered(text, budget) for text in texts]
