"""Registering who sends alerts and what carries them: agencies with their CAP senders, and the targets
of every channel that has registrable ones (its `TargetKind`s: county broadcast platforms, BeiDou
terminals). The `flask agency` / `flask endpoints` commands and the admin pages both call these, so
the rules and the audit entries are the same whichever way an admin works.

No Flask here. Bad input raises RegistryError naming the field at fault; nothing is committed.
A target's secret (a platform's signing key) is stored but never put in an audit entry; one
generated is returned once for the caller to show. Removing deactivates: the row stays, so
delivery history still names it.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit.events import Actor, record
from .channels.spec import TargetKind
from .hazards import catalogue
from .models import ALL_HAZARDS, Agency, AgencyKind, AgencySender
from .registration import RegistryError, checked_name, county_of
from .security.api_keys import issue_agency_key

MAX_AGENCY_NAME = 120
MAX_SENDER = 255
# CAP forbids spaces, commas and the XML-restricted < and & in <sender>.
_SENDER_FORBIDDEN = set(" \t\r\n,<&")


# Why an agency is refused: a stable code and its English text (the CLI's), with the details' names.
# The admin pages word them in the reader's language by code (web/refusals.py); keep the two in step.
REFUSAL_TEXTS: Mapping[str, str] = {
    "hazards_missing": "give at least one hazard code, or 'all'",
    "hazards_all_combined": "'all' cannot be combined with other codes",
    "hazards_unknown": "unknown hazard code(s): %(unknown)s. Known codes: %(known)s, or 'all'",
    "sender_malformed": "a CAP sender has 1 to %(max)s characters, without spaces, commas, '<' or '&': %(sender)r",
    "sender_service_own": "the CAP sender %(sender)r is the service's own",
    "sender_taken": "the CAP sender %(sender)r is registered to agency %(agency)r",
    "senders_missing": "an agency needs at least one CAP sender",
    "agency_name_length": "an agency name has 1 to %(max)s characters",
    "kind_unknown": "unknown kind %(kind)r; one of %(kinds)s",
    "agency_name_taken": "an agency named %(name)r already exists",
    "agency_inactive": "agency %(name)r is already inactive",
}


class AgencyRefused(RegistryError):
    """What an agency's registration refuses (see RegistryError)."""

    texts = REFUSAL_TEXTS


# --- agencies -------------------------------------------------------------------------------------

def parse_hazards(codes: str | Iterable[str]) -> list[str]:
    """Either "all" alone, or known hazard codes (a comma list or an iterable)."""
    items = codes.split(",") if isinstance(codes, str) else codes
    wanted = list(dict.fromkeys(code.strip() for code in items if code.strip()))
    if not wanted:
        raise AgencyRefused("hazards", "hazards_missing")
    if ALL_HAZARDS in wanted:
        if len(wanted) > 1:
            raise AgencyRefused("hazards", "hazards_all_combined")
        return wanted
    known = catalogue()
    unknown = [code for code in wanted if known.get(code) is None]
    if unknown:
        raise AgencyRefused("hazards", "hazards_unknown", unknown=", ".join(unknown),
                            known=", ".join(hazard.code for hazard in known))
    return wanted


def parse_senders(senders: str | Iterable[str] | None) -> list[str]:
    """CAP senders from a list or a text (one per line, or separated by commas), in order, once each."""
    items = re.split(r"[,\r\n]+", senders) if isinstance(senders, str) else (senders or [])
    wanted = list(dict.fromkeys(sender.strip() for sender in items if sender.strip()))
    for sender in wanted:
        if len(sender) > MAX_SENDER or _SENDER_FORBIDDEN & set(sender):
            raise AgencyRefused("senders", "sender_malformed", max=MAX_SENDER, sender=sender[:MAX_SENDER])
    return wanted


def service_senders(settings: Mapping[str, object]) -> set[str]:
    """The service's own CAP senders (its console's alerts), which no agency may register."""
    return {str(settings["CONSOLE_CAP_SENDER"])}


def _check_senders_free(session: Session, senders: list[str], reserved: Collection[str],
                        agency: Agency | None = None) -> None:
    """A sender is one agency's alone, and never the service's own (the console's)."""
    if taken := [sender for sender in senders if sender in reserved]:
        raise AgencyRefused("senders", "sender_service_own", conflict=True, sender=taken[0])
    held = select(AgencySender).where(AgencySender.sender.in_(senders))
    if agency is not None:
        held = held.where(AgencySender.agency_id != agency.id)
    if (other := session.scalar(held.order_by(AgencySender.sender).limit(1))) is not None:
        raise AgencyRefused("senders", "sender_taken", conflict=True, sender=other.sender, agency=other.agency.name)


def _agency_fields(session: Session, name: str, kind: str, hazards: str | Iterable[str],
                   agency: Agency | None = None) -> tuple[str, AgencyKind, list[str]]:
    name = name.strip()
    if not 0 < len(name) <= MAX_AGENCY_NAME:
        raise AgencyRefused("name", "agency_name_length", max=MAX_AGENCY_NAME)
    try:
        agency_kind = AgencyKind(kind)
    except ValueError:
        raise AgencyRefused("kind", "kind_unknown", kind=kind, kinds=", ".join(k.value for k in AgencyKind)) from None
    codes = parse_hazards(hazards)
    others = select(Agency.id).where(Agency.id != agency.id) if agency is not None else select(Agency.id)
    if session.scalar(others.where(Agency.name == name)) is not None:
        raise AgencyRefused("name", "agency_name_taken", conflict=True, name=name)
    return name, agency_kind, codes


