"""SMS over Twilio at the account's rate, end to end: the fan-out's SMS through the Twilio adapter to the
local Twilio, and its status callbacks through the web tier into the database.

    .venv/bin/python bench/twilio.py --runs 3          # 100,000 recipients, 500 creates/s, 150 ms
    .venv/bin/python bench/twilio.py --web-tier --runs 3  # the callbacks alone, as fast as gunicorn takes them
    .venv/bin/python bench/twilio.py --quick

As bench/smpp.py does for SMPP: real workers (`python worker.py`) against a peer, here
peers/twilio_peer.py in this process, allowing `--rate` Messages creates a second (429, Twilio's
20429, above it: a token bucket of one second's worth) and answering each after `--latency`; it
posts the signed status callbacks (sent, then delivered, `--callback-delay` apart) to `gunicorn
wsgi:app` (`--gunicorn-workers`), as Twilio would. One Actual alert to every county reaches every
recipient in the database by SMS (broadcast and BeiDou go to the null gateway). TWILIO_MAX_MPS is
set above the peer's rate (`--max-mps`), so the peer's allowance is what is measured, with the
adapter pausing and sending again what was answered 429; TWILIO_MAX_IN_FLIGHT (`--in-flight`) per
worker. As in bench/fanout.py the reconciler is idle (it would seal the delivered rows mid-run).

Per run: publish -> 50%, 95% and the last SMS accepted (sent_at); creates accepted a second (the
peer's count, sampled every half second, from the last look that saw none to the first that saw
them all) beside the peer's allowance; recipients accepted a second; publish -> 95% and the last
delivered (every delivered callback applied by the web tier); callbacks answered a second over
their own span; 429 answers; the most creates the peer answered at once; the load average (the
machine may be shared) as the run began and ended. Prints one JSON line per run and a Markdown
table with the medians. Its own database (ews_bench_twilio) and Redis database.

With --web-tier, no fan-out: `--texts` SMS deliveries are written as sent, and the peer posts their
callbacks (sent, then delivered, each at once) to gunicorn from `--callback-workers` threads; per run,
callbacks answered a second and gunicorn's CPU time per callback. `--app-root` serves another
checkout's app with the same peer and measure (the code before a change).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

# fanout imports service, which puts this directory after the installed packages: this script is twilio.py.
from fanout import environment, new_alert, prepare, publish_alert
from redis import Redis
from service import ROOT, children, cpu_seconds, percentile, start_gunicorn, start_workers, stop, table
from sqlalchemy import func, insert, select, text

from peers.ports import free_ports
from peers.twilio_peer import TwilioPeer
from warning_service.app import create_app
from warning_service.channels.sms.twilio import STATUS_CALLBACK_PATH
from warning_service.extensions import db
from warning_service.models import (
    Alert,
    AlertState,
    County,
    Delivery,
    DeliveryStatus,
    Level,
    Recipient,
    utcnow,
)

DATABASE = "ews_bench_twilio"
QUICK_DATABASE = "ews_bench_twilio_quick"
REDIS_URL = "redis://127.0.0.1:6379/11"
UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT)


def one_run(env: dict[str, str], peer: TwilioPeer, workers: int, timeout: float) -> dict:
    db.session.execute(text("TRUNCATE deliveries, delivery_attempts, early_receipts RESTART IDENTITY CASCADE"))
    db.session.commit()
    connection = Redis.from_url(env["REDIS_URL"])
    keep = b"ews:test-session"  # a test session's claim on this Redis database, when the smoke test runs us
    for key in connection.scan_iter():
        if key != keep:
            connection.delete(key)
    alert_id = new_alert(list(db.session.scalars(select(County.code))), "rainstorm", Level.YELLOW)
    stats = peer.stats
    created_before, throttled_before, callbacks_before = stats.created, stats.throttled, stats.callbacks_ok
    stats.peak_in_flight = 0
    load_before = os.getloadavg()[0]
    processes = start_workers(env, workers)
    try:
        published = publish_alert(alert_id)
        deadline = time.monotonic() + timeout
        samples = [(0.0, 0, 0)]  # (seconds since publish, creates accepted, callbacks answered 2xx)
        while True:
            time.sleep(0.5)
            samples.append((time.time() - published, stats.created - created_before, stats.callbacks_ok - callbacks_before))
            sms = select(Delivery.id).where(Delivery.alert_id == alert_id, Delivery.channel == "sms")
            waiting = db.session.scalar(select(sms.where(Delivery.status.in_(UNSETTLED)).exists()))
            planned = db.session.scalar(select(Alert.state).where(Alert.id == alert_id)) == AlertState.PUBLISHED
            db.session.commit()
            if planned and not waiting:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"not every SMS was accepted and its callbacks applied in {timeout:.0f} s")
    finally:
        stop(*processes)
    load_after = os.getloadavg()[0]

    def times(column, status: DeliveryStatus | None = None) -> list[float]:
        query = select(column).where(Delivery.alert_id == alert_id, Delivery.channel == "sms",
                                     column.is_not(None)).order_by(column)
        if status is not None:
            query = query.where(Delivery.status == status)
        return [value.timestamp() - published for value in db.session.scalars(query)]

    sent, delivered = times(Delivery.sent_at), times(Delivery.delivered_at, DeliveryStatus.DELIVERED)
    counts = dict(db.session.execute(select(Delivery.status, func.count()).where(
        Delivery.alert_id == alert_id, Delivery.channel == "sms").group_by(Delivery.status)).all())
    creates, callbacks = stats.created - created_before, stats.callbacks_ok - callbacks_before
    return {
        "recipients": len(sent),
        "statuses": {status.value: count for status, count in counts.items()},
        "creates_accepted": creates,
        "creates_per_second": round(creates / span(samples, 1, creates)),
        "recipients_per_second": round(len(sent) / sent[-1]),
        "s_publish_to_50pct_accepted": round(percentile(sent, 0.5), 2),
        "s_publish_to_95pct_accepted": round(percentile(sent, 0.95), 2),
        "s_publish_to_last_accepted": round(sent[-1], 2),
        "s_publish_to_95pct_delivered": round(percentile(delivered, 0.95), 2) if delivered else None,
        "s_publish_to_last_delivered": round(delivered[-1], 2) if delivered else None,
        "callbacks_answered": callbacks,
        "callbacks_per_second": round(callbacks / span(samples, 2, callbacks)),
        "throttled_answers": stats.throttled - throttled_before,
        "peak_creates_in_flight": stats.peak_in_flight,
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(load_after, 2),
    }


def web_tier_run(peer: TwilioPeer, server, callback_url: str, texts: int, timeout: float) -> dict:
    """Each text's two callbacks, posted as fast as the web tier answers them."""
    db.session.execute(text("TRUNCATE deliveries, delivery_attempts, early_receipts RESTART IDENTITY CASCADE"))
    alert_id = new_alert(["513301"], "rainstorm", Level.YELLOW)
    sids = [f"SMweb{number:010d}" for number in range(1, texts + 1)]
    db.session.execute(insert(Delivery), [
        {"alert_id": alert_id, "channel": "sms", "target_id": number, "county_code": "513301", "attempts": 1,
         "status": DeliveryStatus.SENT, "gateway_id": sid, "sent_at": utcnow()} for number, sid in enumerate(sids, 1)])
    db.session.commit()
    stats, pids = peer.stats, [server.pid, *children(server.pid)]
    made_before, ok_before, cpu_before = stats.callbacks, stats.callbacks_ok, cpu_seconds(pids)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    for sid in sids:
        peer.call_back(callback_url, sid, "+8619900000001")
    while stats.callbacks - made_before < 2 * texts:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"the web tier did not answer {2 * texts} callbacks in {timeout:.0f} s")
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(pids) - cpu_before
    delivered = db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.alert_id == alert_id, Delivery.status == DeliveryStatus.DELIVERED))
    db.session.commit()
    return {
        "callbacks": 2 * texts,
        "answered_2xx": stats.callbacks_ok - ok_before,
        "delivered": delivered,
        "callbacks_per_second": round(2 * texts / elapsed),
        "web_cpu_ms_per_callback": round(cpu * 1000 / (2 * texts), 2),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
    }


