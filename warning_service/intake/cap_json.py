"""The JSON form of an alert to `AlertMessage`, for untrusted input.

The form is a flat, regional cut of CAP: a hazard code and a level instead of
CAP's event/urgency/severity/certainty (the interpreter derives those), county
codes for the area, and free texts in Chinese (zh) and Tibetan (bo). Every
problem is collected, so the sender sees them all in one answer.
"""
from __future__ import annotations

import copy
import json
import math
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from ..cap.errors import FieldError
from ..cap.message import AlertMessage, AreaBlock, Circle, InfoBlock, Reference
from ..hazards import ACTION_PARAMETER
from .cap_xml import MAX_REPORTED, aware_datetime, invalid_fields, quoted, reference_from_text
from .errors import malformed
from .limits import DEFAULT_LIMITS, IntakeLimits

_FIELDS = frozenset({
    "identifier", "sender", "sent", "status", "msg_type", "scope", "references", "note",
    "hazard", "level", "area", "onset", "expires", "parameters", "actions",
    "headline", "description", "instruction",
})
_STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
_MSG_TYPES = ("Alert", "Update", "Cancel")
_SCOPES = ("Public", "Restricted", "Private")
_LEVELS = ("red", "orange", "yellow", "blue")
_LANGUAGES = {"zh": "zh-CN", "bo": "bo-CN"}  # in the order of the info blocks
_TEXTS = ("headline", "description", "instruction")
_AREA_FIELDS = ("counties", "named_areas", "polygon", "circle")
_CIRCLE_FIELDS = ("lat", "lon", "radius_km")
_DIVISION_CODE = re.compile(r"\d{6}(?:\d{6})?", re.ASCII)
# CAP: identifier and sender carry no spaces, commas or restricted characters,
# else a "sender,identifier,sent" reference to them cannot be written.
_CAP_TOKEN = re.compile(r"[^\s,<&]+")
HAZARD_CODE = "EWS-HAZARD"
LEVEL_PARAMETER = "EWS-LEVEL"
GEOCODE_NAME = "GB/T 2260"
NAMED_AREA_NAME = "NAMED_AREA"  # a registered named area's code, resolved to its shape by intake


def parse_alert_json(data: bytes, default_sender: str, limits: IntakeLimits = DEFAULT_LIMITS) -> AlertMessage:
    """Read the JSON form; raise IntakeError 400 if it is not a JSON object, 413 over `limits`,
    422 listing every problem."""
    body = _load(data)
    _check_counts(body, limits)  # before the walk over every value: an oversized body costs a count
    _refuse_bad_strings(body)
    form = _Form(body)
    message = form.message(default_sender)
    if form.errors:
        locations = ", ".join(error.location for error in form.errors[:MAX_REPORTED])
        raise invalid_fields(f"{len(form.errors)} problem(s) in the alert: {locations}", form.errors)
    return message


# --- the body ------------------------------------------------------------------

