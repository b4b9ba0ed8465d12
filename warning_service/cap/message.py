"""The common form of a CAP message, whatever it arrived as.

CAP 1.2 XML, CAP 1.1 XML and the JSON form all become an `AlertMessage` (intake's parsers);
intake's `interpret` then reads it with the region's rules, geography reads its areas. Plain data,
no Flask.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Reference:
    """One entry of CAP <references>: "sender,identifier,sent"."""

    sender: str
    identifier: str
    sent: str


@dataclass
class Circle:
    lat: float
    lon: float
    radius_km: float


@dataclass
class AreaBlock:
    """One CAP <area>. Points are (lat, lon), as CAP writes them."""

    description: str = ""
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)
    circles: list[Circle] = field(default_factory=list)
    geocodes: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)
    altitude: float | None = None
    ceiling: float | None = None

    def key(self) -> tuple:
        """Everything the area says, hashable and equal exactly when the areas are, so that a set
        can find the areas each language repeats."""
        return (
            self.description,
            tuple(tuple(map(tuple, polygon)) for polygon in self.polygons),
            tuple((circle.lat, circle.lon, circle.radius_km) for circle in self.circles),
            tuple(map(tuple, self.geocodes)),
            self.altitude,
            self.ceiling,
        )


@dataclass
class InfoBlock:
    """One CAP <info>: one language's version of the warning."""

    language: str = "en-US"
    categories: list[str] = field(default_factory=list)
    event: str = ""
    response_types: list[str] = field(default_factory=list)
    urgency: str = ""
    severity: str = ""
    certainty: str = ""
    audience: str | None = None
    event_codes: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)
    areas: list[AreaBlock] = field(default_factory=list)


@dataclass
class AlertMessage:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: list[str] = field(default_factory=list)
    note: str | None = None
    references: list[Reference] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    infos: list[InfoBlock] = field(default_factory=list)
    format: str = "cap1.2"  # cap1.2, cap1.1 or json

    def infos_as_json(self) -> list[dict]:
        """Every <info> block as JSON-ready dicts, for keeping beside the verbatim original."""
        return [_jsonable(info) for info in self.infos]


def parse_number(text: str) -> Decimal | None:
    """A <parameter> value as a finite number, or None when it is not one: how intake checks a
    hazard's parameters and the templates read them, so both agree on what is a number."""
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return number if number.is_finite() else None


def _jsonable(value):
    """JSON-ready in one walk: dataclasses as dicts of their fields, tuples as lists, datetimes in ISO 8601.
    (`asdict` deep-copied every value first, only to have it walked again: a tenth of intake's CPU.)"""
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if is_dataclass(value):
        return {item.name: _jsonable(getattr(value, item.name)) for item in fields(value)}
    return value
