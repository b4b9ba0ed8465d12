"""Registering who sends alerts and what carries them: agencies, county broadcast platforms and
BeiDou terminals. The `flask agency` / `flask endpoints` commands and the admin pages both call
these, so the rules and the audit entries are the same whichever way an admin works.

No Flask here. Bad input raises RegistryError naming the field at fault; nothing is committed.
A broadcast platform's signing secret is stored (the adapter signs with it) but never put in an
audit entry; one generated here is returned once for the caller to show. Removing deactivates:
the row stays, so delivery history still names it.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterable, Mapping
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audit.events import Actor, record
from .hazards import catalogue
from .models import ALL_HAZARDS, Agency, AgencyKind, AgencySender, BeidouTerminal, BroadcastEndpoint, County
from .security.api_keys import issue_agency_key

MAX_AGENCY_NAME = 120
MAX_NAME = 120
MAX_URL = 500
MAX_SENDER = 255
# CAP forbids spaces, commas and the XML-restricted < and & in <sender>.
_SENDER_FORBIDDEN = set(" \t\r\n,<&")
_CARD_RE = re.compile(r"\d{7}")
_TOWNSHIP_RE = re.compile(r"\d{12}")
# Per kind of target: its audit action prefix and what messages call it.
TARGET_KINDS = {BroadcastEndpoint: ("broadcast_endpoint", "broadcast endpoint"),
                BeidouTerminal: ("beidou_terminal", "BeiDou terminal")}


# Why the registry refuses: a stable code and its English text (the CLI's), with the details' names.
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
    "county_unknown": "%(county)r is not one of the 31 counties of Garzê and Ngawa "
                      "(its 6-digit code, e.g. 513301; see `flask seed regions`)",
    "url_malformed": "give the platform's http:// or https:// URL (at most %(max)s characters)",
    "target_name_length": "a name has at most %(max)s characters",
    "secret_empty": "the signing secret cannot be empty",
    "url_taken": "active broadcast endpoint %(existing)s already has the URL %(url)s",
    "card_malformed": "a BeiDou card address has 7 digits",
    "township_malformed": "a township code has 12 digits and begins with its county's code %(county)s",
    "card_taken": "card %(card)s is already terminal %(terminal)s",
    "broadcast_endpoint_inactive": "broadcast endpoint %(id)s (%(name)s) is already inactive",
    "beidou_terminal_inactive": "BeiDou terminal %(id)s (%(name)s) is already inactive",
}


class RegistryError(ValueError):
    """Input the registry refuses; `field` names the input (name, kind, hazards, senders, county, url, ...),
    `code` (a key of REFUSAL_TEXTS) says why and `details` fill its text.

    `conflict`: the input is well-formed but clashes with what is registered (a name or card taken).
    A subclass registering other things brings its own `texts`.
    """

    texts: Mapping[str, str] = REFUSAL_TEXTS

    def __init__(self, field: str, code: str, conflict: bool = False, **details: object) -> None:
        self.field = field
        self.code = code
        self.details = details
        self.message = self.texts[code] % details
        self.conflict = conflict
        super().__init__(self.message)


# --- agencies -------------------------------------------------------------------------------------

def parse_hazards(codes: str | Iterable[str]) -> list[str]:
    """Either "all" alone, or known hazard codes (a comma list or an iterable)."""
    items = codes.split(",") if isinstance(codes, str) else codes
    wanted = list(dict.fromkeys(code.strip() for code in items if code.strip()))
    if not wanted:
        raise RegistryError("hazards", "hazards_missing")
    if ALL_HAZARDS in wanted:
        if len(wanted) > 1:
            raise RegistryError("hazards", "hazards_all_combined")
        return wanted
    known = catalogue()
    unknown = [code for code in wanted if known.get(code) is None]
    if unknown:
        raise RegistryError("hazards", "hazards_unknown", unknown=", ".join(unknown),
                            known=", ".join(hazard.code for hazard in known))
    return wanted


def parse_senders(senders: str | Iterable[str] | None) -> list[str]:
    """CAP senders from a list or a text (one per line, or separated by commas), in order, once each."""
    items = re.split(r"[,\r\n]+", senders) if isinstance(senders, str) else (senders or [])
    wanted = list(dict.fromkeys(sender.strip() for sender in items if sender.strip()))
    for sender in wanted:
        if len(sender) > MAX_SENDER or _SENDER_FORBIDDEN & set(sender):
            raise RegistryError("senders", "sender_malformed", max=MAX_SENDER, sender=sender[:MAX_SENDER])
    return wanted


def service_senders(settings: Mapping[str, object]) -> set[str]:
    """The service's own CAP senders (its console's alerts), which no agency may register."""
    return {str(settings["CONSOLE_CAP_SENDER"])}


def _check_senders_free(session: Session, senders: list[str], reserved: Collection[str],
                        agency: Agency | None = None) -> None:
    """A sender is one agency's alone, and never the service's own (the console's)."""
    if taken := [sender for sender in senders if sender in reserved]:
        raise RegistryError("senders", "sender_service_own", conflict=True, sender=taken[0])
    held = select(AgencySender).where(AgencySender.sender.in_(senders))
    if agency is not None:
        held = held.where(AgencySender.agency_id != agency.id)
    if (other := session.scalar(held.order_by(AgencySender.sender).limit(1))) is not None:
        raise RegistryError("senders", "sender_taken", conflict=True, sender=other.sender, agency=other.agency.name)


def _agency_fields(session: Session, name: str, kind: str, hazards: str | Iterable[str],
                   agency: Agency | None = None) -> tuple[str, AgencyKind, list[str]]:
    name = name.strip()
    if not 0 < len(name) <= MAX_AGENCY_NAME:
        raise RegistryError("name", "agency_name_length", max=MAX_AGENCY_NAME)
    try:
        agency_kind = AgencyKind(kind)
    except ValueError:
        raise RegistryError("kind", "kind_unknown", kind=kind, kinds=", ".join(k.value for k in AgencyKind)) from None
    codes = parse_hazards(hazards)
    others = select(Agency.id).where(Agency.id != agency.id) if agency is not None else select(Agency.id)
    if session.scalar(others.where(Agency.name == name)) is not None:
        raise RegistryError("name", "agency_name_taken", conflict=True, name=name)
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
        raise RegistryError("senders", "senders_missing")
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
        raise RegistryError("agency", "agency_inactive", conflict=True, name=agency.name)
    agency.active = False
    record(session, actor, "agency.deactivate", agency, via=via, name=agency.name)


# --- broadcast endpoints and BeiDou terminals -----------------------------------------------------

def county_of(session: Session, code: str) -> County:
    county = session.get(County, (code or "").strip())
    if county is None:
        raise RegistryError("county", "county_unknown", county=code)
    return county


def checked_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise RegistryError("url", "url_malformed", max=MAX_URL)
    return url


def checked_name(name: str | None, default: str) -> str:
    name = (name or "").strip() or default
    if len(name) > MAX_NAME:
        raise RegistryError("name", "target_name_length", max=MAX_NAME)
    return name


def _checked_secret(secret: str) -> str:
    if not secret.strip():
        raise RegistryError("secret", "secret_empty")
    return secret


def _unique_url(session: Session, url: str, endpoint: BroadcastEndpoint | None = None) -> None:
    same_url = select(BroadcastEndpoint.id).where(BroadcastEndpoint.url == url, BroadcastEndpoint.active)
    if endpoint is not None:
        same_url = same_url.where(BroadcastEndpoint.id != endpoint.id)
    if (existing := session.scalar(same_url)) is not None:
        raise RegistryError("url", "url_taken", conflict=True, existing=existing, url=url)


def add_broadcast_endpoint(session: Session, actor: Actor, via: str, county_code: str, url: str,
                           secret: str | None, name: str | None = None,
                           exercise: bool = False) -> tuple[BroadcastEndpoint, str | None]:
    """Add a county's platform. With no secret one is generated, and returned (else None) to show once."""
    county = county_of(session, county_code)
    url = checked_url(url)
    generated = secrets.token_urlsafe(32) if secret is None else None
    secret = generated or _checked_secret(secret or "")
    name = checked_name(name, f"{county.name_zh}应急广播平台")
    _unique_url(session, url)
    endpoint = BroadcastEndpoint(county_code=county.code, name=name, url=url, secret=secret, exercise=exercise)
    session.add(endpoint)
    session.flush()
    record(session, actor, "broadcast_endpoint.add", endpoint, via=via, county=county.code, name=name, url=url,
           exercise=exercise, secret_generated=generated is not None)
    return endpoint, generated


def update_broadcast_endpoint(session: Session, actor: Actor, via: str, endpoint: BroadcastEndpoint,
                              county_code: str, url: str, name: str | None, exercise: bool,
                              new_secret: str | None = None, generate_secret: bool = False) -> str | None:
    """Change a platform's details; a new secret when given or asked for. Returns a generated secret, else None."""
    county = county_of(session, county_code)
    url = checked_url(url)
    name = checked_name(name, endpoint.name)
    _unique_url(session, url, endpoint)
    generated = secrets.token_urlsafe(32) if generate_secret else None
    secret = generated or (_checked_secret(new_secret) if new_secret else None)
    changes = _apply(endpoint, {"county_code": county.code, "url": url, "name": name, "exercise": exercise})
    if secret is not None:
        endpoint.secret = secret
        changes["secret"] = "generated" if generated else "replaced"  # the fact, never the value
    if changes:
        record(session, actor, "broadcast_endpoint.update", endpoint, via=via, **changes)
    return generated


def _terminal_fields(session: Session, county_code: str, card: str, township: str | None,
                     terminal: BeidouTerminal | None = None) -> tuple[County, str, str | None]:
    county = county_of(session, county_code)
    card = (card or "").strip()
    if not _CARD_RE.fullmatch(card):
        raise RegistryError("card", "card_malformed")
    township = (township or "").strip() or None
    if township is not None and not (_TOWNSHIP_RE.fullmatch(township) and township.startswith(county.code)):
        raise RegistryError("township", "township_malformed", county=county.code)
    existing = session.scalar(select(BeidouTerminal).where(BeidouTerminal.card_address == card))
    if existing is not None and existing is not terminal:
        raise RegistryError("card", "card_taken", conflict=True, card=card,
                            terminal=f"{existing.id}{target_flags(existing)}")
    return county, card, township


def add_beidou_terminal(session: Session, actor: Actor, via: str, county_code: str, card: str,
                        township: str | None = None, name: str | None = None, is_group: bool = False,
                        exercise: bool = False) -> BeidouTerminal:
    county, card, township = _terminal_fields(session, county_code, card, township)
    name = checked_name(name, f"{county.name_zh}北斗终端 {card}")
    terminal = BeidouTerminal(card_address=card, county_code=county.code, township_code=township, name=name,
                              is_group=is_group, exercise=exercise)
    session.add(terminal)
    session.flush()
    record(session, actor, "beidou_terminal.add", terminal, via=via, county=county.code, card=card,
           township=township, name=name, is_group=is_group, exercise=exercise)
    return terminal


def update_beidou_terminal(session: Session, actor: Actor, via: str, terminal: BeidouTerminal, county_code: str,
                           card: str, township: str | None, name: str | None, is_group: bool,
                           exercise: bool) -> dict[str, object]:
    county, card, township = _terminal_fields(session, county_code, card, township, terminal)
    changes = _apply(terminal, {"county_code": county.code, "card_address": card, "township_code": township,
                                "name": checked_name(name, terminal.name), "is_group": is_group,
                                "exercise": exercise})
    if changes:
        record(session, actor, "beidou_terminal.update", terminal, via=via, **changes)
    return changes


def deactivate_target(session: Session, actor: Actor, via: str, target: BroadcastEndpoint | BeidouTerminal) -> None:
    """No new alert reaches it; its deliveries stay on record."""
    action = TARGET_KINDS[type(target)][0]
    if not target.active:
        raise RegistryError("id", f"{action}_inactive", conflict=True, id=target.id, name=target.name)
    target.active = False
    record(session, actor, f"{action}.deactivate", target, via=via, name=target.name)


def target_flags(target: BroadcastEndpoint | BeidouTerminal) -> str:
    """" (group, exercise, inactive)" as it applies, for listings and messages."""
    flags = [label for label, on in (("group", getattr(target, "is_group", False)), ("exercise", target.exercise),
                                     ("inactive", not target.active)) if on]
    return f" ({', '.join(flags)})" if flags else ""


def _apply(row: object, values: dict[str, object]) -> dict[str, object]:
    """Set the values that differ; return them as the audit entry records them (enums by value)."""
    changes: dict[str, object] = {}
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changes[name] = getattr(value, "value", value)
    return changes
