"""Sending one batch of deliveries, exactly once in effect.

1. Claim: pending -> sending in one UPDATE, only rows still pending and due.
   Two jobs holding the same ids (a retried job, a reconciler re-queue) race
   here and only one wins each row, so nothing is sent twice by a retry.
2. Check the alert: a cancelled or superseded alert's rows are cancelled.
3. Take rate tokens; what the bucket cannot cover now goes back to pending.
4. Send through the channel's adapter; record one result per delivery and one
   attempt row each (waiting out a database restart: the messages are out);
   transient failures wait for a jittered back-off, permanent
   failures fall over where the channel says (a failed SMS to the recipient's BeiDou card).
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import NamedTuple

from redis import Redis
from sqlalchemy import BigInteger, Boolean, Insert, Integer, Text, and_, bindparam, case, func, insert, literal, null, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeEngine

from .. import metrics
from ..audit.report import published_at
from ..channels import catalog
from ..channels.base import Capabilities, ChannelAdapter, OutboundMessage, Outcome, SendResult
from ..channels.gateways import build_adapter
from ..channels.receipts import apply_early_receipts
from ..channels.spec import ChannelSpec
from ..models import Alert, Delivery, DeliveryAttempt, DeliveryStatus, utcnow
from ..models.sql import ids_in
from ..models.types import UTCDateTime
from .content import channel_texts, outbound
from .failover import fail_over
from .ratelimit import RateLimiter
from .retry import backoff_seconds

logger = logging.getLogger(__name__)
DELIVERIES = Delivery.__table__
ATTEMPTS = DeliveryAttempt.__table__
# How long a batch's results wait for a database that went away, well below SENDING_TIMEOUT_SECONDS.
RECORD_PATIENCE_SECONDS = 30.0
RECORD_RETRY_SECONDS = 0.5


class Claimed(NamedTuple):
    """A claimed row as a tuple: 2,000 a batch are built from the claim's rows, a dataclass each cost more."""

    id: int
    alert_id: int
    channel: str
    target_id: int
    attempt: int


@dataclass
class BatchReport:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failed_over: int = 0


