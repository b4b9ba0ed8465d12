"""Planning an alert's deliveries: one pending row per (alert, channel, target), written in chunks.

Each chunk is one INSERT ... SELECT (the targets never leave the database),
committed and queued before the next is written, so the first messages leave
while the plan is still being written. The first chunk is small, for the
first message's sake; later ones grow to FANOUT_CHUNK_SIZE. The unique key on
(alert, channel, target) makes planning twice a no-op, so the reconciler may
re-run a plan whose worker died.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Integer, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Alert, AlertState, Channel, Delivery, DeliveryStatus, utcnow
from ..models.types import UTCDateTime
from .targets import target_select

# Broadcast first: loudspeakers play at once, which is what an earthquake's seconds need.
CHANNEL_ORDER = (Channel.BROADCAST, Channel.BEIDOU, Channel.SMS)
FIRST_CHUNK = 500


@dataclass
class PlanSummary:
    alert_id: int
    written: dict[str, int] = field(default_factory=dict)
    jobs: int = 0
    stopped: bool = False  # the alert was cancelled or superseded while being planned


def insert_statement(session: Session):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Delivery)


def chunk_bounds(session: Session, targets, chunk_sizes: Iterator[int]) -> Iterator[tuple[int, int]]:
    """(after, upto] target-id ranges holding at most the next chunk size of targets each."""
    after = 0
    for size in chunk_sizes:
        ids = targets.c.target_id
        upto = session.scalar(select(ids).where(ids > after).order_by(ids).offset(size - 1).limit(1))
        if upto is None:
            upto = session.scalar(select(ids).where(ids > after).order_by(ids.desc()).limit(1))
            if upto is None:
                return
            yield after, upto
            return
        yield after, upto
        after = upto


def growing_sizes(largest: int) -> Iterator[int]:
    size = min(FIRST_CHUNK, largest)
    while True:
        yield size
        size = min(size * 4, largest)


def write_chunk(session: Session, alert: Alert, channel: Channel, targets, after: int, upto: int) -> list[int]:
    """Insert the pending rows of one chunk; returns the ids of rows new in this call."""
    now = utcnow()
    rows = select(
        literal(alert.id, Integer), literal(channel.value), targets.c.target_id, targets.c.county_code,
        literal(DeliveryStatus.PENDING.value), literal(0, Integer),
        literal(now, UTCDateTime), literal(now, UTCDateTime), literal(now, UTCDateTime),
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


def plan(
    session: Session,
    alert: Alert,
    chunk_size: int,
    on_chunk: Callable[[Channel, list[int]], int],
) -> PlanSummary:
    """Write the alert's deliveries chunk by chunk; `on_chunk` queues each committed chunk and returns its job count."""
    summary = PlanSummary(alert.id)
    for channel in CHANNEL_ORDER:
        targets = target_select(session, alert, channel).subquery()
        written = 0
        for after, upto in chunk_bounds(session, targets, growing_sizes(chunk_size)):
            session.refresh(alert, ["state"])
            if not alert.is_live:
                session.commit()
                summary.stopped = True
                return summary
            ids = write_chunk(session, alert, channel, targets, after, upto)
            session.commit()
            written += len(ids)
            if ids:
                summary.jobs += on_chunk(channel, ids)
        summary.written[channel.value] = written
    if alert.state == AlertState.PUBLISHING:
        alert.move_to(AlertState.PUBLISHED)
        alert.published_at = utcnow()
    session.commit()
    return summary
