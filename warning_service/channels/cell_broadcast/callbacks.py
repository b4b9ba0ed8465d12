"""A CBC's status callbacks, applied per delivery (the webhook, POST /webhooks/cbc/<code>/status): forward
only (models.CbcBroadcast), and the delivery is delivered once its message is on the air, undelivered when
no cell has it. A callback that beats the sending job's record of the delivery is kept, and the reconciler
applies it to the delivery once that is recorded (`catch_up`). Here, below the fan-out, like every
channel's receipts (channels/receipts.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ...models import CbcBroadcast, CbcOperator, CbcState, Delivery, DeliveryAttempt, DeliveryStatus, utcnow
from ..receipts import sealed
from .outbound import NAME


@dataclass(frozen=True)
class StatusCallback:
    cbc_message_id: str
    identifier: str
    state: CbcState
    cells: int
    failed_cells: int


def apply_status(session: Session, operator: CbcOperator, callback: StatusCallback) -> bool | None:
    """Record a callback and commit: True when it moved the message forward, False when it would not (a
    repeat, or backwards), None when the message is none this operator was sent."""
    delivery = _delivery_of(session, operator, callback.identifier)
    if delivery is None:
        return None
    now = utcnow()
    row = session.get(CbcBroadcast, delivery.id, with_for_update=True)
    if row is not None and callback.state.rank <= row.state.rank:
        session.commit()
        return False
    if row is None:
        row = CbcBroadcast(delivery_id=delivery.id, alert_id=delivery.alert_id, operator_id=operator.id)
        session.add(row)
    row.cbc_message_id, row.state, row.updated_at = callback.cbc_message_id, callback.state, now
    if callback.state != CbcState.CANCELLED:  # a cancelled message keeps the cells it last reported
        row.cells, row.failed_cells = callback.cells, callback.failed_cells
    stamp = {CbcState.BROADCASTING: "broadcasting_at", CbcState.COMPLETED: "completed_at",
             CbcState.FAILED: "completed_at", CbcState.CANCELLED: "cancelled_at"}[callback.state]
    if getattr(row, stamp) is None:
        setattr(row, stamp, now)
    session.flush()
    _move_deliveries(session, [delivery.id])
    session.commit()
    return True


def _delivery_of(session: Session, operator: CbcOperator, identifier: str) -> Delivery | None:
    """The delivery an identifier names (EWS-<alert id>-<operator code>): only one of this operator's."""
    prefix, _, rest = identifier.partition("-")
    alert_id, _, code = rest.partition("-")
    if prefix != "EWS" or code != operator.code or not alert_id.isdigit() or len(alert_id) > 18:
        return None
    return session.scalar(select(Delivery).where(Delivery.alert_id == int(alert_id), Delivery.channel == NAME,
                                                 Delivery.target_id == operator.id))


def _move_deliveries(session: Session, delivery_ids: Sequence[int] | None = None) -> int:
    """Bring sent cell broadcast deliveries up to what their CBC reported: delivered once on the air,
    undelivered when no cell had it. Only from sent: a row the sending job has not recorded yet is
    moved once it has (the reconciler calls this), and a sealed one never."""
    on_air = or_(CbcBroadcast.state.in_((CbcState.BROADCASTING, CbcState.COMPLETED)),
                 CbcBroadcast.broadcasting_at.is_not(None))
    moved = 0
    for status, reported in ((DeliveryStatus.DELIVERED, on_air), (DeliveryStatus.UNDELIVERED,
                                                                  CbcBroadcast.state == CbcState.FAILED)):
        which = select(CbcBroadcast.delivery_id).where(reported)
        if delivery_ids is not None:
            which = which.where(CbcBroadcast.delivery_id.in_(delivery_ids))
        now = utcnow()
        rows = session.execute(
            update(Delivery).where(Delivery.id.in_(which), Delivery.channel == NAME,
                                   Delivery.status == DeliveryStatus.SENT, ~sealed())
            .values(status=status, delivered_at=now if status == DeliveryStatus.DELIVERED else None, updated_at=now)
            .returning(Delivery.id, Delivery.attempts, Delivery.gateway_id)).all()
        session.add_all(DeliveryAttempt(delivery_id=row.id, attempt=row.attempts, at=now, outcome=status.value,
                                        gateway_id=row.gateway_id) for row in rows)
        moved += len(rows)
    return moved


def catch_up(session: Session) -> int:
    """For the reconciler: deliveries whose callbacks came before the sending job recorded them."""
    moved = _move_deliveries(session)
    session.commit()
    return moved