def span(samples: list[tuple[float, int, int]], column: int, total: int) -> float:
    """From the last look that saw none to the first that saw them all: the span is never short."""
    started = max(sample[0] for sample in samples if sample[column] == 0)
    finished = min((sample[0] for sample in samples if sample[column] == total), default=samples[-1][0])
    return max(finished - started, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500, help="Messages creates a second the peer allows")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds before the peer answers")
    parser.add_argument("--callback-delay", type=float, default=1.0, help="seconds from create to 'sent', and to 'delivered'")
    parser.add_argument("--callback-workers", type=int, default=8, help="the peer's threads posting callbacks")
    parser.add_argument("--in-flight", type=int, default=50, help="TWILIO_MAX_IN_FLIGHT per worker")
    parser.add_argument("--max-mps", type=float, default=10_000, help="TWILIO_MAX_MPS, the shared bucket (segments)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a run may take")
    parser.add_argument("--web-tier", action="store_true", help="the status callbacks alone (no fan-out)")
    parser.add_argument("--texts", type=int, default=10_000, help="with --web-tier: texts whose two callbacks are posted")
    parser.add_argument("--app-root", default=str(ROOT), help="with --web-tier: the checkout gunicorn serves")
    parser.add_argument("--database", help=f"default: {DATABASE}, {QUICK_DATABASE} with --quick")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--quick", action="store_true", help="smoke run: one run, 300 recipients")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.recipients, args.texts, args.timeout = 1, min(args.recipients, 300), min(args.texts, 300), 120
    args.database = args.database or (QUICK_DATABASE if args.quick else DATABASE)

    web_port = free_ports(1)
    env = environment(args.batch_size, 50_000, args.database, args.redis_url)
    prepare(args.recipients, env, args.database)
    peer = TwilioPeer(rate=args.rate, latency=args.latency, callback_delay=0 if args.web_tier else args.callback_delay,
                      callback_workers=args.callback_workers, record=False)
    results = []
    with peer:
        public = f"http://127.0.0.1:{web_port}"
        env.update({"SMS_GATEWAY": "twilio", "TWILIO_API_BASE_URL": peer.base_url,
                    "TWILIO_ACCOUNT_SID": peer.account_sid, "TWILIO_AUTH_TOKEN": peer.auth_token,
                    "TWILIO_FROM": "+8610690000000", "TWILIO_MESSAGING_SERVICE_SID": "",
                    "TWILIO_MAX_MPS": str(args.max_mps), "TWILIO_MAX_IN_FLIGHT": str(args.in_flight),
                    "PUBLIC_BASE_URL": public})
        os.environ.update(env)
        app = create_app()
        server = start_gunicorn(env, args.gunicorn_workers, web_port, Path(args.app_root))
        try:
            with app.app_context():
                recipients_total = db.session.scalar(select(func.count()).select_from(Recipient))
                for run in range(args.runs):
                    if args.web_tier:
                        result = web_tier_run(peer, server, public + STATUS_CALLBACK_PATH, args.texts, args.timeout)
                    else:
                        result = one_run(env, peer, args.workers, args.timeout)
                    print(json.dumps({"run": run + 1, **result}), flush=True)
                    results.append(result)
        finally:
            stop(server)
    if args.web_tier:
        keys = ["callbacks", "answered_2xx", "delivered", "callbacks_per_second", "web_cpu_ms_per_callback",
                "load_1min_before", "load_1min_after"]
        rows = [[index + 1] + [r[key] for key in keys] for index, r in enumerate(results)]
        rows.append(["**median**"] + [statistics.median(r[key] for r in results) for key in keys])
        print(f"\nTwilio status callbacks into gunicorn x {args.gunicorn_workers} ({args.app_root}) from "
              f"{args.callback_workers} peer threads: {args.texts:,} texts, sent then delivered")
        print(table(["run", "callbacks", "answered 2xx", "deliveries moved", "callbacks/s", "web CPU ms/callback",
                     "load before", "load after"], rows))
        return
    keys = ["recipients", "creates_accepted", "creates_per_second", "recipients_per_second",
            "s_publish_to_50pct_accepted", "s_publish_to_95pct_accepted", "s_publish_to_last_accepted",
            "s_publish_to_95pct_delivered", "s_publish_to_last_delivered", "callbacks_per_second",
            "throttled_answers", "peak_creates_in_flight", "load_1min_before", "load_1min_after"]
    rows = [[index + 1] + [r[key] for key in keys] for index, r in enumerate(results)]
    rows.append(["**median**"] + [statistics.median(r[key] or 0 for r in results) for key in keys])
    print(f"\nSMS over Twilio against peers/twilio_peer.py allowing {args.rate:g} creates/s, {args.latency * 1000:g} ms "
          f"latency; {recipients_total:,} recipients, {args.workers} workers x {args.in_flight} in flight, batch "
          f"{args.batch_size}, TWILIO_MAX_MPS {args.max_mps:g}; callbacks to gunicorn x {args.gunicorn_workers}")
    print(table(["run", "recipients", "creates accepted", "creates/s", "recipients/s", "-> 50% accepted s",
                 "-> 95% accepted s", "-> last accepted s", "-> 95% delivered s", "-> last delivered s",
                 "callbacks/s", "429 answers", "peak in flight", "load before", "load after"], rows))


if __name__ == "__main__":
    main()
