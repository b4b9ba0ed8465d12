"""A located problem in a CAP message, shared by whatever reads one (intake's rules, geography's areas)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FieldError:
    """One failing field: `location` is a JSON field path (area.polygon[0]) or an XML path."""

    location: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message}
