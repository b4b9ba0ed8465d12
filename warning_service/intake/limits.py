"""How much one message may ask of the intake: areas, polygon points, geocodes, circles, references.

The parsers count these on the parsed document, before a point is read or a geometry built, and
refuse a message over any limit with a 413 that names the limit and the count. Without them 5,000
areas took seconds and a 200,000-point polygon was stored whole. Counting is one pass over what the
parser already holds, so its cost is bounded by the body size (MAX_CONTENT_LENGTH). The values are
settings (config.py, where their defaults are explained); no Flask here.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..cap.errors import FieldError
from ..config import Settings
from .errors import too_large

# Each limit as the refusal words it, and the setting it is read from.
_WORDING = {
    "areas": "areas",
    "polygon_points": "points in one polygon",
    "alert_points": "polygon points per alert",
    "geocodes": "geocodes",
    "references": "references",
    "circles": "circles",
}
_SETTINGS = {
    "areas": "MAX_ALERT_AREAS",
    "polygon_points": "MAX_POLYGON_POINTS",
    "alert_points": "MAX_ALERT_POINTS",
    "geocodes": "MAX_ALERT_GEOCODES",
    "references": "MAX_ALERT_REFERENCES",
    "circles": "MAX_ALERT_CIRCLES",
}


@dataclass(frozen=True)
class IntakeLimits:
    """The most of each thing one message may carry; every <info> block counts."""

    areas: int
    polygon_points: int
    alert_points: int
    geocodes: int
    references: int
    circles: int

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> IntakeLimits:
        """From the app's settings (Flask's config is such a mapping)."""
        return cls(**{limit: int(settings[name]) for limit, name in _SETTINGS.items()})

    def check(self, limit: str, count: int, location: str, holder: str = "this message") -> None:
        """Raise a 413 naming the limit when `count` is over it: "at most 2,000 areas; this message has 5,000"."""
        allowed = getattr(self, limit)
        if count > allowed:
            reason = f"at most {allowed:,} {_WORDING[limit]}; {holder} has {count:,}"
            raise too_large(f"The alert is too large: {reason}", [FieldError(location, reason)])


DEFAULT_LIMITS = IntakeLimits.from_settings(vars(Settings()))
