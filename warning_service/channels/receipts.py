"""Delivery receipts from any channel's gateway (Twilio's status callbacks, SMPP's deliver_sm), applied
forward only. Here, below the fan-out, so that an adapter may apply its own (sms/smpp_receipts.py).

A receipt can arrive before the job that sent the message has recorded the
gateway's id (a fast gateway, a slow batch). Such a receipt is kept as an early
receipt. Both sides write and commit first, then look for the other: the
webhook commits the early receipt and then looks for the delivery; the job
commits the gateway ids and then looks for early receipts. Whichever commits
second sees the other's row, so no "delivered" is lost; the reconciler sweeps
up after a crash in between. Receipts never move a delivery backwards:
delivered, undelivered and failed are final, and a late 'sent' changes nothing. Nor does a receipt
move a delivery already sealed into the audit ledger (audit/seals.py): that would read as tampering.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, Table, delete, exists, insert, select, update
from sqlalchemy.orm import Session

from ..models import Delivery, DeliveryAttempt, DeliverySeal, DeliveryStatus, EarlyReceipt, utcnow

DELIVERIES = cast(Table, Delivery.__table__)
SEALS = cast(Table, DeliverySeal.__table__)
FINAL = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)
# The statuses each receipt may move a delivery from.
MOVES_FROM: dict[DeliveryStatus, tuple[DeliveryStatus, ...]] = {
    DeliveryStatus.SENT: (DeliveryStatus.SENDING,),
    **{final: (DeliveryStatus.SENDING, DeliveryStatus.SENT) for final in FINAL},
}
EARLY_RECEIPT_LIFETIME = timedelta(days=2)
MOVE_CHUNK = 1_000  # gateway ids in one UPDATE


def apply_receipt(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None) -> bool:
    """Move the delivery with this gateway id forward to `status` and commit; False if it is already
    there or further. A receipt for an id no delivery has yet is kept until the sending job records it."""
    moved = _move(session, gateway_id, status, code, utcnow())
    if not moved:
        if session.scalar(select(DELIVERIES.c.id).where(DELIVERIES.c.gateway_id == gateway_id).limit(1)) is None:
            _keep_early(session, gateway_id, status, code)
            session.commit()
            moved = apply_early_receipts(session, [gateway_id]) > 0  # the job may have committed meanwhile
        else:  # the job may have committed between the two looks: the row is there now, try once more
            moved = _move(session, gateway_id, status, code, utcnow())
    session.commit()
    return moved


def apply_receipts(session: Session, receipts: Sequence[tuple[str, DeliveryStatus, str | None]]) -> int:
    """apply_receipt for a batch of (gateway id, status, code) in the same two steps, with a statement per
    kind of receipt instead of several per receipt (an SMPP bind brings thousands a second); returns how
    many deliveries moved."""
    now = utcnow()
    moves = [(gateway_id, status, code, now) for gateway_id, status, code in receipts]
    moved = _move_many(session, moves)
    unmoved = [move for move in moves if move[0] not in moved]
    recorded = set(session.scalars(select(DELIVERIES.c.gateway_id).where(
        DELIVERIES.c.gateway_id.in_({move[0] for move in unmoved})))) if unmoved else set()
    # The job may have committed between the two looks: those rows are there now, try once more.
    moved |= _move_many(session, [move for move in unmoved if move[0] in recorded])
    early = [move for move in unmoved if move[0] not in recorded]
    _keep_early_many(session, early)
    session.commit()
    if early:  # the job may have committed meanwhile
        return len(moved) + apply_early_receipts(session, list({move[0] for move in early}))
    return len(moved)


def apply_early_receipts(session: Session, gateway_ids: Sequence[str] | None = None) -> int:
    """Apply the kept receipts of these ids (all kept receipts if None) whose delivery is now recorded,
    and commit; returns how many moved a delivery. Call it after committing the ids."""
    query = select(EarlyReceipt.gateway_id, EarlyReceipt.status, EarlyReceipt.code, EarlyReceipt.received_at).join(
        DELIVERIES, DELIVERIES.c.gateway_id == EarlyReceipt.gateway_id)
    if gateway_ids is not None:
        query = query.where(EarlyReceipt.gateway_id.in_(list(gateway_ids)))
    kept = session.execute(query.distinct()).all()
    moved = len(_move_many(session, [(r.gateway_id, r.status, r.code, r.received_at) for r in kept]))
    if kept:
        session.execute(delete(EarlyReceipt).where(EarlyReceipt.gateway_id.in_([receipt.gateway_id for receipt in kept])))
    session.commit()
    return moved


def forget_stale_early_receipts(session: Session, now: datetime) -> int:
    """Receipts for ids no delivery ever recorded (a second text's id, a stranger's) do not stay for ever."""
    result = session.execute(delete(EarlyReceipt).where(EarlyReceipt.received_at < now - EARLY_RECEIPT_LIFETIME))
    return cast(CursorResult, result).rowcount


def _move(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None, at: datetime) -> bool:
    return bool(_move_many(session, [(gateway_id, status, code, at)]))


def _move_many(session: Session, moves: Sequence[tuple[str, DeliveryStatus, str | None, datetime]]) -> set[str]:
    """Move forward the deliveries of these (gateway id, status, code, received at), with one UPDATE per
    (status, code, time), those in the order they first come; returns the gateway ids that moved. In that
    order a second final receipt of an id finds it final already, as it would one by one."""
    groups: dict[tuple[DeliveryStatus, str | None, datetime], list[str]] = {}
    for gateway_id, status, code, at in moves:
        groups.setdefault((status, code, at), []).append(gateway_id)
    moved: set[str] = set()
    for (status, code, at), ids in groups.items():
        moved |= _move_group(session, ids, status, code, at)
    return moved


def _move_group(session: Session, ids: list[str], status: DeliveryStatus, code: str | None, at: datetime) -> set[str]:
    moved: set[str] = set()
    for start in range(0, len(ids), MOVE_CHUNK):
        gateway_ids = ids[start:start + MOVE_CHUNK]
        values: dict[str, object] = {"status": status, "updated_at": utcnow()}
        if status == DeliveryStatus.DELIVERED:
            values["delivered_at"] = at
        if code:
            values["gateway_code"] = code
        rows = session.execute(
            update(DELIVERIES).where(DELIVERIES.c.gateway_id.in_(gateway_ids), DELIVERIES.c.status.in_(MOVES_FROM[status]),
                                     ~sealed())
            .values(**values).returning(DELIVERIES.c.id, DELIVERIES.c.attempts, DELIVERIES.c.gateway_id)
        ).all()
        if rows:
            session.execute(insert(cast(Table, DeliveryAttempt.__table__)), [
                {"delivery_id": row.id, "attempt": row.attempts, "at": at, "outcome": status.value,
                 "gateway_id": row.gateway_id, "code": code} for row in rows
            ])
            moved.update(row.gateway_id for row in rows)
    return moved


def _keep_early(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None) -> None:
    _keep_early_many(session, [(gateway_id, status, code, utcnow())])


def _keep_early_many(session: Session, moves: Sequence[tuple[str, DeliveryStatus, str | None, datetime]]) -> None:
    """Keep the most final receipt per id: a 'delivered' is not overwritten by a late 'sent'."""
    if not moves:
        return
    kept = {receipt.gateway_id: receipt for receipt in session.scalars(
        select(EarlyReceipt).where(EarlyReceipt.gateway_id.in_({move[0] for move in moves})))}
    for gateway_id, status, code, at in moves:
        receipt = kept.get(gateway_id)
        if receipt is None:
            kept[gateway_id] = EarlyReceipt(gateway_id=gateway_id, status=status, code=code, received_at=at)
            session.add(kept[gateway_id])
        elif status in FINAL or receipt.status not in FINAL:
            receipt.status, receipt.code, receipt.received_at = status, code, at


def sealed():
    """SQL: the delivery lies inside a seal of the audit ledger, so no receipt may move it."""
    return exists().where(SEALS.c.alert_id == DELIVERIES.c.alert_id, SEALS.c.channel == DELIVERIES.c.channel,
                          DELIVERIES.c.id >= SEALS.c.first_id, DELIVERIES.c.id <= SEALS.c.last_id)