class Sender:
    """Sends batches with one set of adapters, a rate limiter and the retry policy from the settings."""

    def __init__(self, settings: Mapping[str, object], connection: Redis):
        self.settings = settings
        self.connection = connection
        self.limiter = RateLimiter(connection)
        self._adapters: dict[str, ChannelAdapter] = {}
        self._published: dict[int, datetime | None] = {}  # alert id -> when it was published, for the metrics

    def adapter(self, channel: ChannelSpec) -> ChannelAdapter:
        if channel.name not in self._adapters:
            self._adapters[channel.name] = build_adapter(channel.name, self.settings)
        return self._adapters[channel.name]

    def send(self, session: Session, delivery_ids: Sequence[int]) -> BatchReport:
        report = BatchReport()
        claimed = claim(session, delivery_ids)
        session.commit()
        report.claimed = len(claimed)
        for (alert_id, channel), group in groupby(sorted(claimed, key=_group_key), key=_group_key):
            gateway_ids = self._send_group(session, session.get(Alert, alert_id), catalog.channel(channel), list(group),
                                           report)
            session.commit()
            if gateway_ids:  # receipts that beat this batch's own record of the gateway ids
                apply_early_receipts(session, gateway_ids)
        return report

    def _send_group(self, session: Session, alert: Alert, channel: ChannelSpec, rows: list[Claimed],
                    report: BatchReport) -> list[str]:
        """Send one alert's rows on one channel; returns the gateway ids recorded."""
        if not alert.is_live:
            _cancel_claimed(session, rows, f"alert {alert.state.value}")
            report.outcomes["cancelled"] += len(rows)
            metrics.count_send_results(channel.name, {"cancelled": len(rows)})
            logger.info("alert %s is %s: %d deliveries cancelled", alert.id, alert.state.value, len(rows),
                        extra={"alert_id": alert.id, "channel": channel.name, "delivery_ids": [row.id for row in rows]})
            return []
        adapter = self.adapter(channel)
        capabilities = adapter.capabilities()
        texts = channel_texts(alert, channel, self.settings)
        attempts = {row.id: row.attempt for row in rows}
        if channel.messages is not None:  # a message of each target's own (a CBC's CAP, naming what it got)
            candidates, results = channel.messages(session, alert, texts.content, rows, self.settings)
        else:
            found = channel.addresses(session, [row.target_id for row in rows])
            results = [SendResult(row.id, Outcome.PERMANENT, code="gone", text="the target no longer exists")
                       for row in rows if row.target_id not in found]
            candidates = [(row, outbound(texts, row.id, found[row.target_id], row.attempt))
                          for row in rows if row.target_id in found]
        allowed = self._within_rate(adapter, capabilities, [message for _, message in candidates])
        if allowed < len(candidates):
            _defer(session, [row for row, _ in candidates[allowed:]], self._wait)
            report.outcomes["deferred"] += len(candidates) - allowed
            metrics.count_send_results(channel.name, {"deferred": len(candidates) - allowed})
        alert_id = alert.id  # read before the commit expires the row: reloading it would delay the first message
        session.commit()  # what was decided before sending stands, whatever happens to the database meanwhile
        messages = [message for _, message in candidates[:allowed]]
        for start in range(0, len(messages), capabilities.max_batch):
            results += self._call(adapter, channel, messages[start:start + capabilities.max_batch], alert_id)
        outcomes = _count(results)
        for outcome, count in outcomes.items():
            report.outcomes[outcome] += count
        metrics.count_send_results(channel.name, outcomes)
        self._settle_despite_outage(session, alert, channel, results, attempts, report)
        logger.info("alert %s %s batch: %s", alert.id, channel.name, dict(outcomes),
                    extra={"alert_id": alert.id, "channel": channel.name, "outcomes": dict(outcomes),
                           "delivery_ids": [row.id for row in rows]})
        return [result.gateway_id for result in results if result.gateway_id]

    def _settle_despite_outage(self, session, alert, channel, results, attempts, report) -> None:
        """Record what the gateway answered, waiting out a database that went away while we sent
        (a restart, a failover). The messages are out: rows left 'sending' would go again, twice,
        once the reconciler reclaims them."""
        deadline = time.monotonic() + RECORD_PATIENCE_SECONDS
        while True:
            try:
                _commit_without_waiting_for_the_disk(session)
                self._settle(session, alert, channel, results, attempts, report)
                session.commit()
                return
            except OperationalError:
                session.rollback()
                if time.monotonic() > deadline:
                    raise
                logger.warning("dispatch: the database is unreachable; recording %d results again shortly", len(results))
                time.sleep(RECORD_RETRY_SECONDS)

    def _within_rate(self, adapter: ChannelAdapter, capabilities: Capabilities, messages: list[OutboundMessage]) -> int:
        """How many leading messages the shared bucket lets go now. A message dearer than the whole
        burst counts as the burst, or it could never go."""
        burst = max(capabilities.burst, 1)
        costs = [min(adapter.cost(message), burst) for message in messages]
        grant = self.limiter.take(capabilities.rate_key, sum(costs), capabilities.rate_per_second, burst)
        self._wait = grant.wait_seconds
        spent = allowed = 0
        for cost in costs:
            if spent + cost > grant.granted:
                break
            spent, allowed = spent + cost, allowed + 1
        return allowed

    def _call(self, adapter: ChannelAdapter, channel: ChannelSpec, messages, alert_id: int) -> list[SendResult]:
        """The adapter's results; an adapter that raises fails its batch transiently, it never loses it."""
        started = time.perf_counter()
        try:
            results = adapter.send_batch(messages)
        except Exception as exc:  # a gateway library's surprise must not leave rows in 'sending'
            metrics.count_gateway_errors(channel.name, "exception", len(messages))
            logger.exception("adapter %s raised", adapter.name, extra={
                "alert_id": alert_id, "channel": channel.name, "delivery_ids": [m.delivery_id for m in messages]})
            return [SendResult(m.delivery_id, Outcome.TRANSIENT, code="adapter-error", text=f"{type(exc).__name__}: {exc}")
                    for m in messages]
        finally:
            metrics.observe_gateway_call(channel.name, time.perf_counter() - started)
        expected = {m.delivery_id for m in messages}
        first: dict[int, SendResult] = {}
        for result in results:  # one result per message: unknown ids and repeats are ignored
            if result.delivery_id in expected:
                first.setdefault(result.delivery_id, result)
        missing = [SendResult(m.delivery_id, Outcome.TRANSIENT, code="no-result", text="the adapter gave no result")
                   for m in messages if m.delivery_id not in first]
        results = list(first.values()) + missing
        counts = _count(results)
        for outcome in (Outcome.TRANSIENT, Outcome.PERMANENT):
            metrics.count_gateway_errors(channel.name, outcome.value, counts.get(outcome.value, 0))
        return results

    def _settle(self, session, alert, channel, results, attempts, report) -> None:
        max_attempts = int(self.settings["DELIVERY_MAX_ATTEMPTS"])
        by_outcome = _by_outcome(results)
        _record(session, by_outcome[Outcome.ACCEPTED], attempts, DeliveryStatus.SENT)
        retry, give_up = [], []
        for result in by_outcome[Outcome.TRANSIENT]:
            (retry if attempts[result.delivery_id] < max_attempts else give_up).append(result)
        _record(session, give_up, attempts, DeliveryStatus.FAILED, note=f"gave up after {max_attempts} attempts")
        _record(session, by_outcome[Outcome.PERMANENT], attempts, DeliveryStatus.FAILED)
        self._retry_later(session, retry, attempts)
        failed = by_outcome[Outcome.PERMANENT] + give_up
        accepted = len(by_outcome[Outcome.ACCEPTED])
        metrics.observe_settled(self.connection, alert.id, self._published_at(session, alert.id), channel.name,
                                accepted, accepted + len(failed), utcnow())
        if failed:
            report.failed_over += fail_over(session, self.connection, alert, channel,
                                            [result.delivery_id for result in failed], int(self.settings["FANOUT_BATCH_SIZE"]))

    def _published_at(self, session: Session, alert_id: int) -> datetime | None:
        if alert_id not in self._published:
            if len(self._published) > 1000:  # a long-lived worker forgets old alerts
                self._published.clear()
            self._published[alert_id] = published_at(session, alert_id)
        return self._published[alert_id]

    def _retry_later(self, session: Session, results: list[SendResult], attempts: Mapping[int, int]) -> None:
        base, cap = float(self.settings["RETRY_BASE_SECONDS"]), float(self.settings["RETRY_MAX_SECONDS"])
        now = utcnow()
        for result in results:
            delay = backoff_seconds(attempts[result.delivery_id], base, cap, result.retry_after)
            session.execute(
                update(DELIVERIES).where(DELIVERIES.c.id == result.delivery_id, DELIVERIES.c.status == DeliveryStatus.SENDING)
                .values(status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay), enqueued_at=None,
                        gateway_code=result.code, gateway_text=result.text, updated_at=now)
            )
        _attempt_rows(session, results, attempts)


def _commit_without_waiting_for_the_disk(session: Session) -> None:
    """PostgreSQL: this transaction's commit returns before its WAL is flushed (SET LOCAL: this transaction
    only). Only for the results of a batch whose claim was committed durably before sending: a crash that
    loses the results leaves those rows 'sending', and the reconciler sends them again after
    SENDING_TIMEOUT_SECONDS, as it does for a worker killed at the gateway. The next durable commit of any
    session (the next claim) flushes it, and the WAL writer does within 3 x wal_writer_delay."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def claim(session: Session, delivery_ids: Sequence[int]) -> list[Claimed]:
    now = utcnow()
    statement = (
        update(DELIVERIES)
        .where(
            ids_in(session, DELIVERIES.c.id, delivery_ids),
            DELIVERIES.c.status == DeliveryStatus.PENDING,
            or_(DELIVERIES.c.next_attempt_at.is_(None), DELIVERIES.c.next_attempt_at <= now),
        )
        .values(status=DeliveryStatus.SENDING, attempts=DELIVERIES.c.attempts + 1, claimed_at=now, updated_at=now)
        .returning(DELIVERIES.c.id, DELIVERIES.c.alert_id, DELIVERIES.c.channel, DELIVERIES.c.target_id, DELIVERIES.c.attempts)
    )
    # Core rows fetched at once: through the ORM, a fetch per row took 8% of a worker's time (cProfile, 1.78 M).
    return list(map(Claimed._make, session.connection().execute(statement).all()))


def _group_key(row: Claimed) -> tuple[int, str]:
    return row.alert_id, row.channel


def _by_outcome(results: list[SendResult]) -> defaultdict[Outcome, list[SendResult]]:
    """The results by outcome. An adapter may answer an Outcome or its value (which hash differently): each
    is made an Outcome once a group, not once a result."""
    as_given: defaultdict[str, list[SendResult]] = defaultdict(list)
    for result in results:
        as_given[result.outcome].append(result)
    grouped: defaultdict[Outcome, list[SendResult]] = defaultdict(list)
    for outcome, group in as_given.items():
        grouped[Outcome(outcome)] += group
    return grouped


def _count(results: list[SendResult]) -> dict[str, int]:
    return {outcome.value: len(group) for outcome, group in _by_outcome(results).items()}


def _defer(session: Session, rows: list[Claimed], wait_seconds: float) -> None:
    """Hand rows the rate limit could not cover back to pending; a deferral is not an attempt."""
    now = utcnow()
    session.execute(
        update(DELIVERIES).where(ids_in(session, DELIVERIES.c.id, [row.id for row in rows]), DELIVERIES.c.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, attempts=DELIVERIES.c.attempts - 1, enqueued_at=None,
                next_attempt_at=now + timedelta(seconds=wait_seconds), updated_at=now)
    )


def _cancel_claimed(session: Session, rows: list[Claimed], reason: str) -> None:
    now = utcnow()
    session.execute(
        update(DELIVERIES).where(ids_in(session, DELIVERIES.c.id, [row.id for row in rows]), DELIVERIES.c.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.CANCELLED, gateway_text=reason, updated_at=now)
    )
    session.execute(insert(ATTEMPTS), [
        {"delivery_id": row.id, "attempt": row.attempt, "at": now, "outcome": "cancelled", "text": reason} for row in rows
    ])


def _record(session: Session, results: list[SendResult], attempts: Mapping[int, int], status: DeliveryStatus,
            note: str | None = None) -> None:
    """Move the rows still 'sending' to `status` (a receipt may already have moved one further: never back),
    with one attempt row per result."""
    if not results:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_record_in_one_statement(results, attempts, status, note))
        return
    now = utcnow()
    sent_at = now if status == DeliveryStatus.SENT else None
    plain: list[SendResult] = []
    detailed: list[SendResult] = []
    for result in results:
        (detailed if _has_details(result) else plain).append(result)
    if plain:  # the common case (null gateway, cancellations): one statement for the lot
        session.execute(
            update(DELIVERIES).where(ids_in(session, DELIVERIES.c.id, [r.delivery_id for r in plain]), DELIVERIES.c.status == DeliveryStatus.SENDING)
            .values(status=status, sent_at=sent_at, updated_at=now, gateway_text=note)
        )
    if detailed:
        session.connection().execute(
            update(DELIVERIES)
            .where(and_(DELIVERIES.c.id == bindparam("b_id"), DELIVERIES.c.status == DeliveryStatus.SENDING))
            .values(status=status, sent_at=sent_at, updated_at=now, gateway_id=bindparam("b_gateway_id"),
                    gateway_code=bindparam("b_code"), gateway_text=bindparam("b_text")),
            [{"b_id": r.delivery_id, "b_gateway_id": r.gateway_id, "b_code": r.code,
              "b_text": _row_text(r, note)} for r in detailed],
        )
    _attempt_rows(session, results, attempts)


def _has_details(result: SendResult) -> bool:
    """Whether the gateway said anything of its own: a plain result leaves the row's gateway columns as they were."""
    return not (result.gateway_id is None and result.code is None and result.text is None)


