"""What the SMS gateway benchmarks share (twilio.py, smpp.py): one Actual alert to every county, reaching
every recipient by SMS through a gateway peer run by the benchmark, timed from publishing to each text
accepted (sent_at) and delivered (its receipt applied), with the peer's counters sampled on the way.
With --county-platforms the same alert's EBMs go through the broadcast adapter to the 31 county
platforms (peers/broadcast_peer.py, in this process) instead of the null gateway, and with
--beidou-interval its BeiDou messages through the serial adapter to the terminal peer
(peers/beidou_peer.py) at that card interval; each is timed from publishing to each target's
acceptance: the other channels' time to reach under the SMS load.

Each benchmark keeps what is its own: its peer, the settings that aim the adapter at it, and the
figures it reads from the peer's counters (SmsRun.rate).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from fanout import environment, new_alert, prepare, publish_alert
from service import percentile, start_workers, stop, table
from sqlalchemy import func, select, text

from peers.beidou_peer import BeidouPeer
from peers.broadcast_peer import BroadcastPeer
from tests.support.backends import empty_redis
from warning_service.cli.demo import DEMO_CARD
from warning_service.demo_data import point_demo_endpoints
from warning_service.extensions import db
from warning_service.models import Alert, AlertState, County, Delivery, DeliveryStatus, Level

# A text is settled here once its receipt is applied: sent (accepted) still waits for it.
UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT)
# The other channels (no receipt here) are settled once their gateway answered.
UNSENT = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
SAMPLE_SECONDS = 0.5
REACH_KEYS = ["recipients", "recipients_per_second", "s_publish_to_50pct_accepted", "s_publish_to_95pct_accepted",
              "s_publish_to_last_accepted", "s_publish_to_95pct_delivered", "s_publish_to_last_delivered"]
LOAD_KEYS = ["load_1min_before", "load_1min_after"]


@dataclass
class SmsRun:
    """One alert's SMS, in seconds after publishing: each accepted and each delivered, in order; each other
    channel's targets accepted, in order; the peer's counters (since the run began) at each look; the 1-minute
    load average as the run began and ended."""

    accepted: list[float]
    delivered: list[float]
    others_accepted: dict[str, list[float]]
    statuses: dict[str, int]
    samples: list[tuple[float, tuple[int, ...]]]
    load_before: float
    load_after: float

    def total(self, counter: int) -> int:
        """The peer's counter `counter` (its place in what `counters` returned) over the whole run."""
        return self.samples[-1][1][counter]

    def rate(self, counter: int) -> int:
        """The peer's counter `counter` a second, from the last look that saw none to the first that saw them
        all: the span is never short."""
        total = self.total(counter)
        started = max(seconds for seconds, counts in self.samples if counts[counter] == 0)
        finished = min((seconds for seconds, counts in self.samples if counts[counter] == total),
                       default=self.samples[-1][0])
        return round(total / max(finished - started, SAMPLE_SECONDS))

    def reach(self) -> dict:
        """Publish -> 50%, 95% and the last text accepted, -> 95% and the last delivered, the statuses."""
        delivered = self.delivered
        return {
            "recipients": len(self.accepted),
            "statuses": self.statuses,
            "recipients_per_second": round(len(self.accepted) / self.accepted[-1]),
            "s_publish_to_50pct_accepted": round(percentile(self.accepted, 0.5), 2),
            "s_publish_to_95pct_accepted": round(percentile(self.accepted, 0.95), 2),
            "s_publish_to_last_accepted": round(self.accepted[-1], 2),
            "s_publish_to_95pct_delivered": round(percentile(delivered, 0.95), 2) if delivered else None,
            "s_publish_to_last_delivered": round(delivered[-1], 2) if delivered else None,
            "other_channels": {channel: {
                "targets": len(times),
                "s_publish_to_50pct_accepted": round(percentile(times, 0.5), 2),
                "s_publish_to_95pct_accepted": round(percentile(times, 0.95), 2),
                "s_publish_to_last_accepted": round(times[-1], 2),
            } for channel, times in self.others_accepted.items() if times},
            "load_1min_before": round(self.load_before, 2),
            "load_1min_after": round(self.load_after, 2),
        }


