"""Delivery receipts from gateways (Twilio status callbacks and the like), applied forward only.

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

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from ..audit.seals import sealed
from ..models import Delivery, DeliveryAttempt, DeliveryStatus, EarlyReceipt, utcnow
from .sql import ids_in

DELIVERIES = Delivery.__table__
FINAL = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)
# The statuses each receipt may move a delivery from.
MOVES_FROM: dict[DeliveryStatus, tuple[DeliveryStatus, ...]] = {
    DeliveryStatus.SENT: (DeliveryStatus.SENDING,),
    **{final: (DeliveryStatus.SENDING, DeliveryStatus.SENT) for final in FINAL},
}
EARLY_RECEIPT_LIFETIME = timedelta(days=2)


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
    """apply_receipt for a batch of (gateway id, status, code), in order, with one commit for the lot
    instead of one each (an SMPP bind brings thousands a second); returns how many moved a delivery."""
    now = utcnow()
    unmoved = [receipt for receipt in receipts if not _move(session, *receipt, now)]
    moved = len(receipts) - len(unmoved)
    recorded = set(session.scalars(select(DELIVERIES.c.gateway_id).where(
        DELIVERIES.c.gateway_id.in_({gateway_id for gateway_id, _, _ in unmoved})))) if unmoved else set()
    early: list[str] = []
    for gateway_id, status, code in unmoved:
        if gateway_id in recorded:  # the job may have committed between the two looks: try once more
            moved += _move(session, gateway_id, status, code, now)
        else:
            _keep_early(session, gateway_id, status, code)
            session.flush()  # the next receipt of the same id finds this one
            early.append(gateway_id)
    session.commit()
    if early:
        moved += apply_early_receipts(session, early)  # the job may have committed meanwhile
    return moved


def apply_early_receipts(session: Session, gateway_ids: Sequence[str] | None = None) -> int:
    """Apply the kept receipts of these ids (all kept receipts if None) whose delivery is now recorded,
    and commit; returns how many moved a delivery. Call it after committing the ids."""
    query = select(EarlyReceipt.gateway_id, EarlyReceipt.status, EarlyReceipt.code, EarlyReceipt.received_at).join(
        DELIVERIES, DELIVERIES.c.gateway_id == EarlyReceipt.gateway_id)
    if gateway_ids is not None:
        query = query.where(EarlyReceipt.gateway_id.in_(list(gateway_ids)))
    kept = session.execute(query.distinct()).all()
    moved = sum(_move(session, receipt.gateway_id, receipt.status, receipt.code, receipt.received_at) for receipt in kept)
    if kept:
        session.execute(delete(EarlyReceipt).where(EarlyReceipt.gateway_id.in_([receipt.gateway_id for receipt in kept])))
    session.commit()
    return moved


def forget_stale_early_receipts(session: Session, now: datetime) -> int:
    """Receipts for ids no delivery ever recorded (a second text's id, a stranger's) do not stay for ever."""
    return session.execute(
        delete(EarlyReceipt).where(EarlyReceipt.received_at < now - EARLY_RECEIPT_LIFETIME)
    ).rowcount


def _move(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None, at: datetime) -> bool:
    values: dict[str, object] = {"status": status, "updated_at": utcnow()}
    if status == DeliveryStatus.DELIVERED:
        values["delivered_at"] = at
    if code:
        values["gateway_code"] = code
    moved = session.execute(
        update(DELIVERIES).where(DELIVERIES.c.gateway_id == gateway_id, DELIVERIES.c.status.in_(MOVES_FROM[status]),
                                 ~sealed())
        .values(**values).returning(DELIVERIES.c.id, DELIVERIES.c.attempts)
    ).all()
    if moved:
        session.execute(insert(DeliveryAttempt.__table__), [
            {"delivery_id": row.id, "attempt": row.attempts, "at": at, "outcome": status.value,
             "gateway_id": gateway_id, "code": code} for row in moved
        ])
    return bool(moved)


def _keep_early(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None) -> None:
    """Keep the most final receipt per id: a 'delivered' is not overwritten by a late 'sent'."""
    kept = session.get(EarlyReceipt, gateway_id)
    if kept is None:
        session.add(EarlyReceipt(gateway_id=gateway_id, status=status, code=code, received_at=utcnow()))
    elif status in FINAL or kept.status not in FINAL:
        kept.status, kept.code, kept.received_at = status, code, utcnow()
