"""Delivery receipts from gateways (Twilio status callbacks and the like), applied forward only.

A receipt can arrive before the job that sent the message has recorded the
gateway's id (a fast gateway, a slow batch). Such a receipt is kept as an early
receipt and applied when the id is recorded, so no "delivered" is ever lost.
Receipts never move a delivery backwards: delivered, undelivered and failed are
final, and a late 'sent' after 'delivered' changes nothing.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

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
    """Move the delivery with this gateway id forward to `status`; False if it is already there or further.
    A receipt for an id no delivery has yet is kept until the sending job records it."""
    if _move(session, gateway_id, status, code, utcnow()):
        return True
    if session.scalar(select(DELIVERIES.c.id).where(DELIVERIES.c.gateway_id == gateway_id).limit(1)) is None:
        _keep_early(session, gateway_id, status, code)
    return False


def apply_early_receipts(session: Session, gateway_ids: Sequence[str]) -> int:
    """Apply the receipts that arrived before these ids were recorded; returns how many moved a delivery."""
    early = session.scalars(select(EarlyReceipt).where(EarlyReceipt.gateway_id.in_(list(gateway_ids)))).all()
    moved = 0
    for receipt in early:
        moved += _move(session, receipt.gateway_id, receipt.status, receipt.code, receipt.received_at)
        session.delete(receipt)
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
        update(DELIVERIES).where(DELIVERIES.c.gateway_id == gateway_id, DELIVERIES.c.status.in_(MOVES_FROM[status]))
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
