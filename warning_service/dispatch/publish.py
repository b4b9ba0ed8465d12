"""Publishing: the one step that makes an alert take effect.

An Update supersedes, and a Cancel cancels, the alerts it references at the
moment it is published, not when it arrives: a correction waiting for review
leaves the warning it corrects in force until a duty officer publishes it.
"""
from __future__ import annotations

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from ..audit.events import Actor, record
from ..models import Alert, AlertState, Delivery, DeliveryAttempt, DeliveryStatus, MsgType, referenced_alerts, utcnow
from ..models.types import UTCDateTime


def publish(session: Session, alert: Alert, actor: Actor) -> None:
    """Move the alert to `publishing` and apply its effect on the alerts it references."""
    alert.move_to(AlertState.PUBLISHING)
    record(session, actor, "alert.publish", alert, state=alert.state.value)
    if alert.msg_type not in (MsgType.UPDATE, MsgType.CANCEL):
        return
    new_state = AlertState.SUPERSEDED if alert.msg_type == MsgType.UPDATE else AlertState.CANCELLED
    for earlier in referenced_alerts(session, alert):
        if earlier.is_live:
            earlier.move_to(new_state)
            earlier.superseded_by_id = alert.id
            stopped = stop_pending_deliveries(session, earlier, f"alert {new_state.value} by {alert.identifier}")
            record(session, actor, f"alert.{new_state.value}", earlier, by_alert=alert.id, stopped_deliveries=stopped)


def stop_pending_deliveries(session: Session, alert: Alert, reason: str) -> int:
    """Cancel every delivery of the alert not yet claimed; jobs already sending see the alert's state."""
    pending = (Delivery.alert_id == alert.id, Delivery.status == DeliveryStatus.PENDING)
    now = utcnow()
    session.execute(insert(DeliveryAttempt).from_select(
        ["delivery_id", "attempt", "at", "outcome", "text"],
        select(Delivery.id, Delivery.attempts, literal(now, UTCDateTime), literal("cancelled"), literal(reason)).where(*pending),
    ))
    result = session.execute(
        update(Delivery).where(*pending).values(status=DeliveryStatus.CANCELLED, gateway_text=reason, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount
