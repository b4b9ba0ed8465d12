"""The reconciler: the database is the source of truth, Redis only carries work.

It returns to the queues whatever a dead worker or an emptied Redis left
behind: rows claimed long ago with no result, pending rows queued long ago (or
never, or for a retry now due), and alerts whose planning stopped half-way.
A row queued twice is harmless: only one job can claim it. It also moves deliveries
that lag too long to their channel's failover (failover.py: SMS to the recipients' cards), seals settled deliveries
into the audit ledger (audit/seals.py), a bounded number per pass, signs the ledger's head
once per LEDGER_SIGN_INTERVAL_SECONDS when it moved (audit/heads.py), applies CBC callbacks that came
before their delivery was recorded, and queues the CBCs' link tests every CELL_BROADCAST_LINK_CHECK_SECONDS
(channels/cell_broadcast/).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from redis import Redis
from rq import Queue
from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from .. import metrics
from ..audit.heads import sign_if_moved
from ..audit.seals import seal_settled
from ..audit.signing import SigningError, load_private_key
from ..channels import catalog
from ..channels.cell_broadcast.callbacks import catch_up as catch_up_callbacks
from ..channels.receipts import apply_early_receipts, forget_stale_early_receipts
from ..extensions import QUEUE_NAMES
from ..models import Alert, AlertState, Delivery, DeliveryAttempt, DeliveryStatus, utcnow
from ..models.sql import ids_in
from .failover import fail_over_lagging
from .queueing import enqueue_batches, enqueue_link_tests, enqueue_plan, queue_name

DELIVERIES = Delivery.__table__
SCAN_CHUNK = 10_000
LOCK_KEY = "ews:reconcile:lock"
SIGN_KEY = "ews:ledger:signed-recently"
LINK_TEST_KEY = "ews:cbc:link-tested-recently"


@dataclass
class ReconcileReport:
    reclaimed: int = 0   # 'sending' rows whose worker vanished, back to pending
    requeued: int = 0    # pending rows put on a queue again
    jobs: int = 0
    plans: int = 0       # alerts whose planning was queued again
    failed_over: int = 0  # lagging deliveries moved to their failover channel
    sealed: int = 0       # settled deliveries sealed into the audit ledger
    head_signed: int | None = None  # the ledger entry whose hash was signed as the head
    head_problem: str | None = None  # why the head could not be signed when it was due

    @property
    def found_trouble(self) -> bool:
        """Work a healthy system never leaves: a worker vanished mid-send, a plan stopped, deliveries lagged.
        Requeueing rows the rate limits deferred and sealing are the reconciler's routine."""
        return bool(self.reclaimed or self.plans or self.failed_over)

    @property
    def did_anything(self) -> bool:
        return self.found_trouble or bool(self.requeued or self.sealed)

    def __str__(self) -> str:
        signed = (f", signed the ledger's head at entry {self.head_signed}" if self.head_signed is not None else "")
        unsigned = f", did not sign the ledger's head: {self.head_problem}" if self.head_problem else ""
        return (f"reclaimed {self.reclaimed} stuck deliveries, requeued {self.requeued} in {self.jobs} jobs, "
                f"restarted {self.plans} plans, moved {self.failed_over} lagging deliveries to their failover channel, "
                f"sealed {self.sealed} settled deliveries{signed}{unsigned}")


def queues_are_empty(connection: Redis) -> bool:
    """No job waiting and none running: pending rows older than now cannot be on a queue."""
    return all(
        queue.count == 0 and queue.started_job_registry.count == 0
        for queue in (Queue(name, connection=connection) for name in QUEUE_NAMES)
    )


def reconcile(session: Session, connection: Redis, settings: Mapping[str, object], now: datetime | None = None,
              stale_after: float | None = None) -> ReconcileReport:
    """One pass. `stale_after` overrides PENDING_TIMEOUT_SECONDS (0: requeue every due pending row)."""
    now = now or utcnow()
    report = ReconcileReport()
    report.reclaimed = _reclaim_stuck(session, now - timedelta(seconds=int(settings["SENDING_TIMEOUT_SECONDS"])), now,
                                      int(settings["DELIVERY_MAX_ATTEMPTS"]))
    idle = queues_are_empty(connection)
    if stale_after is None:
        stale_after = 0 if idle else float(settings["PENDING_TIMEOUT_SECONDS"])
    stale_before = now - timedelta(seconds=stale_after)
    report.plans = _restart_plans(session, connection, stale_before)
    apply_early_receipts(session)  # any a crash between a job's commit and its look left behind
    catch_up_callbacks(session)  # CBC callbacks that came before their sending job recorded the delivery
    forget_stale_early_receipts(session, now)
    report.requeued, report.jobs = _requeue_pending(session, connection, int(settings["FANOUT_BATCH_SIZE"]), stale_before, now)
    report.failed_over = fail_over_lagging(session, connection, settings, now)
    if idle and not report.jobs:  # sealing yields to sending: it hashes and writes while no batch waits
        report.sealed = seal_settled(session, settings, now, max_rows=int(settings["SEAL_ROWS_PER_PASS"])).rows
    _sign_head_if_due(session, connection, settings, now, report)
    _queue_link_tests_if_due(connection, settings)
    metrics.count_reconciler_actions({"reclaimed": report.reclaimed, "requeued": report.requeued,
                                      "plans_restarted": report.plans, "failed_over": report.failed_over,
                                      "sealed": report.sealed})
    return report