def _load(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise malformed(f"The body is not valid UTF-8 (byte {exc.start})") from exc
    if not text.strip():
        raise malformed("The body is empty: expected a JSON object")
    try:
        body = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise malformed(f"Not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except ValueError as exc:
        raise malformed(f"Not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise malformed("Not valid JSON: nested too deeply") from exc
    if not isinstance(body, dict):
        raise malformed(f"The body must be a JSON object, not {_json_type(body)}")
    return body


def _check_counts(body: dict[str, Any], limits: IntakeLimits) -> None:
    """The lengths of the lists the form would read, before it reads one item. The form has one area
    (so one polygon and at most one circle); a value of the wrong type is left to the form's 422."""
    area = body.get("area")
    area = area if isinstance(area, dict) else {}
    polygon, counties, references = area.get("polygon"), area.get("counties"), body.get("references")
    named = area.get("named_areas")
    if isinstance(polygon, list):
        limits.check("polygon_points", len(polygon), "area.polygon", holder="this polygon")
        limits.check("alert_points", len(polygon), "area.polygon")
    if isinstance(counties, list):
        limits.check("geocodes", len(counties), "area.counties")
    if isinstance(named, list):  # geocodes too, as CAP sends them
        limits.check("geocodes", len(named) + (len(counties) if isinstance(counties, list) else 0), "area.named_areas")
    if isinstance(references, list):
        limits.check("references", len(references), "references")


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A repeated key would let two readers see two different alerts."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {quoted(key)} appears twice in one object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _refuse_bad_strings(body: dict[str, Any]) -> None:
    """Escapes can smuggle in lone surrogates and NUL, which no database or channel can store."""
    stack: list[Any] = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and ("\x00" in value or _has_surrogate(value)):
            raise malformed("The JSON holds a string with a NUL character or an unpaired surrogate")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _text_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {_json_type(value)}"
    return None if value.strip() else "must not be empty"


def _not_a_number(value: Any) -> str:
    if value is None:
        return "is required: a number"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "must be a finite number"
    return f"must be a number, not {_json_type(value)}"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


# --- the fields ------------------------------------------------------------------

class _Form:
    """Reads the fields of one JSON alert, collecting every problem with its JSON path."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.errors: list[FieldError] = []

    def problem(self, location: str, message: str) -> None:
        self.errors.append(FieldError(location, message))

    def message(self, default_sender: str) -> AlertMessage:
        for name in sorted(self.body.keys() - _FIELDS):
            self.problem(name, f"unknown field; the fields are: {', '.join(sorted(_FIELDS))}")
        msg_type = self.choice("msg_type", _MSG_TYPES, default="Alert")
        cancel = msg_type == "Cancel"
        texts = {name: self.texts(name) for name in _TEXTS}
        return AlertMessage(
            identifier=self.cap_token("identifier") or str(uuid.uuid4()),
            sender=self.cap_token("sender") or default_sender,
            sent=self.time("sent") or datetime.now(UTC).replace(microsecond=0),
            status=self.choice("status", _STATUSES) or "",
            msg_type=msg_type or "",
            scope=self.choice("scope", _SCOPES, default="Public") or "",
            note=self.string("note"),
            references=self.references(required=msg_type in ("Update", "Cancel")),
            infos=_infos(
                hazard=self.string("hazard", required=not cancel),
                level=self.choice("level", _LEVELS, default=""),
                area=self.area(required=not cancel),
                onset=self.time("onset"),
                expires=self.time("expires"),
                parameters=self.parameters() + self.actions(),
                texts=texts,
            ),
            format="json",
        )

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.problem(name, "is required")
            return None
        problem = _text_problem(value)
        if problem:
            self.problem(name, problem)
            return None
        return value.strip()

    def cap_token(self, name: str) -> str | None:
        value = self.string(name)
        if value is not None and not _CAP_TOKEN.fullmatch(value):
            self.problem(name, "must not contain spaces, commas, '<' or '&'")
            return None
        return value

    def choice(self, name: str, options: tuple[str, ...], *, default: str | None = None) -> str | None:
        """One of `options`; required when there is no default."""
        value = self.body.get(name)
        if value is None:
            if default is None:
                self.problem(name, f"is required: one of {', '.join(options)}")
            return default
        if value not in options:
            found = quoted(value) if isinstance(value, str) else _json_type(value)
            self.problem(name, f"{found} is not one of {', '.join(options)}")
            return None
        return value

    def time(self, name: str) -> datetime | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(name, f"must be an ISO 8601 date-time string, not {_json_type(value)}")
            return None
        parsed, problem = aware_datetime(value.strip())
        if problem:
            self.problem(name, problem)
        return parsed

    def references(self, *, required: bool) -> list[Reference]:
        value = self.body.get("references")
        if value is None or value == []:
            if required:
                self.problem("references", "is required for an Update or a Cancel: the alerts it acts on")
            return []
        if not isinstance(value, list):
            self.problem("references", "must be a list of 'sender,identifier,sent' strings")
            return []
        references = []
        for index, item in enumerate(value):
            reference = reference_from_text(item) if isinstance(item, str) else None
            if reference is None:
                self.problem(f"references[{index}]", "must be a 'sender,identifier,sent' string")
            else:
                references.append(reference)
        return references

    def parameters(self) -> list[tuple[str, str]]:
        value = self.body.get("parameters")
        if value is None:
            return []
        if not isinstance(value, dict):
            self.problem("parameters", f"must be an object of names to values, not {_json_type(value)}")
            return []
        parameters = []
        for name, item in value.items():
            location = f"parameters.{name}"
            if not name.strip() or name in (LEVEL_PARAMETER, ACTION_PARAMETER):
                self.problem(location, f"the name must be non-empty and not {LEVEL_PARAMETER} (use level) "
                                       f"or {ACTION_PARAMETER} (use actions)")
            elif isinstance(item, bool):
                parameters.append((name, "true" if item else "false"))  # JSON's spelling, not Python's
            elif isinstance(item, str) or _number(item) is not None:
                parameters.append((name, str(item)))
            else:
                self.problem(location, f"must be a string, a number or a boolean, not {_json_type(item)}")
        return parameters

    def actions(self) -> list[tuple[str, str]]:
        """Protective action codes (hazards.toml), as CAP's ACTION_CODE parameters; interpret checks them."""
        value = self.body.get("actions")
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(code, str) and code.strip() for code in value):
            self.problem("actions", "must be a list of protective action codes (GET /api/v1/hazards lists them)")
            return []
        return [(ACTION_PARAMETER, code.strip()) for code in value]

    def texts(self, name: str) -> dict[str, str]:
        """A free text by language code (zh, bo)."""
        value = self.body.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(name, f"must be an object keyed by zh and/or bo, not {_json_type(value)}")
            return {}
        texts = {}
        for language, text in value.items():
            location = f"{name}.{language}"
            if language not in _LANGUAGES:
                self.problem(location, "the language must be zh or bo")
            elif problem := _text_problem(text):
                self.problem(location, problem)
            else:
                texts[language] = text.strip()
        return texts

    # --- area ---

    def area(self, *, required: bool) -> AreaBlock | None:
        value = self.body.get("area")
        if value is None:
            if required:
                self.problem("area", f"is required: an object with {', '.join(_AREA_FIELDS)}")
            return None
        if not isinstance(value, dict):
            self.problem("area", f"must be an object, not {_json_type(value)}")
            return None
        for name in sorted(value.keys() - set(_AREA_FIELDS)):
            self.problem(f"area.{name}", f"unknown field; an area has {', '.join(_AREA_FIELDS)}")
        if not any(value.get(name) is not None for name in _AREA_FIELDS):
            self.problem("area", f"must give at least one of {', '.join(_AREA_FIELDS)}")
        circle = self.circle(value.get("circle"))
        polygon = self.polygon(value.get("polygon"))
        return AreaBlock(
            polygons=[] if polygon is None else [polygon],
            circles=[] if circle is None else [circle],
            geocodes=[(GEOCODE_NAME, code) for code in self.counties(value.get("counties"))]
            + [(NAMED_AREA_NAME, code) for code in self.named_areas(value.get("named_areas"))],
        )

    def counties(self, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not value:
            self.problem("area.counties", "must be a non-empty list of 6-digit county or 12-digit township codes")
            return []
        codes = []
        for index, code in enumerate(value):
            if isinstance(code, str) and _DIVISION_CODE.fullmatch(code):
                codes.append(code)
            else:
                self.problem(f"area.counties[{index}]", "must be a string of 6 digits (county) or 12 (township)")
        return codes

    def named_areas(self, value: Any) -> list[str]:
        """Codes only: whether each names a registered area is for intake to say."""
        if value is None:
            return []
        if not isinstance(value, list) or not value:
            self.problem("area.named_areas", "must be a non-empty list of named area codes")
            return []
        codes = []
        for index, code in enumerate(value):
            if problem := _text_problem(code):
                self.problem(f"area.named_areas[{index}]", problem)
            else:
                codes.append(code.strip())
        return codes

    def polygon(self, value: Any) -> list[tuple[float, float]] | None:
        """Types only: closure, size and coordinates ranges are checked with the geometry."""
        if value is None:
            return None
        if not isinstance(value, list):
            self.problem("area.polygon", f"must be a list of [lat, lon] pairs, not {_json_type(value)}")
            return None
        points = []
        for index, item in enumerate(value):
            pair = [_number(number) for number in item] if isinstance(item, list) else []
            lat, lon = pair if len(pair) == 2 else (None, None)
            if lat is None or lon is None:
                self.problem(f"area.polygon[{index}]", "must be a [lat, lon] pair of numbers")
            else:
                points.append((lat, lon))
        return points

    def circle(self, value: Any) -> Circle | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem("area.circle", f"must be an object with lat, lon, radius_km, not {_json_type(value)}")
            return None
        for name in sorted(value.keys() - set(_CIRCLE_FIELDS)):
            self.problem(f"area.circle.{name}", "unknown field; a circle has lat, lon, radius_km")
        numbers = {name: _number(value.get(name)) for name in _CIRCLE_FIELDS}
        for name, number in numbers.items():
            if number is None:
                self.problem(f"area.circle.{name}", _not_a_number(value.get(name)))
        lat, lon, radius_km = (numbers[name] for name in _CIRCLE_FIELDS)
        if lat is None or lon is None or radius_km is None:
            return None
        return Circle(lat=lat, lon=lon, radius_km=radius_km)


def _infos(
    *,
    hazard: str | None,
    level: str | None,
    area: AreaBlock | None,
    onset: datetime | None,
    expires: datetime | None,
    parameters: list[tuple[str, str]],
    texts: dict[str, dict[str, str]],
) -> list[InfoBlock]:
    """One info block per language with a text (zh first), or a single zh-CN block."""
    languages = [code for code in _LANGUAGES if any(code in by_language for by_language in texts.values())]
    level_parameter = [(LEVEL_PARAMETER, level)] if level else []
    return [
        InfoBlock(
            language=_LANGUAGES[code],
            event=hazard or "",
            event_codes=[(HAZARD_CODE, hazard)] if hazard else [],
            onset=onset,
            expires=expires,
            headline=texts["headline"].get(code),
            description=texts["description"].get(code),
            instruction=texts["instruction"].get(code),
            parameters=level_parameter + parameters,
            areas=[] if area is None else [copy.deepcopy(area)],
        )
        for code in languages or ["zh"]
    ]
