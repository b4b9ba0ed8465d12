"""Every Prometheus metric of the service, defined here and nowhere else.

Two kinds:
- What processes observe (gateway calls, send outcomes, reconciler actions,
  latencies from publish): counters and histograms updated by the dispatch code
  through the small `observe_*`/`count_*` functions below. The web app runs in
  several gunicorn processes and the sending in separate RQ workers, so these
  live in prometheus-client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is
  set (prometheus-client reads that variable itself, at import: set it in the
  environment of gunicorn and of every worker.py, to one shared, emptied-at-start
  directory), and in this process's registry otherwise.
- What is true now (jobs waiting per priority queue, deliveries per channel and
  status, whether each CBC answered its last link test): read from Redis and the
  database at scrape time by `StateCollector`, so every web process reports the same truth.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis import Redis
from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .extensions import QUEUE_NAMES
from .models import Alert, AlertState, CbcOperator, Delivery

# From one second to a quarter of an hour: a fan-out to a county's SMS runs minutes, an EBM seconds.
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600)
GATEWAY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)

GATEWAY_CALL_SECONDS = Histogram(
    "ews_gateway_call_seconds", "Time one call to a channel's gateway (one batch of messages) took.",
    ["channel"], buckets=GATEWAY_BUCKETS)
GATEWAY_ERRORS = Counter(
    "ews_gateway_errors_total",
    "Messages a gateway did not accept: transient (retried), permanent, or the adapter raised.",
    ["channel", "kind"])
SEND_RESULTS = Counter(
    "ews_send_results_total", "Results of send attempts by channel and outcome (accepted, transient, permanent, "
    "deferred by the rate limit, cancelled).", ["channel", "outcome"])
PUBLISH_TO_FIRST_SEND = Histogram(
    "ews_publish_to_first_send_seconds",
    "From an alert's publishing to the first message a gateway accepted for it, once per alert and channel.",
    ["channel"], buckets=LATENCY_BUCKETS)
PUBLISH_TO_SETTLED = Histogram(
    "ews_publish_to_settled_seconds",
    "From an alert's publishing to each of its deliveries settling (accepted, delivered, or given up).",
    ["channel"], buckets=LATENCY_BUCKETS)
RECONCILER_ACTIONS = Counter(
    "ews_reconciler_actions_total",
    "What the reconciler did: reclaimed stuck deliveries, requeued pending ones, restarted plans, failed SMS over.",
    ["action"])

FIRST_SEND_KEY = "ews:metrics:first-send:{alert_id}:{channel}"
FIRST_SEND_KEY_SECONDS = 7 * 86_400


def observe_gateway_call(channel: str, seconds: float) -> None:
    GATEWAY_CALL_SECONDS.labels(channel).observe(seconds)


def count_gateway_errors(channel: str, kind: str, count: int = 1) -> None:
    if count:
        GATEWAY_ERRORS.labels(channel, kind).inc(count)


def count_send_results(channel: str, outcomes: Mapping[str, int]) -> None:
    for outcome, count in outcomes.items():
        if count:
            SEND_RESULTS.labels(channel, outcome).inc(count)


def observe_settled(connection: Redis, alert_id: int, published: datetime | None, channel: str, accepted: int,
                    settled: int, now: datetime) -> None:
    """A batch of an alert published at `published` settled `settled` deliveries on `channel`, `accepted` of
    them accepted by the gateway. The first accepted batch per alert and channel (across all workers: a
    Redis SET NX) gives first-send."""
    if published is None or not settled:
        return
    seconds = max((now - published).total_seconds(), 0.0)
    observe_many(PUBLISH_TO_SETTLED.labels(channel), seconds, settled)
    key = FIRST_SEND_KEY.format(alert_id=alert_id, channel=channel)
    if accepted and connection.set(key, "1", nx=True, ex=FIRST_SEND_KEY_SECONDS):
        PUBLISH_TO_FIRST_SEND.labels(channel).observe(seconds)


def observe_many(histogram: Histogram, seconds: float, count: int) -> None:
    """`count` observations of the same value as one update: what `count` calls of `observe` would leave
    (the sum grows by count x seconds, the value's bucket by count), where a batch's 2,000 settled deliveries
    made 2,000 calls (2% of a fan-out worker's time). prometheus-client has no public way to do it; the
    test compares it with `observe` so a change of its internals shows."""
    histogram._raise_if_not_observable()
    histogram._sum.inc(seconds * count)
    for bucket, bound in zip(histogram._buckets, histogram._upper_bounds):
        if seconds <= bound:
            bucket.inc(count)
            return


def count_reconciler_actions(actions: Mapping[str, int]) -> None:
    for action, count in actions.items():
        if count:
            RECONCILER_ACTIONS.labels(action).inc(count)


class StateCollector(Collector):
    """Queue depths and delivery counts, read when Prometheus scrapes.

    Deliveries are counted for the alerts still in force (publishing or published):
    a grouped count over their (alert_id, status) index, not a scan of every row ever sent."""

    def __init__(self, connection: Redis, session_factory: Callable[[], Session]):
        self.connection = connection
        self.session_factory = session_factory

    def collect(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily("ews_queue_jobs", "Jobs waiting on each priority queue.", labels=["queue"])
        running = GaugeMetricFamily("ews_queue_running_jobs", "Jobs a worker is running, per priority queue.",
                                    labels=["queue"])
        for name in QUEUE_NAMES:
            queue = Queue(name, connection=self.connection)
            waiting.add_metric([name], queue.count)
            running.add_metric([name], queue.started_job_registry.count)
        yield waiting
        yield running
        deliveries = GaugeMetricFamily(
            "ews_live_deliveries", "Deliveries of the alerts in force (publishing or published) by channel and status.",
            labels=["channel", "status"])
        for channel, status, count in self._delivery_counts():
            deliveries.add_metric([channel, status.value], count)
        yield deliveries
        links = GaugeMetricFamily(
            "ews_cbc_link_up", "Whether each active CBC URL answered its last link test (1) or not (0); "
            "untested URLs are left out.", labels=["operator", "front"])
        for code, primary, failover in self.session_factory().execute(
                select(CbcOperator.code, CbcOperator.link_primary_ok, CbcOperator.link_failover_ok)
                .where(CbcOperator.active).order_by(CbcOperator.code)):
            for front, up in (("primary", primary), ("failover", failover)):
                if up is not None:
                    links.add_metric([code, front], 1 if up else 0)
        yield links

    def _delivery_counts(self) -> Iterable[tuple]:
        session = self.session_factory()
        live = select(Alert.id).where(Alert.state.in_((AlertState.PUBLISHING, AlertState.PUBLISHED)))
        return session.execute(
            select(Delivery.channel, Delivery.status, func.count())
            .where(Delivery.alert_id.in_(live))
            .group_by(Delivery.channel, Delivery.status)
        ).all()


def exposition(multiprocess_dir: str, state: Collector) -> tuple[bytes, str]:
    """The text Prometheus scrapes: every process's observations, and the state now."""
    registry = CollectorRegistry()
    if multiprocess_dir:
        MultiProcessCollector(registry, path=multiprocess_dir)
        registry.register(state)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    registry.register(state)
    return generate_latest(REGISTRY) + generate_latest(registry), CONTENT_TYPE_LATEST
