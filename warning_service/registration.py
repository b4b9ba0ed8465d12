"""What every registration refuses with, and the checks agencies and channel targets share.

Below both directory.py (agencies, and the add/update/deactivate of any channel's targets, with their
audit entries) and the channel packages (each kind of target's own checks), so neither imports the
other. No Flask here: a refusal carries a stable code and its English text, which the CLI prints and
the admin pages word in the reader's language (web/refusals.py).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from .models import County

MAX_NAME = 120
_TOWNSHIP_RE = re.compile(r"\d{12}")

# The refusals of the checks below; agencies' are in directory.py, each kind of target's in its channel.
REFUSAL_TEXTS: Mapping[str, str] = {
    "county_unknown": "%(county)r is not one of the 31 counties of Garzê and Ngawa "
                      "(its 6-digit code, e.g. 513301; see `flask seed regions`)",
    "target_name_length": "a name has at most %(max)s characters",
    "township_malformed": "a township code has 12 digits and begins with its county's code %(county)s",
}


class RegistryError(ValueError):
    """Input a registration refuses; `field` names the input (name, kind, hazards, senders, county, url, ...),
    `code` (a key of `texts`) says why and `details` fill its text.

    `conflict`: the input is well-formed but clashes with what is registered (a name or card taken).
    A subclass registering other things brings its own `texts` (agencies, named areas, each kind of target).
    """

    texts: Mapping[str, str] = REFUSAL_TEXTS

    def __init__(self, field: str, code: str, conflict: bool = False, **details: object) -> None:
        self.field = field
        self.code = code
        self.details = details
        self.text = self.texts[code]  # English: the CLI's and the ledger's, the console's msgid for a channel's own
        self.message = self.text % details
        self.conflict = conflict
        super().__init__(self.message)


def county_of(session: Session, code: str) -> County:
    county = session.get(County, (code or "").strip())
    if county is None:
        raise RegistryError("county", "county_unknown", county=code)
    return county


def checked_name(name: str | None, default: str) -> str:
    name = (name or "").strip() or default
    if len(name) > MAX_NAME:
        raise RegistryError("name", "target_name_length", max=MAX_NAME)
    return name


def checked_township(township: str | None, county: County) -> str | None:
    """A 12-digit township code of the county, or None for none given."""
    township = (township or "").strip() or None
    if township is not None and not (_TOWNSHIP_RE.fullmatch(township) and township.startswith(county.code)):
        raise RegistryError("township", "township_malformed", county=county.code)
    return township


def target_flags(target: Any) -> str:
    """" (group, exercise, inactive)" as it applies, for listings and messages."""
    flags = [label for label, on in (("group", getattr(target, "is_group", False)), ("exercise", target.exercise),
                                     ("inactive", not target.active)) if on]
    return f" ({', '.join(flags)})" if flags else ""
