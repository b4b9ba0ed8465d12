"""Failover from SMS to the person's BeiDou card.

Two reasons move a warning to the card: the SMS failed for good (a bad number,
retries used up: the Sender calls `fail_over` at once), or it is still unsent
`SMS_FAILOVER_AFTER_SECONDS` after it was planned, as when a county's SMS
gateway lags (the reconciler calls `fail_over_lagging`). In the second case the
SMS stays queued: a warning that arrives twice beats one that arrives late.
Broadcast needs no failover: it covers each county whatever happens to SMS.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from redis import Redis
from sqlalchemy import Integer, exists, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import Alert, AlertState, Channel, Delivery, DeliveryStatus, Recipient, utcnow
from ..models.types import UTCDateTime
from .plan import insert_statement
from .queueing import enqueue_batches, queue_name
from .sql import ids_in

LAG_SCAN_CHUNK = 10_000


def fail_over(session: Session, connection: Redis, alert: Alert, sms_delivery_ids: Sequence[int], batch_size: int) -> int:
    """Plan and queue a BeiDou delivery for each of these SMS deliveries whose recipient has a card.

    Commits. A card that already has this alert (planned, or moved earlier) is left as it is.
    """
    now = utcnow()
    source = (
        select(literal(alert.id, Integer), literal(Channel.BEIDOU.value), Recipient.beidou_terminal_id,
               Recipient.county_code, literal(DeliveryStatus.PENDING.value), literal(0, Integer), Delivery.id,
               literal(now, UTCDateTime), literal(now, UTCDateTime), literal(now, UTCDateTime))
        .join(Recipient, Recipient.id == Delivery.target_id)
        .where(ids_in(session, Delivery.id, list(sms_delivery_ids)), Recipient.beidou_terminal_id.is_not(None))
    )
    statement = (
        insert_statement(session)
        .from_select(["alert_id", "channel", "target_id", "county_code", "status", "attempts", "failover_of_id",
                      "created_at", "updated_at", "enqueued_at"], source)
        .on_conflict_do_nothing(index_elements=["alert_id", "channel", "target_id"])
        .returning(Delivery.id)
    )
    new_ids = list(session.scalars(statement))
    session.commit()
    if new_ids:
        enqueue_batches(connection, queue_name(alert), new_ids, batch_size)
    return len(new_ids)


def fail_over_lagging(session: Session, connection: Redis, settings: Mapping[str, object],
                      now: datetime | None = None) -> int:
    """Move SMS still unsent after SMS_FAILOVER_AFTER_SECONDS to the recipients' cards (0 turns this off)."""
    lag = float(settings["SMS_FAILOVER_AFTER_SECONDS"])
    if lag <= 0:
        return 0
    now = now or utcnow()
    cutoff = now - timedelta(seconds=lag)
    batch_size = int(settings["FANOUT_BATCH_SIZE"])
    moved = 0
    # Warnings in force only: one past its expiry is not worth a scarce card's slot.
    alerts = session.scalars(select(Alert).where(Alert.state.in_([AlertState.PUBLISHING, AlertState.PUBLISHED]),
                                                 or_(Alert.expires.is_(None), Alert.expires > now))).all()
    for alert in alerts:
        card_row = aliased(Delivery)
        has_card_row = exists().where(card_row.alert_id == alert.id, card_row.channel == Channel.BEIDOU,
                                      card_row.target_id == Recipient.beidou_terminal_id)
        after = 0
        while True:
            late = list(session.scalars(
                select(Delivery.id).join(Recipient, Recipient.id == Delivery.target_id)
                .where(Delivery.alert_id == alert.id, Delivery.channel == Channel.SMS, Delivery.id > after,
                       Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
                       Delivery.created_at < cutoff, Recipient.beidou_terminal_id.is_not(None), ~has_card_row)
                .order_by(Delivery.id).limit(LAG_SCAN_CHUNK)))
            if not late:
                break
            after = late[-1]
            moved += fail_over(session, connection, alert, late, batch_size)
    return moved
