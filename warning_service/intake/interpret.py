"""Read a parsed message with the region's rules: which hazard, which level, where, when.

Pure: knows the hazard catalogue and the county map, nothing of Flask or the
database. Everything wrong is collected and raised together as one 422, so an
agency fixes its message in one round.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ..cap.errors import FieldError
from ..cap.message import AlertMessage, AreaBlock, InfoBlock, parse_number
from ..geography.areas import resolve_areas
from ..hazards import (
    ACTION_PARAMETER,
    PARAMETER_RULES,
    Hazard,
    HazardCatalogue,
    level_from_severity,
    level_from_text,
)
from .errors import invalid

ACCEPTED_STATUSES = ("Actual", "Exercise", "Test")
ACCEPTED_MSG_TYPES = ("Alert", "Update", "Cancel")
# Parameter names that carry an explicit warning level.
LEVEL_PARAMETERS = {"ews-level", "level", "warninglevel", "预警级别", "预警等级"}
# CAP language tags we render in, folded to our two language codes.
LANGUAGE_CODES = {"zh": "zh", "bo": "bo"}


@dataclass
class AlertDraft:
    """What the region makes of a message; the service turns it into an Alert row."""

    message: AlertMessage
    hazard: Hazard | None
    level: str | None
    event: str | None = None
    categories: list[str] = field(default_factory=list)
    response_types: list[str] = field(default_factory=list)
    urgency: str | None = None
    severity: str | None = None
    certainty: str | None = None
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    headline: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    instruction: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    county_codes: list[str] = field(default_factory=list)
    area: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the region filled in for the sender, said in the answer


def language_key(tag: str) -> str:
    """'zh-CN' -> 'zh', 'bo-CN' -> 'bo'; other tags are kept as sent ('en-US')."""
    primary = tag.split("-", 1)[0].lower()
    return LANGUAGE_CODES.get(primary, tag)


def interpret(message: AlertMessage, catalogue: HazardCatalogue, now: datetime | None = None) -> AlertDraft:
    """Apply the region's rules to a parsed message; raise a 422 IntakeError listing every problem."""
    now = now or datetime.now(UTC)
    errors: list[FieldError] = []
    if message.status not in ACCEPTED_STATUSES:
        errors.append(FieldError("status", f"status {message.status!r} is not broadcast; use one of {', '.join(ACCEPTED_STATUSES)}"))
    if message.msg_type not in ACCEPTED_MSG_TYPES:
        errors.append(FieldError("msgType", f"msgType {message.msg_type!r} is not accepted; use one of {', '.join(ACCEPTED_MSG_TYPES)}"))
    if message.msg_type in ("Update", "Cancel") and not message.references:
        errors.append(FieldError("references", f"an {message.msg_type} must name the alert it acts on in references"))
    if message.msg_type != "Cancel" and not message.infos:
        errors.append(FieldError("info", "an Alert or Update needs at least one <info> block"))

    is_cancel = message.msg_type == "Cancel"
    hazard, level = _hazard_and_level(message.infos, catalogue, errors, required=not is_cancel)
    draft = AlertDraft(message=message, hazard=hazard, level=level)
    _fill_from_infos(draft, message.infos)
    _check_parameters(draft, errors)
    _chosen_actions(draft, message.infos, catalogue, errors)
    _default_expiry(draft, now)
    _check_times(draft, now, errors)
    _resolve_area(draft, message.infos, errors, required=not is_cancel)
    if errors:
        raise invalid(_summary(errors), errors)
    return draft


def _hazard_and_level(
    infos: list[InfoBlock], catalogue: HazardCatalogue, errors: list[FieldError], required: bool
) -> tuple[Hazard | None, str | None]:
    """The first <info> that names a known hazard decides; a Cancel may name none (it inherits)."""
    hazard: Hazard | None = None
    level_in_name: str | None = None
    for info in infos:
        for value_name, value in info.event_codes:
            hazard = catalogue.match_event_code(value_name, value)
            if hazard:
                break
        if hazard is None and info.event:
            matched = catalogue.match_event_name(info.event)
            if matched:
                hazard, level_in_name = matched
        if hazard:
            break
    if hazard is None:
        if required:
            events = sorted({info.event for info in infos if info.event})
            errors.append(FieldError(
                "info[0].event",
                f"event {', '.join(map(repr, events)) or '(none)'} is not in the region's hazard catalogue "
                "(see GET /api/v1/hazards for codes and names)",
            ))
        return None, None

    level = _explicit_level(infos, errors) or level_in_name
    if level is None and hazard.levels:  # CAP severity stands in for a colour only where the hazard has colours
        level = next((lvl for info in infos if (lvl := level_from_severity(info.severity))), None)
    if hazard.levels and level is None:
        errors.append(FieldError("level", f"hazard {hazard.code!r} needs a level: one of {', '.join(hazard.levels)}"))
    elif level is not None and level not in hazard.levels:
        allowed = ", ".join(hazard.levels) or "none"
        errors.append(FieldError("level", f"hazard {hazard.code!r} does not use level {level!r} (levels: {allowed})"))
    return hazard, level


def _explicit_level(infos: list[InfoBlock], errors: list[FieldError]) -> str | None:
    for index, info in enumerate(infos):
        for value_name, value in info.parameters:
            if value_name.strip().lower() in LEVEL_PARAMETERS:
                level = level_from_text(value)
                if level is None:
                    errors.append(FieldError(f"info[{index}].parameter.{value_name}", f"level {value!r} is not red, orange, yellow or blue"))
                return level
    return None


def _fill_from_infos(draft: AlertDraft, infos: list[InfoBlock]) -> None:
    """Common fields from the first <info> that has them; texts from every language."""
    for info in infos:
        draft.event = draft.event or info.event or None
        draft.categories = draft.categories or list(info.categories)
        draft.response_types = draft.response_types or list(info.response_types)
        draft.urgency = draft.urgency or info.urgency or None
        draft.severity = draft.severity or info.severity or None
        draft.certainty = draft.certainty or info.certainty or None
        draft.effective = draft.effective or info.effective
        draft.onset = draft.onset or info.onset
        draft.expires = draft.expires or info.expires
        key = language_key(info.language)
        for name in ("headline", "description", "instruction"):
            text = getattr(info, name)
            if text:
                getattr(draft, name).setdefault(key, text)
        for value_name, value in info.parameters:
            draft.parameters.setdefault(value_name, value)
    if draft.hazard and not draft.categories:
        draft.categories = [draft.hazard.cap_category]


def _check_parameters(draft: AlertDraft, errors: list[FieldError]) -> None:
    """The hazard's own parameters (hazards.toml) are numbers in range, as the templates read them;
    a magnitude the renderer cannot read would vanish from the warning. Other parameters pass freely."""
    if draft.hazard is None:
        return
    for name in draft.hazard.parameters:
        if name not in draft.parameters:
            continue
        rule, value = PARAMETER_RULES[name], draft.parameters[name]
        number = parse_number(value)
        if number is None:
            errors.append(FieldError(f"parameters.{name}", f"{name} must be a number, not {value!r}"))
        elif not rule.minimum <= number <= rule.maximum:
            errors.append(FieldError(f"parameters.{name}",
                                     f"{name} {value} is outside {rule.minimum} to {rule.maximum} {rule.unit}".rstrip()))


def _chosen_actions(draft: AlertDraft, infos: list[InfoBlock], catalogue: HazardCatalogue,
                    errors: list[FieldError]) -> None:
    """Every ACTION_CODE of every <info> (the languages repeat them), each one the hazard offers at the level
    (hazards.toml `choices`); kept in the parameters, separated by spaces. A Cancel carries none."""
    codes = list(dict.fromkeys(code for info in infos for name, value in info.parameters
                               if name.strip() == ACTION_PARAMETER for code in value.replace(",", " ").split()))
    draft.parameters.pop(ACTION_PARAMETER, None)
    if not codes or draft.hazard is None or draft.message.msg_type == "Cancel":
        return
    offered = draft.hazard.choices_for(draft.level)
    for code in codes:
        if code not in offered:
            known = "" if code in catalogue.protective_actions else "unknown "
            errors.append(FieldError("actions", f"{known}protective action {code!r} is not one of the "
                                                f"{draft.hazard.code} {draft.level or 'default'} actions: "
                                                f"{', '.join(offered) or '(none)'}"))
    draft.parameters[ACTION_PARAMETER] = " ".join(codes)


def _default_expiry(draft: AlertDraft, now: datetime) -> None:
    """An Actual warning without `expires` would stay in force for ever: it ends after its hazard's
    `validity_hours` (hazards.toml) from its onset, or from now when the onset is past or not given."""
    message = draft.message
    if draft.expires or draft.hazard is None or message.status != "Actual" or message.msg_type == "Cancel":
        return
    start = draft.onset if draft.onset and draft.onset > now else now
    draft.expires = (start + timedelta(hours=draft.hazard.validity_hours)).replace(microsecond=0)
    draft.notes.append(f"expires was not given: set to {draft.expires.isoformat()}, "
                       f"the {draft.hazard.code} default of {draft.hazard.validity_hours} h")


def _check_times(draft: AlertDraft, now: datetime, errors: list[FieldError]) -> None:
    if draft.onset and draft.expires and draft.expires <= draft.onset:
        errors.append(FieldError("expires", f"expires ({draft.expires.isoformat()}) is not after onset ({draft.onset.isoformat()})"))
    if draft.expires and draft.expires <= now:
        errors.append(FieldError("expires", f"the alert expired at {draft.expires.isoformat()}; an expired warning is not broadcast"))


def _resolve_area(draft: AlertDraft, infos: list[InfoBlock], errors: list[FieldError], required: bool) -> None:
    """Union of every <info>'s areas (languages repeat the same areas), resolved to our counties."""
    areas = _distinct_areas(infos)
    if not areas:
        if required:
            errors.append(FieldError("area", "the alert names no area"))
        return
    resolution = resolve_areas(areas)
    errors.extend(resolution.errors)
    draft.county_codes = resolution.county_codes
    draft.area = {
        "descriptions": [area.description for area in areas if area.description],
        "counties": resolution.county_codes,
        "townships": resolution.township_codes,
        "polygons": [polygon for area in areas for polygon in area.polygons],
        "circles": [vars(circle) for area in areas for circle in area.circles],
        "geocodes": [list(code) for area in areas for code in area.geocodes],
        "unresolved": resolution.unresolved,
    }
    if not resolution.errors and not resolution.county_codes:
        where = "; ".join(resolution.outside + resolution.unresolved) or "no part of it"
        errors.append(FieldError("area", f"the area lies outside Garzê and Ngawa ({where}); this service covers their 31 counties only"))


def _distinct_areas(infos: list[InfoBlock]) -> list[AreaBlock]:
    """Each area once, in the order first sent; found by hash (`AreaBlock.key`), so in linear time:
    comparing each area with every one kept before it made 5,000 areas take seconds."""
    seen: set[tuple] = set()
    areas: list[AreaBlock] = []
    for info in infos:
        for area in info.areas:
            key = area.key()
            if key not in seen:
                seen.add(key)
                areas.append(area)
    return areas


def _summary(errors: list[FieldError]) -> str:
    if len(errors) == 1:
        return errors[0].message
    return f"{len(errors)} problems: " + "; ".join(error.message for error in errors)