def create_agency(session: Session, actor: Actor, via: str, name: str, kind: str, hazards: str | Iterable[str],
                  auto_publish: bool = False, senders: str | Iterable[str] | None = None, *,
                  reserved_senders: Collection[str]) -> tuple[Agency, str]:
    """Register an agency with its CAP senders (none given: one made up) and its first API key; returns the
    agency and the key (shown once). `reserved_senders`: the service's own, which no agency may take."""
    name, agency_kind, codes = _agency_fields(session, name, kind, hazards)
    wanted = parse_senders(senders) or [f"{agency_kind.value}.{secrets.token_hex(4)}@agencies.ews.local"]
    _check_senders_free(session, wanted, reserved_senders)
    agency = Agency(name=name, kind=agency_kind, hazards=codes, auto_publish=auto_publish, cap_senders=wanted)
    session.add(agency)
    session.flush()
    record(session, actor, "agency.create", agency, via=via, name=name, kind=agency_kind.value, hazards=codes,
           auto_publish=auto_publish, cap_senders=wanted)
    return agency, issue_agency_key(session, agency, actor, via=via)


def update_agency(session: Session, actor: Actor, via: str, agency: Agency, name: str, kind: str,
                  hazards: str | Iterable[str], auto_publish: bool, senders: str | Iterable[str] | None, *,
                  reserved_senders: Collection[str]) -> dict[str, object]:
    """Change an agency's details (no senders given: it keeps its own); returns what changed, as audited."""
    name, agency_kind, codes = _agency_fields(session, name, kind, hazards, agency)
    wanted = parse_senders(senders) or list(agency.cap_senders)
    _check_senders_free(session, wanted, reserved_senders, agency)
    changes = _apply(agency, {"name": name, "kind": agency_kind, "hazards": codes, "auto_publish": auto_publish})
    changes.update(_replace_senders(agency, wanted))
    if changes:
        record(session, actor, "agency.update", agency, via=via, **changes)
    return changes


def set_agency_senders(session: Session, actor: Actor, via: str, agency: Agency, senders: Iterable[str], *,
                       reserved_senders: Collection[str]) -> dict[str, object]:
    """Give the agency exactly these CAP senders, the first its JSON default; returns the change, as audited."""
    wanted = parse_senders(senders)
    if not wanted:
        raise AgencyRefused("senders", "senders_missing")
    _check_senders_free(session, wanted, reserved_senders, agency)
    changes = _replace_senders(agency, wanted)
    if changes:
        record(session, actor, "agency.update", agency, via=via, **changes)
    return changes


def _replace_senders(agency: Agency, wanted: list[str]) -> dict[str, object]:
    """Keep the rows of senders that stay (so no unique sender is deleted and inserted in one flush)."""
    before = list(agency.cap_senders)
    if before == wanted:
        return {}
    kept = {row.sender: row for row in agency.senders}
    agency.senders = [kept.get(sender) or AgencySender(sender=sender) for sender in wanted]
    for position, row in enumerate(agency.senders):
        row.position = position
    return {"cap_senders": wanted, "senders_added": [s for s in wanted if s not in before],
            "senders_removed": [s for s in before if s not in wanted]}


def deactivate_agency(session: Session, actor: Actor, via: str, agency: Agency) -> None:
    """Its keys stop working at once (agency_for_key checks `active`); its alerts and keys stay on record."""
    if not agency.active:
        raise AgencyRefused("agency", "agency_inactive", conflict=True, name=agency.name)
    agency.active = False
    record(session, actor, "agency.deactivate", agency, via=via, name=agency.name)


# --- channel targets: any channel's registrable kinds (channels/spec.py TargetKind) ----------------

def add_target(session: Session, actor: Actor, via: str, kind: TargetKind, county_code: str, name: str | None,
               exercise: bool, values: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Register one target of the kind; returns it and a secret generated for it (shown once), else None."""
    county = county_of(session, county_code)
    checked = kind.check(session, county, values, None)
    name = checked_name(name, checked.default_name)
    target = kind.model(county_code=county.code, name=name, exercise=exercise, **checked.attributes, **checked.hidden)
    session.add(target)
    session.flush()
    record(session, actor, f"{kind.key}.add", target, via=via, county=county.code, name=name, exercise=exercise,
           **checked.audit)
    return target, checked.shown_once


def update_target(session: Session, actor: Actor, via: str, kind: TargetKind, target: Any, county_code: str,
                  name: str | None, exercise: bool, values: Mapping[str, Any]) -> tuple[dict[str, object], str | None]:
    """Change a target's details; returns what changed, as audited, and a secret generated for it, else None."""
    county = county_of(session, county_code)
    checked = kind.check(session, county, values, target)
    changes = _apply(target, {"county_code": county.code, **checked.attributes,
                              "name": checked_name(name, target.name), "exercise": exercise})
    for attribute, value in checked.hidden.items():
        setattr(target, attribute, value)
    changes.update(checked.audit)  # the fact of a hidden change (a new secret), never its value
    if changes:
        record(session, actor, f"{kind.key}.update", target, via=via, **changes)
    return changes, checked.shown_once


def deactivate_target(session: Session, actor: Actor, via: str, kind: TargetKind, target: Any) -> None:
    """No new alert reaches it; its deliveries stay on record."""
    if not target.active:
        raise kind.refused("id", f"{kind.key}_inactive", conflict=True, id=target.id, name=target.name)
    target.active = False
    record(session, actor, f"{kind.key}.deactivate", target, via=via, name=target.name)


def _apply(row: object, values: dict[str, object]) -> dict[str, object]:
    """Set the values that differ; return them as the audit entry records them (enums by value)."""
    changes: dict[str, object] = {}
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changes[name] = getattr(value, "value", value)
    return changes