def _row_text(result: SendResult, note: str | None) -> str | None:
    """What the delivery row keeps as gateway_text: the note, the gateway's text, or both."""
    if not _has_details(result):
        return note
    return f"{note}: {result.text}" if note else result.text


def _record_in_one_statement(results: list[SendResult], attempts: Mapping[int, int], status: DeliveryStatus,
                             note: str | None) -> Insert:
    """PostgreSQL: the move and the attempt rows as one WITH over the results passed as arrays: one round
    trip and one statement a batch, where the two statements each looked the batch's rows up again. Results
    with nothing of their own (the common case) pass their ids and attempts only."""
    now = utcnow()
    detailed = any(_has_details(r) for r in results)
    arrays = [_array("r_ids", [r.delivery_id for r in results], BigInteger),
              _array("r_attempts", [attempts[r.delivery_id] for r in results], Integer)]
    names = ["id", "attempt"]
    if detailed:
        arrays += [_array("r_own", [_has_details(r) for r in results], Boolean),
                   _array("r_gateway_ids", [r.gateway_id for r in results], DELIVERIES.c.gateway_id.type),
                   _array("r_codes", [r.code for r in results], DELIVERIES.c.gateway_code.type),
                   _array("r_row_texts", [_row_text(r, note) for r in results], Text),
                   _array("r_texts", [r.text for r in results], Text)]
        names += ["own", "gateway_id", "code", "row_text", "text"]
    given = func.unnest(*arrays).table_valued(*names).render_derived(name="given")
    values: dict[str, object] = {"status": status, "sent_at": now if status == DeliveryStatus.SENT else None,
                                 "updated_at": now, "gateway_text": note}
    own = {"gateway_id": null(), "code": null(), "text": null()}
    if detailed:
        values.update(gateway_id=case((given.c.own, given.c.gateway_id), else_=DELIVERIES.c.gateway_id),
                      gateway_code=case((given.c.own, given.c.code), else_=DELIVERIES.c.gateway_code),
                      gateway_text=given.c.row_text)
        own = {"gateway_id": given.c.gateway_id, "code": given.c.code, "text": given.c.text}
    moved = (update(DELIVERIES).where(DELIVERIES.c.id == given.c.id, DELIVERIES.c.status == DeliveryStatus.SENDING)
             .values(**values).cte("moved"))
    outcome = Outcome(results[0].outcome).value  # each call records one outcome
    return insert(ATTEMPTS).from_select(
        ["delivery_id", "attempt", "at", "outcome", "gateway_id", "code", "text"],
        select(given.c.id, given.c.attempt, literal(now, UTCDateTime), literal(outcome), own["gateway_id"],
               own["code"], own["text"]),
    ).add_cte(moved)


