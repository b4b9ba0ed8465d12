"""A duty officer's decisions on an alert: publish (with the safeguards), reject, cancel.

The safeguards against the wrong button: the officer confirms the alert's
status (Actual or Exercise) in so many words, and the confirmation must match;
a red Actual warning needs a second duty officer's approval when
RED_NEEDS_SECOND_OFFICER is on, except earthquake early warning, whose seconds
allow an emergency override that is logged. No Flask here: the console calls
these and turns ReviewRefused into a message for the officer.
"""
from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.events import record
from ..models import (
    REJECT_REASON_MAX_CHARS,
    Alert,
    AlertState,
    AuditEvent,
    CapStatus,
    Level,
    MsgType,
    User,
    utcnow,
)
from .publish import publish

OVERRIDABLE_HAZARDS = frozenset({"earthquake_early_warning"})


# Why a decision is refused: a stable code, and its English text with the details' names.
# The console translates by code (web/console.py REFUSALS); keep the two in step.
REFUSAL_TEXTS: Mapping[str, str] = {
    "publish_not_waiting": "This alert is %(state)s; only an alert waiting for review can be published.",
    "status_mismatch": "The confirmation says %(confirmed)s, but this alert is %(status)s. Nothing was published.",
    "override_not_allowed": "Only an earthquake early warning may skip the second officer.",
    "already_approved": "You have approved this alert already; a second duty officer must approve it.",
    "reject_not_waiting": "This alert is %(state)s; only an alert waiting for review can be rejected.",
    "cancel_not_published": "This alert is %(state)s; only a published alert can be cancelled.",
    "cancel_unconfirmed": "Nothing was cancelled: the cancellation was not confirmed. Confirm it, "
                          "after reading which alert, counties and reach it names.",
    "reason_missing": "Nothing was rejected: give the reason for rejecting this alert.",
    "reason_too_long": "Nothing was rejected: the reason has %(length)s characters; at most %(limit)s.",
    "reason_control_characters": "Nothing was rejected: the reason contains control characters; "
                                 "write it as one line of plain text.",
}
# Refusals of what the officer typed or ticked (bad input), rather than of the alert's state.
INPUT_REFUSALS = frozenset({"cancel_unconfirmed", "reason_missing", "reason_too_long", "reason_control_characters"})


class ReviewRefused(Exception):
    """The decision cannot be taken: `code` (a key of REFUSAL_TEXTS) says why, `details` fill its text."""

    def __init__(self, code: str, **details: str) -> None:
        self.code = code
        self.details = details
        super().__init__(REFUSAL_TEXTS[code] % details)


def needs_second_officer(alert: Alert, settings: Mapping[str, object]) -> bool:
    return bool(settings["RED_NEEDS_SECOND_OFFICER"]) and alert.status == CapStatus.ACTUAL and alert.level == Level.RED


def approvals(session: Session, alert: Alert) -> list[int]:
    """The ids of the officers who approved the alert so far."""
    return list(session.scalars(select(AuditEvent.actor_id).where(
        AuditEvent.action == "alert.approve", AuditEvent.subject_type == "alerts", AuditEvent.subject_id == alert.id)))


def decide_publish(session: Session, alert: Alert, officer: User, confirmed_status: str,
                   settings: Mapping[str, object], emergency_override: bool = False) -> bool:
    """Publish, or record this officer's approval while a second is needed. True when published.

    Does not commit; the caller commits and then queues the fan-out.
    """
    if alert.state != AlertState.PENDING_REVIEW:
        raise ReviewRefused("publish_not_waiting", state=alert.state.value)
    if confirmed_status != alert.status.value:
        raise ReviewRefused("status_mismatch", confirmed=confirmed_status or "—", status=alert.status.value)
    if emergency_override and alert.hazard_code not in OVERRIDABLE_HAZARDS:
        raise ReviewRefused("override_not_allowed")
    if needs_second_officer(alert, settings) and not emergency_override:
        earlier = approvals(session, alert)
        if officer.id in earlier:
            raise ReviewRefused("already_approved")
        if not earlier:
            record(session, officer, "alert.approve", alert, status=alert.status.value)
            return False
    if emergency_override:
        record(session, officer, "alert.emergency_override", alert, reason="earthquake early warning")
    record(session, officer, "alert.approve", alert, status=alert.status.value)
    publish(session, alert, officer)
    return True


def reject_reason(text: str) -> str:
    """The reason as kept: trimmed, required, bounded, one line without control characters, since the
    agency, the report and the ledger show it as written."""
    reason = unicodedata.normalize("NFC", text.strip())
    if not reason:
        raise ReviewRefused("reason_missing")
    if len(reason) > REJECT_REASON_MAX_CHARS:
        raise ReviewRefused("reason_too_long", length=str(len(reason)), limit=str(REJECT_REASON_MAX_CHARS))
    if any(unicodedata.category(ch) == "Cc" for ch in reason):
        raise ReviewRefused("reason_control_characters")
    return reason


def reject(session: Session, alert: Alert, officer: User, reason: str) -> None:
    """Refuse an alert waiting for review, for the reason the officer gives (kept on it and in the ledger)."""
    if alert.state != AlertState.PENDING_REVIEW:
        raise ReviewRefused("reject_not_waiting", state=alert.state.value)
    alert.reject_reason = reject_reason(reason)
    alert.move_to(AlertState.REJECTED)
    record(session, officer, "alert.reject", alert, reason=alert.reject_reason)


def cancel(session: Session, alert: Alert, officer: User, settings: Mapping[str, object], confirmed: bool,
           now: datetime | None = None) -> Alert:
    """Make and publish a Cancel of a published alert: its pending deliveries stop, and whoever it
    reached is told it is cancelled. Only once the officer confirmed it, having been shown what it
    withdraws. Returns the Cancel. Does not commit."""
    if alert.state not in (AlertState.PUBLISHING, AlertState.PUBLISHED):
        raise ReviewRefused("cancel_not_published", state=alert.state.value)
    if not confirmed:
        raise ReviewRefused("cancel_unconfirmed")
    now = now or utcnow()
    cancellation = Alert(
        identifier=str(uuid.uuid4()), sender=str(settings["CONSOLE_CAP_SENDER"]), sent=now.replace(microsecond=0),
        status=alert.status, msg_type=MsgType.CANCEL, references=[alert.cap_reference],
        hazard_code=alert.hazard_code, level=alert.level, event=alert.event, expires=alert.expires,
        area=alert.area, named_places=alert.named_places, original=json.dumps({"cancel": alert.cap_reference, "by": officer.username}).encode(),
        original_format="console", state=AlertState.RECEIVED, agency_id=alert.agency_id, created_by_id=officer.id,
    )
    cancellation.counties = list(alert.counties)
    session.add(cancellation)
    session.flush()
    record(session, officer, "alert.create", cancellation, msg_type="Cancel", cancels=alert.id)
    publish(session, cancellation, officer)
    return cancellation