def arguments(description: str, *, rate: float, rate_help: str, latency: float, latency_help: str, timeout: float,
              databases: tuple[str, str], redis_url: str) -> argparse.ArgumentParser:
    """The options every SMS gateway benchmark takes; each adds its own."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=rate, help=rate_help)
    parser.add_argument("--latency", type=float, default=latency, help=latency_help)
    parser.add_argument("--timeout", type=float, default=timeout, help="seconds a run may take")
    parser.add_argument("--database", help=f"default: {databases[0]}, {databases[1]} with --quick")
    parser.add_argument("--redis-url", default=redis_url)
    parser.add_argument("--county-platforms", action="store_true",
                        help="EBMs through the broadcast adapter to the 31 county platforms' peer (else the null gateway)")
    parser.add_argument("--beidou-interval", type=float,
                        help="BeiDou through the serial adapter to the terminal peer at this card interval, seconds "
                             "(else the null gateway)")
    parser.add_argument("--quick", action="store_true", help="smoke run: one run, 300 recipients")
    return parser


def prepared(args: argparse.Namespace, databases: tuple[str, str]) -> dict[str, str]:
    """The environment of the service under test, its database (`databases`: the benchmark's own, and its
    quick one) seeded with `--recipients`; --quick made small."""
    if args.quick:
        args.runs, args.recipients, args.timeout = 1, min(args.recipients, 300), 120
    args.database = args.database or (databases[1] if args.quick else databases[0])
    env = environment(args.batch_size, 50_000, args.database, args.redis_url)
    prepare(args.recipients, env, args.database)
    return env


@contextmanager
def field_peers(env: dict[str, str], args: argparse.Namespace) -> Iterator[list[str]]:
    """The other channels' peers the options ask for, in this process, with `env` (for the workers started
    after) aiming their adapters at them; yields those channels' names. --county-platforms: the demo's county
    broadcast platforms, their endpoints aimed at one peer; --beidou-interval: the demo's BeiDou terminal
    at that card interval, and the reconciler every second, which brings back the sends the card's pace
    deferred (as `flask demo serve` runs it)."""
    with ExitStack() as stack:
        channels = []
        if args.county_platforms:
            platforms = stack.enter_context(BroadcastPeer({}))
            platforms.secrets.update(point_demo_endpoints(db.session, platforms.url("513301").rsplit("/", 1)[0]))
            db.session.commit()
            env["BROADCAST_GATEWAY"] = "http"
            channels.append("broadcast")
        if args.beidou_interval is not None:
            terminal = stack.enter_context(BeidouPeer(card_address=DEMO_CARD, interval=args.beidou_interval))
            env.update({"BEIDOU_GATEWAY": "serial", "BEIDOU_SERIAL_URL": terminal.url, "RECONCILE_INTERVAL_SECONDS": "1"})
            channels.append("beidou")
        yield channels


def run_alert(env: dict[str, str], workers: int, timeout: float, counters: Callable[[], tuple[int, ...]]) -> SmsRun:
    """Publish one alert to every county with `workers` fresh workers and wait until every text is accepted and
    receipted; `counters` reads the peer's running counts, sampled relative to the run's start."""
    db.session.execute(text("TRUNCATE deliveries, delivery_attempts, early_receipts RESTART IDENTITY CASCADE"))
    db.session.commit()
    empty_redis(env["REDIS_URL"])  # but a test session's claim on it, when the smoke test runs us
    alert_id = new_alert(list(db.session.scalars(select(County.code))), "rainstorm", Level.YELLOW)
    before = counters()
    load_before = os.getloadavg()[0]
    processes = start_workers(env, workers)
    try:
        published = publish_alert(alert_id)
        deadline = time.monotonic() + timeout
        samples = [(0.0, tuple(0 for _ in before))]
        sms = select(Delivery.id).where(Delivery.alert_id == alert_id, Delivery.channel == "sms")
        others = select(Delivery.id).where(Delivery.alert_id == alert_id, Delivery.channel != "sms")
        while True:
            time.sleep(SAMPLE_SECONDS)
            samples.append((time.time() - published, tuple(now - then for now, then in zip(counters(), before))))
            waiting = db.session.scalar(select(sms.where(Delivery.status.in_(UNSETTLED)).exists())) or \
                db.session.scalar(select(others.where(Delivery.status.in_(UNSENT)).exists()))
            planned = db.session.scalar(select(Alert.state).where(Alert.id == alert_id)) == AlertState.PUBLISHED
            db.session.commit()
            if planned and not waiting:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"not every SMS was accepted and receipted in {timeout:.0f} s")
    finally:
        stop(*processes)
    load_after = os.getloadavg()[0]

    def seconds_after_publish(column, status: DeliveryStatus | None = None, channel: str = "sms") -> list[float]:
        query = select(column).where(Delivery.alert_id == alert_id, Delivery.channel == channel,
                                     column.is_not(None)).order_by(column)
        if status is not None:
            query = query.where(Delivery.status == status)
        return [value.timestamp() - published for value in db.session.scalars(query)]

    counts = db.session.execute(select(Delivery.status, func.count()).where(
        Delivery.alert_id == alert_id, Delivery.channel == "sms").group_by(Delivery.status)).all()
    channels = db.session.scalars(select(Delivery.channel).where(Delivery.alert_id == alert_id).distinct())
    return SmsRun(accepted=seconds_after_publish(Delivery.sent_at),
                  delivered=seconds_after_publish(Delivery.delivered_at, DeliveryStatus.DELIVERED),
                  others_accepted={channel: seconds_after_publish(Delivery.sent_at, channel=channel)
                                   for channel in channels if channel != "sms"},
                  statuses={status.value: count for status, count in counts}, samples=samples,
                  load_before=load_before, load_after=load_after)


def run_all(runs: int, one_run: Callable[[], dict]) -> list[dict]:
    """`runs` runs, each printed as a JSON line as it ends."""
    results = []
    for run in range(runs):
        result = one_run()
        print(json.dumps({"run": run + 1, **result}), flush=True)
        results.append(result)
    return results


def field_peers_summary(channels: list[str], results: list[dict]) -> str:
    """Each of `channels` (field_peers'), per run and the medians: targets, publish -> 50%, 95% and the last
    accepted."""
    keys = ["targets", "s_publish_to_50pct_accepted", "s_publish_to_95pct_accepted", "s_publish_to_last_accepted"]
    return "\n".join(f"\nthe same alert's {channel} through its adapter to its peer\n" + medians_table(
        ["targets", "-> 50% accepted s", "-> 95% accepted s", "-> last accepted s"], keys,
        [result["other_channels"][channel] for result in results]) for channel in channels)


def medians_table(headers: list[str], keys: list[str], results: list[dict]) -> str:
    """A row per run and the medians (a figure a run could not give counts 0), as Markdown."""
    rows = [[index + 1] + [result[key] for key in keys] for index, result in enumerate(results)]
    rows.append(["**median**"] + [statistics.median(result[key] or 0 for result in results) for key in keys])
    return table(["run", *headers], rows)
