"""Turning an authenticated agency's message, or a duty officer's from the console, into an Alert:
idempotent, authorised, all or nothing. An agency speaks only as one of its registered CAP senders,
may issue only its hazards and act only on its own alerts, and may publish at once when it is set to;
a duty officer's alert always waits for review.

Order matters: the sender is checked first. An agency's alert is then stored without looking for its
(sender, identifier) first: the unique constraint on (agency, sender, identifier) refuses a second
one (the caller rolls back and answers with the first), and a message refused on the way (say,
replayed after it expired) is looked up then, so it still answers with the alert it created. A
duty officer's alert (no agency: the constraint does not cover it) is looked up first. Either way
the lookup is scoped to the author, so no one else's pair can answer or block it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ..audit.events import record
from ..cap.errors import FieldError
from ..cap.message import AlertMessage
from ..dispatch.publish import publish
from ..hazards import HazardCatalogue
from ..intake.cap_xml import invalid_fields
from ..intake.errors import IntakeError, forbidden, invalid
from ..intake.interpret import AlertDraft, interpret
from ..models import Agency, Alert, AlertState, CapStatus, Level, MsgType, User, alert_counties
from .named_areas import resolve_named_areas


@dataclass
class IngestResult:
    alert: Alert
    created: bool
    notes: list[str] = field(default_factory=list)  # what intake filled in for the sender (a default expiry)


def ingest(
    session: Session,
    message: AlertMessage,
    original: bytes,
    author: Agency | User,
    catalogue: HazardCatalogue,
) -> IngestResult:
    """Store the message as an Alert and apply the author's policy. Raises IntakeError (stores nothing then),
    or IntegrityError from the INSERT when the agency holds the (sender, identifier) already: the caller rolls
    back and answers with that alert (`Alert.by_cap_key`)."""
    agency = author if isinstance(author, Agency) else None
    if agency is None:
        existing = Alert.by_cap_key(session, message.sender, message.identifier, None)
        if existing is not None:
            return IngestResult(existing, created=False)
        return _store(session, message, original, author, catalogue)
    check_sender(agency, message)
    try:
        return _store(session, message, original, agency, catalogue)
    except IntakeError:
        existing = Alert.by_cap_key(session, message.sender, message.identifier, agency.id)
        if existing is None:
            raise
        return IngestResult(existing, created=False)


def _store(session: Session, message: AlertMessage, original: bytes, author: Agency | User,
           catalogue: HazardCatalogue) -> IngestResult:
    """Interpret, authorise and insert the alert with its counties and ledger entry; publish it when its
    agency publishes at once. The alert's INSERT raises IntegrityError if its author holds the pair."""
    agency = author if isinstance(author, Agency) else None
    named_places = resolve_named_areas(session, message)
    draft = interpret(message, catalogue)
    referenced = _referenced(session, message, agency)
    if draft.hazard is None and referenced:  # a Cancel with no <info> inherits what it cancels
        draft.county_codes = referenced[0].county_codes
        named_places = referenced[0].named_places
    if agency is not None and draft.hazard is not None and not agency.may_issue(draft.hazard.code):
        raise forbidden(f"agency {agency.name!r} may not issue {draft.hazard.code!r} alerts")

    alert = _new_alert(draft, referenced, original, author)
    alert.named_places = named_places
    publishes_at_once = agency is not None and agency.auto_publish
    if not publishes_at_once:
        # Before the INSERT, so no UPDATE follows it while this request holds the ledger's turn.
        alert.move_to(AlertState.PENDING_REVIEW)
    session.add(alert)
    session.flush()
    _add_counties(session, alert, draft.county_codes)
    record(session, author, "alert.receive", alert, msg_type=alert.msg_type.value, format=message.format)
    if publishes_at_once:
        publish(session, alert, agency)
    return IngestResult(alert, created=True, notes=draft.notes)


def check_sender(agency: Agency, message: AlertMessage) -> None:
    """Refuse (403) a message in another's name: its <sender> must be one the agency registered."""
    if agency.may_send_as(message.sender):
        return
    allowed = ", ".join(agency.cap_senders)
    location = "sender" if message.format == "json" else "/alert/sender"
    raise IntakeError(403, "Not allowed", f"agency {agency.name!r} may send only as {allowed}, "
                                          f"not as {message.sender!r}",
                      [FieldError(location, f"one of the agency's registered CAP senders: {allowed}")])


def author_agency_id(author: Agency | User) -> int | None:
    """The agency an alert is stored under (None for the console's)."""
    return author.id if isinstance(author, Agency) else None


def _referenced(session: Session, message: AlertMessage, agency: Agency | None) -> list[Alert]:
    """The alerts an Update or Cancel acts on; unknown or foreign references are refused."""
    found: list[Alert] = []
    unknown: list[FieldError] = []
    for index, reference in enumerate(message.references):
        target = Alert.named_by(session, reference.sender, reference.identifier, agency.id if agency else None)
        if target is None:
            unknown.append(FieldError(f"references[{index}]", f"no alert {reference.sender},{reference.identifier} is known here"))
            continue
        if agency is not None and target.agency_id != agency.id:
            raise forbidden(f"alert {reference.identifier!r} belongs to another agency")
        if target.status.value != message.status:
            raise invalid(
                f"a {message.status} message cannot act on the {target.status.value} alert {reference.identifier!r}",
                [FieldError(f"references[{index}]", "status differs from the referenced alert's")],
            )
        if not target.is_live:
            raise IntakeError(409, "Alert no longer in force",
                              f"alert {reference.identifier!r} is already {target.state.value}")
        found.append(target)
    if unknown:  # named up to MAX_REPORTED, the rest counted: a message may carry thousands
        raise invalid_fields("the message references alerts this service does not hold", unknown)
    return found


def _new_alert(draft: AlertDraft, referenced: list[Alert], original: bytes,
               author: Agency | User) -> Alert:
    message = draft.message
    hazard_code = draft.hazard.code if draft.hazard else (referenced[0].hazard_code if referenced else None)
    level = draft.level or (referenced[0].level.value if referenced and referenced[0].level else None)
    alert = Alert(
        identifier=message.identifier,
        sender=message.sender,
        sent=message.sent,
        status=CapStatus(message.status),
        msg_type=MsgType(message.msg_type),
        scope=message.scope,
        source=message.source,
        restriction=message.restriction,
        addresses=message.addresses,
        note=message.note,
        references=[f"{r.sender},{r.identifier},{r.sent}" for r in message.references],
        incidents=list(message.incidents),
        hazard_code=hazard_code,
        level=Level(level) if level else None,
        event=draft.event,
        categories=draft.categories,
        response_types=draft.response_types,
        urgency=draft.urgency,
        severity=draft.severity,
        certainty=draft.certainty,
        effective=draft.effective,
        onset=draft.onset,
        expires=draft.expires,
        headline=draft.headline,
        description=draft.description,
        instruction=draft.instruction,
        parameters=draft.parameters,
        area=draft.area,
        infos=message.infos_as_json(),
        original=original,
        original_format=message.format,
        state=AlertState.RECEIVED,
        agency_id=author_agency_id(author),
        created_by_id=author.id if isinstance(author, User) else None,
    )
    return alert


def _add_counties(session: Session, alert: Alert, codes: list[str]) -> None:
    """The alert's county rows in one INSERT, by code: intake resolved the codes against the shipped region
    map (the seeded `counties` rows), so loading each County first would cost a query and buy nothing."""
    if codes:
        session.execute(insert(alert_counties), [{"alert_id": alert.id, "county_code": code} for code in codes])
    session.expire(alert, ["counties"])  # read from the rows just written, should anything ask
