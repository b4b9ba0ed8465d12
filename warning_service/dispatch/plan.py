"""Planning an alert's deliveries: one pending row per (alert, channel, target), written in chunks.

Each step writes one chunk with one INSERT ... SELECT (the targets never leave
the database) and commits it; the job that runs it queues the chunk's batches
and then the next step, at the front of the queue. So the first messages leave
while the plan is still being written, and no plan holds a worker for long: a
critical alert published meanwhile is the next job of every worker. The first
chunk is small, for the first message's sake; later ones grow to
FANOUT_CHUNK_SIZE. The unique key on (alert, channel, target) makes planning
twice a no-op, so the reconciler may re-run a plan whose worker died. A chunk of a
channel `sent_by_plan` (cell broadcast) is sent by the job that wrote it, not queued:
its rows are written as never queued, so if that job dies before claiming them the
reconciler's next pass queues them.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..channels.catalog import plan_order
from ..channels.spec import ChannelSpec
from ..models import Alert, AlertState, Delivery, DeliveryStatus, utcnow
from ..models.types import UTCDateTime
from .targets import target_select

FIRST_CHUNK = 500


@dataclass(frozen=True)
class PlanCursor:
    """Where an alert's planning stands: which channel (of `plan_order()`: by priority, the first whose
    messages matter soonest), after which target id, how big the next chunk is."""

    channel_index: int = 0
    after: int = 0
    size: int = FIRST_CHUNK

    @property
    def channel(self) -> ChannelSpec:
        return plan_order()[self.channel_index]


@dataclass
class PlanStep:
    channel: ChannelSpec
    new_ids: list[int]
    next: PlanCursor | None  # None: the plan is complete (or the alert no longer live)


def insert_statement(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Delivery)


def _chunk_end(session: Session, targets, after: int, size: int) -> tuple[int, bool] | None:
    """The last target id of the next chunk, and whether targets remain after it."""
    ids = targets.c.target_id
    upto = session.scalar(select(ids).where(ids > after).order_by(ids).offset(size - 1).limit(1))
    if upto is not None:
        return upto, True
    last = session.scalar(select(ids).where(ids > after).order_by(ids.desc()).limit(1))
    return (last, False) if last is not None else None


def write_chunk(session: Session, alert: Alert, channel: ChannelSpec, targets, after: int, upto: int) -> list[int]:
    """Insert the pending rows of one chunk; returns the ids of rows new in this call. Rows the plan job
    sends itself are not on a queue (enqueued_at unset): the reconciler queues them if it dies first."""
    now = utcnow()
    enqueued_at = None if channel.sent_by_plan else now
    rows = select(
        literal(alert.id, Integer), literal(channel.name), targets.c.target_id, targets.c.county_code,
        literal(DeliveryStatus.PENDING.value), literal(0, Integer),
        literal(now, UTCDateTime), literal(now, UTCDateTime), literal(enqueued_at, UTCDateTime),
    ).where(targets.c.target_id > after, targets.c.target_id <= upto)
    statement = (
        insert_statement(session)
        .from_select(
            ["alert_id", "channel", "target_id", "county_code", "status", "attempts",
             "created_at", "updated_at", "enqueued_at"],
            rows,
        )
        .on_conflict_do_nothing(index_elements=["alert_id", "channel", "target_id"])
        .returning(Delivery.id)
    )
    return list(session.scalars(statement))


def plan_step(session: Session, alert: Alert, cursor: PlanCursor, largest_chunk: int) -> PlanStep:
    """Write the next chunk of the alert's plan and commit it; the last step marks the alert published."""
    order = plan_order()
    channel_index = cursor.channel_index
    while channel_index < len(order):
        channel = order[channel_index]
        after = cursor.after if channel_index == cursor.channel_index else 0
        targets = target_select(session, alert, channel).subquery()
        end = _chunk_end(session, targets, after, cursor.size)
        if end is not None:
            upto, more = end
            new_ids = write_chunk(session, alert, channel, targets, after, upto)
            session.commit()
            size = min(cursor.size * 4, largest_chunk)
            following: PlanCursor | None = PlanCursor(channel_index, upto, size) if more else PlanCursor(channel_index + 1, 0, size)
            if following.channel_index >= len(order):
                _finish(session, alert)
                following = None
            return PlanStep(channel, new_ids, following)
        channel_index += 1
    _finish(session, alert)
    return PlanStep(order[-1], [], None)


def _finish(session: Session, alert: Alert) -> None:
    if alert.state == AlertState.PUBLISHING:
        alert.move_to(AlertState.PUBLISHED)
        alert.published_at = utcnow()
    session.commit()