def run_if_due(session: Session, connection: Redis, settings: Mapping[str, object]) -> ReconcileReport | None:
    """Run a pass unless another worker ran one within the interval (a Redis lock shared by all workers)."""
    interval = max(int(settings["RECONCILE_INTERVAL_SECONDS"]), 1)
    if not connection.set(LOCK_KEY, "1", nx=True, ex=interval):
        return None
    return reconcile(session, connection, settings)


def _sign_head_if_due(session: Session, connection: Redis, settings: Mapping[str, object], now: datetime,
                      report: ReconcileReport) -> None:
    """Once per LEDGER_SIGN_INTERVAL_SECONDS across all workers (a Redis key that expires), sign the
    ledger's head if it moved. A missing key or an unwritable directory is reported, not raised: the
    pass's other work is done, and the worker logs it once per interval."""
    interval = max(int(settings["LEDGER_SIGN_INTERVAL_SECONDS"]), 1)
    if not connection.set(SIGN_KEY, "1", nx=True, ex=interval):
        return
    try:
        document = sign_if_moved(session, load_private_key(Path(str(settings["AUDIT_SIGNING_KEY"]))),
                                 Path(str(settings["LEDGER_HEADS_DIR"])), now)
    except (SigningError, OSError) as error:
        session.rollback()
        report.head_problem = f"{error} (`flask audit generate-key` makes the key)" if isinstance(
            error, SigningError) else f"cannot write to LEDGER_HEADS_DIR: {error}"
        return
    report.head_signed = document["entry"] if document else None


def _queue_link_tests_if_due(connection: Redis, settings: Mapping[str, object]) -> None:
    """Once per CELL_BROADCAST_LINK_CHECK_SECONDS across all workers, queue the CBCs' link tests (a job on the
    low queue: a CBC that does not answer holds its worker for the timeout, never a warning)."""
    interval = int(settings["CELL_BROADCAST_LINK_CHECK_SECONDS"])
    if settings.get("CELL_BROADCAST_GATEWAY") != "cap" or interval <= 0:
        return
    if connection.set(LINK_TEST_KEY, "1", nx=True, ex=interval):
        enqueue_link_tests(connection)


def _reclaim_stuck(session: Session, claimed_before: datetime, now: datetime, max_attempts: int) -> int:
    """Rows whose worker vanished go back to pending; one that took its worker down
    `max_attempts` times fails instead of cycling for ever."""
    stuck = (DELIVERIES.c.status == DeliveryStatus.SENDING, DELIVERIES.c.claimed_at < claimed_before)
    lost = "claimed by a worker that never reported; it may have been sent"
    given_up = session.execute(
        update(DELIVERIES).where(*stuck, DELIVERIES.c.attempts >= max_attempts)
        .values(status=DeliveryStatus.FAILED, gateway_text=f"gave up after {max_attempts} attempts: {lost}", updated_at=now)
        .returning(DELIVERIES.c.id, DELIVERIES.c.attempts)
    ).all()
    reclaimed = session.execute(
        update(DELIVERIES).where(*stuck)
        .values(status=DeliveryStatus.PENDING, enqueued_at=None, next_attempt_at=None, updated_at=now)
        .returning(DELIVERIES.c.id, DELIVERIES.c.attempts)
    ).all()
    attempts = [(row, "failed") for row in given_up] + [(row, "requeued") for row in reclaimed]
    if attempts:
        session.execute(insert(DeliveryAttempt), [
            {"delivery_id": row.id, "attempt": row.attempts, "at": now, "outcome": outcome, "text": lost}
            for row, outcome in attempts
        ])
    session.commit()
    return len(reclaimed)


def _restart_plans(session: Session, connection: Redis, stale_before: datetime) -> int:
    alerts = session.scalars(
        select(Alert).where(Alert.state == AlertState.PUBLISHING, Alert.state_changed_at < stale_before)
    ).all()
    for alert in alerts:
        enqueue_plan(connection, alert)
    return len(alerts)


def _requeue_pending(session: Session, connection: Redis, batch_size: int, stale_before: datetime,
                     now: datetime) -> tuple[int, int]:
    """Queue due pending rows again on their alert's queue, a paced channel's at the front (`ChannelSpec.paced`:
    a send its card deferred goes when the card is free, not after the batches queued since)."""
    paced = {channel.name for channel in catalog.channels() if channel.paced}
    requeued = jobs = 0
    after = 0
    while True:
        rows = session.execute(
            select(DELIVERIES.c.id, DELIVERIES.c.alert_id, DELIVERIES.c.channel)
            .where(
                DELIVERIES.c.status == DeliveryStatus.PENDING,
                DELIVERIES.c.id > after,
                or_(DELIVERIES.c.enqueued_at.is_(None), DELIVERIES.c.enqueued_at < stale_before),
                or_(DELIVERIES.c.next_attempt_at.is_(None), DELIVERIES.c.next_attempt_at <= now),
            )
            .order_by(DELIVERIES.c.id)
            .limit(SCAN_CHUNK)
        ).all()
        if not rows:
            return requeued, jobs
        after = rows[-1].id
        by_alert_and_pace: dict[tuple[int, bool], list[int]] = defaultdict(list)
        for row in rows:
            by_alert_and_pace[row.alert_id, row.channel in paced].append(row.id)
        ids = [row.id for row in rows]
        session.execute(update(DELIVERIES).where(ids_in(session, DELIVERIES.c.id, ids)).values(enqueued_at=now))
        session.commit()  # marked before queued: a crash in between leaves them for the next pass, not lost
        for (alert_id, at_front), delivery_ids in by_alert_and_pace.items():
            jobs += enqueue_batches(connection, queue_name(session.get(Alert, alert_id)), delivery_ids, batch_size,
                                    at_front=at_front)
        requeued += len(ids)