def _array(name: str, values: list, item_type: TypeEngine | type[TypeEngine]) -> BindParameter:
    return bindparam(name, values, type_=ARRAY(item_type))


def _attempt_rows(session: Session, results: list[SendResult], attempts: Mapping[int, int]) -> None:
    """One attempt row per result. Results with nothing of their own (the null gateway's, most
    cancellations) are copied from the delivery rows by the database in one statement."""
    if not results:
        return
    now = utcnow()
    bare: dict[str, list[int]] = defaultdict(list)
    detailed = []
    for r in results:
        if not _has_details(r):
            bare[Outcome(r.outcome).value].append(r.delivery_id)
        else:
            detailed.append({"delivery_id": r.delivery_id, "attempt": attempts[r.delivery_id], "at": now,
                             "outcome": Outcome(r.outcome).value, "gateway_id": r.gateway_id, "code": r.code, "text": r.text})
    for outcome, ids in bare.items():
        session.execute(insert(ATTEMPTS).from_select(
            ["delivery_id", "attempt", "at", "outcome"],
            select(DELIVERIES.c.id, DELIVERIES.c.attempts, literal(now, UTCDateTime), literal(outcome))
            .where(ids_in(session, DELIVERIES.c.id, ids)),
        ))
    if detailed:
        session.execute(insert(ATTEMPTS), detailed)
