"""SMS over SMPP end to end: the fan-out's SMS through the SMPP adapter to the local SMS centre, receipts and all.

    .venv/bin/python bench/smpp.py --runs 3                 # 100,000 recipients, 2,000 submit_sm/s, 20 ms
    .venv/bin/python bench/smpp.py --quick

As bench/fanout_peers.py does for Twilio: real workers (`python worker.py`) against a peer,
here peers/smpp_peer.py in this process, allowing `--rate` submit_sm a second (ESME_RTHROTTLED
above it: a token bucket of one second's worth) and answering each after `--latency`; it
sends a delivery receipt `--receipt-delay` after each answer. One Actual alert to every
county reaches every recipient in the database by SMS (broadcast and BeiDou go to the null
gateway). SMPP_MAX_TPS is set above the peer's rate (`--max-tps`), so the peer's allowance is
what is measured, with the adapter slowing down when throttled. As in bench/fanout.py the
reconciler is idle (it would seal the delivered rows mid-run).

Per run: publish -> 50%, 95% and the last SMS accepted (sent_at); submit_sm accepted a second
(the peer's count, sampled every half second, from the last look that saw none to the first
that saw them all) beside the peer's
allowance; recipients accepted a second; publish -> 95% and the last delivered (every receipt
applied through the workers' receipts threads); throttled answers. Prints one JSON line per run
and a Markdown table with the medians. Its own database (ews_bench_smpp) and Redis database.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from fanout import environment, new_alert, prepare, publish_alert
from redis import Redis
from service import start_workers, stop, table
from sqlalchemy import func, select, text

from peers.smpp_peer import SmppPeer
from warning_service.app import create_app
from warning_service.extensions import db
from warning_service.models import Alert, AlertState, County, Delivery, DeliveryStatus, Level, Recipient

DATABASE = "ews_bench_smpp"
QUICK_DATABASE = "ews_bench_smpp_quick"
REDIS_URL = "redis://127.0.0.1:6379/12"
SYSTEM_ID, PASSWORD, SOURCE = "ews-bench", "bench", "12379"
UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def one_run(env: dict[str, str], peer: SmppPeer, workers: int, timeout: float) -> dict:
    db.session.execute(text("TRUNCATE deliveries, delivery_attempts, early_receipts RESTART IDENTITY CASCADE"))
    db.session.commit()
    connection = Redis.from_url(env["REDIS_URL"])
    keep = b"ews:test-session"  # a test session's claim on this Redis database, when the smoke test runs us
    for key in connection.scan_iter():
        if key != keep:
            connection.delete(key)
    alert_id = new_alert(list(db.session.scalars(select(County.code))), "rainstorm", Level.YELLOW)
    accepted_before, throttled_before = peer.stats.accepted, peer.stats.throttled
    processes = start_workers(env, workers)
    try:
        published = publish_alert(alert_id)
        deadline = time.monotonic() + timeout
        samples = [(0.0, 0)]  # (seconds since publish, submit_sm the peer accepted)
        while True:
            time.sleep(0.5)
            samples.append((time.time() - published, peer.stats.accepted - accepted_before))
            sms = select(Delivery.id).where(Delivery.alert_id == alert_id, Delivery.channel == "sms")
            waiting = db.session.scalar(select(sms.where(Delivery.status.in_(UNSETTLED + (DeliveryStatus.SENT,)))
                                               .exists()))
            planned = db.session.scalar(select(Alert.state).where(Alert.id == alert_id)) == AlertState.PUBLISHED
            db.session.commit()
            if planned and not waiting:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"not every SMS was accepted and receipted in {timeout:.0f} s")
    finally:
        stop(*processes)

    def times(column, status: DeliveryStatus | None = None) -> list[float]:
        query = select(column).where(Delivery.alert_id == alert_id, Delivery.channel == "sms",
                                     column.is_not(None)).order_by(column)
        if status is not None:
            query = query.where(Delivery.status == status)
        return [value.timestamp() - published for value in db.session.scalars(query)]

    sent, delivered = times(Delivery.sent_at), times(Delivery.delivered_at, DeliveryStatus.DELIVERED)
    counts = dict(db.session.execute(select(Delivery.status, func.count()).where(
        Delivery.alert_id == alert_id, Delivery.channel == "sms").group_by(Delivery.status)).all())
    submits = peer.stats.accepted - accepted_before
    # From the last look that saw none accepted to the first that saw them all: the span is never short.
    started = max(t for t, count in samples if count == 0)
    finished = min((t for t, count in samples if count == submits), default=samples[-1][0])
    span = max(finished - started, 0.5)
    return {
        "recipients": len(sent),
        "statuses": {status.value: count for status, count in counts.items()},
        "submit_sm_accepted": submits,
        "submit_sm_per_second": round(submits / span),
        "recipients_per_second": round(len(sent) / sent[-1]),
        "s_publish_to_50pct_accepted": round(at(sent, 0.5), 2),
        "s_publish_to_95pct_accepted": round(at(sent, 0.95), 2),
        "s_publish_to_last_accepted": round(sent[-1], 2),
        "s_publish_to_95pct_delivered": round(at(delivered, 0.95), 2) if delivered else None,
        "s_publish_to_last_delivered": round(delivered[-1], 2) if delivered else None,
        "throttled_answers": peer.stats.throttled - throttled_before,
    }


def at(times: list[float], fraction: float) -> float:
    return times[max(0, int(len(times) * fraction + 0.999999) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=2000, help="submit_sm a second the peer allows")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds before the peer answers a submit_sm")
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds from answer to receipt")
    parser.add_argument("--binds", type=int, default=2, help="SMPP_BINDS per worker")
    parser.add_argument("--window", type=int, default=50, help="SMPP_WINDOW per bind")
    parser.add_argument("--max-tps", type=float, default=10_000, help="SMPP_MAX_TPS, the shared bucket")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a run may take")
    parser.add_argument("--database", help=f"default: {DATABASE}, {QUICK_DATABASE} with --quick")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--quick", action="store_true", help="smoke run: one run, 300 recipients")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.recipients, args.timeout = 1, min(args.recipients, 300), 120
    args.database = args.database or (QUICK_DATABASE if args.quick else DATABASE)

    env = environment(args.batch_size, 50_000, args.database, args.redis_url)
    prepare(args.recipients, env, args.database)
    peer = SmppPeer(system_id=SYSTEM_ID, password=PASSWORD, rate=args.rate, latency=args.latency,
                    receipt_delay=args.receipt_delay, window=args.window, receipt_window=1000, record=False)
    results = []
    with peer:
        host, port = peer.address
        env.update({"SMS_GATEWAY": "smpp", "SMPP_HOST": host, "SMPP_PORT": str(port), "SMPP_SYSTEM_ID": SYSTEM_ID,
                    "SMPP_PASSWORD": PASSWORD, "SMPP_SOURCE_ADDR": SOURCE, "SMPP_BINDS": str(args.binds),
                    "SMPP_WINDOW": str(args.window), "SMPP_MAX_TPS": str(args.max_tps)})
        os.environ.update(env)
        app = create_app()
        with app.app_context():
            recipients_total = db.session.scalar(select(func.count()).select_from(Recipient))
            for run in range(args.runs):
                result = one_run(env, peer, args.workers, args.timeout)
                print(json.dumps({"run": run + 1, **result}), flush=True)
                results.append(result)
    keys = ["recipients", "submit_sm_accepted", "submit_sm_per_second", "recipients_per_second",
            "s_publish_to_50pct_accepted", "s_publish_to_95pct_accepted", "s_publish_to_last_accepted",
            "s_publish_to_95pct_delivered", "s_publish_to_last_delivered", "throttled_answers"]
    rows = [[index + 1] + [r[key] for key in keys] for index, r in enumerate(results)]
    rows.append(["**median**"] + [statistics.median(r[key] or 0 for r in results) for key in keys])
    print(f"\nSMS over SMPP against peers/smpp_peer.py allowing {args.rate:g} submit_sm/s, {args.latency * 1000:g} ms "
          f"latency; {recipients_total:,} recipients, {args.workers} workers x {args.binds} binds x window "
          f"{args.window}, batch {args.batch_size}, SMPP_MAX_TPS {args.max_tps:g}")
    print(table(["run", "recipients", "submit_sm accepted", "submit_sm/s", "recipients/s", "-> 50% accepted s",
                 "-> 95% accepted s", "-> last accepted s", "-> 95% delivered s", "-> last delivered s",
                 "throttled answers"], rows))


if __name__ == "__main__":
    main()
