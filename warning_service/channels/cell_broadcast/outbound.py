"""Whom a cell broadcast goes to and what each gets: one delivery per operator's CBC per alert version.

- Targets: the active CBCs of the alert's kind (exercise CBCs for Exercise and Test, real ones for
  Actual); an Update also goes to each CBC that accepted what it updates (a deactivated one still hears
  that its broadcast changed), and a Cancel only to those (dispatch/targets.py, as for every channel).
  A CBC covers the whole area, so its delivery's county is the alert's first (the channel is not
  counted per county: ChannelSpec.per_county).
- Messages: each CBC's CAP document names what *that* CBC accepted before (message.py).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, String, literal, or_, select
from sqlalchemy.orm import Session

from ...geography.named_areas import named_area_codes
from ...models import Alert, CbcOperator, Delivery, DeliveryStatus, MsgType, NamedArea, referenced_alerts
from ...models.sql import ids_in
from ...rendering.render import RenderError
from ..base import AlertContent, OutboundMessage, Outcome, SendResult
from ..spec import Address
from .message import NothingToCancel, Version, cap_message, reference, version_of

NAME = "cell_broadcast"
LANGUAGES = ("zh", "bo")  # both, in the order of the CAP <info> blocks
# A delivery the CBC accepted at some point (a callback may have moved it on since).
ACCEPTED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED)
_VERSIONS: dict[tuple, Version] = {}
_VERSIONS_SIZE = 32


class Claimed(Protocol):
    id: int
    target_id: int  # the operator's id
    attempt: int


Row = TypeVar("Row", bound=Claimed)


def select_targets(session: Session, alert: Alert, counties: Sequence[str], is_exercise: bool) -> Select:
    """SELECT target_id, county_code: the active CBCs of the alert's kind, and for an Update those that
    accepted what it updates."""
    operators = select(CbcOperator.id.label("target_id"), literal(min(counties), String).label("county_code"))
    kind = CbcOperator.active.is_(True) & CbcOperator.exercise.is_(is_exercise)
    if alert.msg_type != MsgType.UPDATE:
        return operators.where(kind)
    reached = select(Delivery.target_id).where(Delivery.alert_id.in_(earlier_versions(session, alert)),
                                               Delivery.channel == NAME, Delivery.status.in_(ACCEPTED))
    return operators.where(or_(kind, CbcOperator.id.in_(reached)))


def addresses(session: Session, target_ids: Sequence[int]) -> dict[int, Address]:
    """Each CBC's primary URL and bearer token (the messages themselves come from `messages`)."""
    rows = session.execute(select(CbcOperator.id, CbcOperator.url, CbcOperator.token)
                           .where(ids_in(session, CbcOperator.id, target_ids)))
    return {operator_id: Address(url, LANGUAGES, token) for operator_id, url, token in rows}


def earlier_versions(session: Session, alert: Alert) -> list[int]:
    """Every alert this one updates or cancels, and what those did, transitively: an Update of an Update
    still names the original to a CBC that has it."""
    found: set[int] = set()
    pending = [alert]
    while pending:
        for earlier in referenced_alerts(session, pending.pop()):
            if earlier.id not in found and earlier.id != alert.id:
                found.add(earlier.id)
                pending.append(earlier)
    return sorted(found)


def messages(session: Session, alert: Alert, content: AlertContent, rows: Sequence[Row],
             settings: Mapping[str, Any]) -> tuple[list[tuple[Row, OutboundMessage]], list[SendResult]]:
    """(row, message) for each claimed delivery, and the results of those that cannot go: a CBC gone,
    nothing for it to cancel, an alert the templates cannot render."""
    operators = {operator.id: operator for operator in session.scalars(
        select(CbcOperator).where(ids_in(session, CbcOperator.id, [row.target_id for row in rows])))}
    sender = str(settings["CONSOLE_CAP_SENDER"])
    try:
        version = alert_version(session, alert, sender, content)
    except RenderError as error:
        return [], [SendResult(row.id, Outcome.PERMANENT, code="unrenderable", text=str(error)[:300]) for row in rows]
    earlier = accepted_before(session, alert, list(operators), sender)
    ready: list[tuple[Row, OutboundMessage]] = []
    refused: list[SendResult] = []
    for row in rows:
        operator = operators.get(row.target_id)
        if operator is None:
            refused.append(SendResult(row.id, Outcome.PERMANENT, code="gone", text="the CBC no longer exists"))
            continue
        try:
            document = cap_message(version, operator, earlier.get(operator.id, []), settings)
        except NothingToCancel as nothing:
            refused.append(SendResult(row.id, Outcome.PERMANENT, code="nothing-to-cancel", text=str(nothing)))
            continue
        ready.append((row, OutboundMessage(
            delivery_id=row.id, address=operator.url, texts=(document.decode(),), content=content,
            attempt=row.attempt, secret=operator.token, failover_address=operator.failover_url)))
    return ready, refused


def alert_version(session: Session, alert: Alert, sender: str, content: AlertContent | None = None) -> Version:
    """The alert's Version, cached per alert and state change like the other channels' texts (`content`: those
    texts when the dispatch has rendered them already); the polygons are covered once per area and vertex limit
    (message.covered). The console's map of what each CBC gets draws these same polygons."""
    key = (alert.id, alert.state_changed_at, sender)
    if key not in _VERSIONS:
        if len(_VERSIONS) >= _VERSIONS_SIZE:
            _VERSIONS.clear()
        codes = named_area_codes((alert.area or {}).get("geocodes", []))
        named = {area.code: area for area in session.scalars(select(NamedArea).where(NamedArea.code.in_(codes)))} \
            if codes else {}
        _VERSIONS[key] = version_of(alert, [named[code] for code in codes if code in named], sender, content)
    return _VERSIONS[key]


def accepted_before(session: Session, alert: Alert, operator_ids: Sequence[int], sender: str) -> dict[int, list[str]]:
    """operator id -> the <references> of every earlier version of this alert that operator's CBC accepted,
    oldest first. A message sent to another operator is never named."""
    earlier = earlier_versions(session, alert) if alert.msg_type in (MsgType.UPDATE, MsgType.CANCEL) else []
    if not earlier or not operator_ids:
        return {}
    rows = session.execute(
        select(Delivery.target_id, Alert.id, Alert.sent, CbcOperator.code)
        .join(Alert, Alert.id == Delivery.alert_id).join(CbcOperator, CbcOperator.id == Delivery.target_id)
        .where(Delivery.alert_id.in_(earlier), Delivery.channel == NAME, Delivery.status.in_(ACCEPTED),
               Delivery.target_id.in_(operator_ids))
        .order_by(Alert.sent, Alert.id))
    found: dict[int, list[str]] = {}
    for operator_id, alert_id, sent, code in rows:
        found.setdefault(operator_id, []).append(reference(sender, alert_id, code, sent))
    return found
