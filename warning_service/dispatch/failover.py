"""Failover: a channel's deliveries that did not go out move to another channel, where its spec says
(`ChannelSpec.failover`: an SMS to the person's BeiDou card).

Two reasons move a delivery: it failed for good (a bad number, retries used up: the Sender calls
`fail_over` at once), or it is still unsent the failover's lag after it was planned, as when a
county's SMS gateway lags (the reconciler calls `fail_over_lagging`). In the second case the
first delivery stays queued: a warning that arrives twice beats one that arrives late. A channel
without failover (broadcast: it covers each county whatever happens to the others) has none.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from redis import Redis
from sqlalchemy import Integer, exists, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..channels import catalog
from ..channels.spec import ChannelSpec, Failover
from ..models import Alert, AlertState, Delivery, DeliveryStatus, utcnow
from ..models.sql import ids_in
from ..models.types import UTCDateTime
from .plan import insert_statement
from .queueing import enqueue_batches, queue_name

LAG_SCAN_CHUNK = 10_000


def fail_over(session: Session, connection: Redis, alert: Alert, channel: ChannelSpec, delivery_ids: Sequence[int],
              batch_size: int) -> int:
    """Plan and queue a delivery on the failover channel for each of these deliveries whose target names
    one there (a recipient's card); none for a channel without failover. Commits. A target that already
    has this alert (planned, or moved earlier) is left as it is."""
    failover = channel.failover
    if failover is None:
        return 0
    to = catalog.channel(failover.to)  # UnknownChannel: the spec names a channel the service does not carry
    source_target = channel.target
    now = utcnow()
    source = (
        select(literal(alert.id, Integer), literal(to.name), failover.via,
               source_target.county_code, literal(DeliveryStatus.PENDING.value), literal(0, Integer), Delivery.id,
               literal(now, UTCDateTime), literal(now, UTCDateTime), literal(now, UTCDateTime))
        .join(source_target, source_target.id == Delivery.target_id)
        .where(ids_in(session, Delivery.id, list(delivery_ids)), failover.via.is_not(None))
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
        enqueue_batches(connection, queue_name(alert), new_ids, batch_size, at_front=to.paced)
    return len(new_ids)


def fail_over_lagging(session: Session, connection: Redis, settings: Mapping[str, object],
                      now: datetime | None = None) -> int:
    """Move deliveries still unsent after their channel's failover lag (SMS_FAILOVER_AFTER_SECONDS; 0 turns
    it off) to the failover channel."""
    return sum(_fail_over_lagging(session, connection, settings, channel, channel.failover, now or utcnow())
               for channel in catalog.channels() if channel.failover is not None)


def _fail_over_lagging(session: Session, connection: Redis, settings: Mapping[str, object], channel: ChannelSpec,
                       failover: Failover, now: datetime) -> int:
    lag = float(settings[failover.lag_setting])
    if lag <= 0:
        return 0
    cutoff = now - timedelta(seconds=lag)
    batch_size = int(settings["FANOUT_BATCH_SIZE"])
    target = channel.target
    moved = 0
    # Warnings in force only: one past its expiry is not worth a scarce card's slot.
    alerts = session.scalars(select(Alert).where(Alert.state.in_([AlertState.PUBLISHING, AlertState.PUBLISHED]),
                                                 or_(Alert.expires.is_(None), Alert.expires > now))).all()
    for alert in alerts:
        moved_row = aliased(Delivery)
        has_moved_row = exists().where(moved_row.alert_id == alert.id, moved_row.channel == failover.to,
                                       moved_row.target_id == failover.via)
        after = 0
        while True:
            late = list(session.scalars(
                select(Delivery.id).join(target, target.id == Delivery.target_id)
                .where(Delivery.alert_id == alert.id, Delivery.channel == channel.name, Delivery.id > after,
                       Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
                       Delivery.created_at < cutoff, failover.via.is_not(None), ~has_moved_row)
                .order_by(Delivery.id).limit(LAG_SCAN_CHUNK)))
            if not late:
                break
            after = late[-1]
            moved += fail_over(session, connection, alert, channel, late, batch_size)
    return moved
