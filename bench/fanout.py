"""Fan-out benchmark: one alert to every recipient of the region, on PostgreSQL, null gateway.

    .venv/bin/python bench/fanout.py --recipients 1780000 --workers 2 --runs 3
    .venv/bin/python bench/fanout.py --runs 3 --counties 513338 --no-critical                 # one county, for the ratio
    .venv/bin/python bench/fanout.py --runs 3 --counties 513338 --no-critical --batch-size 1  # the naive design, same county

    .venv/bin/python bench/fanout.py --quick                                                   # a smoke run

Measures, per run: publish -> first delivery handed to the gateway; publish -> last
delivery settled (deliveries/s); a critical alert published in the middle of the
run -> its first delivery; the workers' peak resident memory. Prints one JSON line
per run and the medians. Uses its own database (ews_bench) and Redis database 14 (--redis-url).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service import clean_slate, start_workers, stop  # noqa: E402

from warning_service.app import create_app  # noqa: E402
from warning_service.dispatch.publish import publish  # noqa: E402
from warning_service.dispatch.queueing import enqueue_plan  # noqa: E402
from warning_service.extensions import db, redis_client  # noqa: E402
from warning_service.models import (  # noqa: E402
    Alert,
    AlertState,
    CapStatus,
    County,
    Delivery,
    DeliveryStatus,
    Level,
    MsgType,
    Recipient,
    utcnow,
)

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE = "ews_bench"
QUICK_DATABASE = "ews_bench_quick"  # a few hundred recipients, for --quick
REDIS_URL = "redis://127.0.0.1:6379/14"


def environment(batch_size: int, chunk_size: int, database: str = DATABASE,
                redis_url: str = REDIS_URL) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": redis_url,
        "SMS_GATEWAY": "null", "BROADCAST_GATEWAY": "null", "BEIDOU_GATEWAY": "null",
        "FANOUT_BATCH_SIZE": str(batch_size),
        "FANOUT_CHUNK_SIZE": str(chunk_size),
        "RECONCILE_INTERVAL_SECONDS": "3600",
    }


def prepare(recipients: int, env: dict[str, str], database: str = DATABASE) -> None:
    """A database with the regions and `recipients` demo recipients (kept between runs of the same size)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["seed", "regions"], ["seed", "demo", "--recipients", str(recipients)]):
        subprocess.run(flask + command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    # What autovacuum does after a bulk load in service; the benchmark's server runs with it off, and the plan's
    # chunks need the recipients' statistics (migration 0012e).
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("ANALYZE recipients")


def new_alert(counties: list[str], hazard: str, level: Level | None) -> int:
    alert = Alert(
        identifier=f"BENCH-{time.time_ns()}", sender="bench@ews.example", sent=utcnow(), status=CapStatus.ACTUAL,
        msg_type=MsgType.ALERT, hazard_code=hazard, level=level, expires=utcnow() + timedelta(hours=1),
        headline={"zh": "基准测试", "bo": "ཉེན་བརྡ"}, original=b"{}", original_format="json",
        state=AlertState.PENDING_REVIEW,
    )
    alert.counties = [db.session.get(County, code) for code in counties]
    db.session.add(alert)
    db.session.commit()
    return alert.id


def publish_alert(alert_id: int) -> float:
    """Publish as the console does: commit, then queue the plan. Returns the wall-clock publish time."""
    alert = db.session.get(Alert, alert_id)
    publish(db.session, alert, actor=None)
    db.session.commit()
    published = time.time()
    enqueue_plan(redis_client(), alert)
    return published


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def one_run(env: dict[str, str], workers: int, recipients_total: int, critical_after: float | None,
            only_counties: list[str] | None) -> dict:
    """One fan-out; with `critical_after` set, a critical alert is published that many seconds into it."""
    clean_slate(env["REDIS_URL"])
    counties = only_counties or list(db.session.scalars(select(County.code)))
    big = new_alert(counties, "rainstorm", Level.YELLOW)          # default queue
    critical = new_alert(["513322", "513301"], "earthquake_early_warning", None) if critical_after is not None else None
    alerts = [big] + ([critical] if critical else [])

    processes = start_workers(env, workers)  # up and waiting, as in service
    peak_rss = 0
    try:
        published = publish_alert(big)
        critical_published = None
        while True:
            peak_rss = max(peak_rss, *(rss_kib(p.pid) for p in processes))
            if critical and critical_published is None and time.time() - published >= critical_after:
                critical_published = publish_alert(critical)
            # EXISTS, not COUNT: the watcher must not load the database it measures.
            unsettled = db.session.scalar(select(
                select(Delivery.id).where(Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
                .exists()))
            planned = set(db.session.scalars(select(Alert.state).where(Alert.id.in_(alerts)))) == {AlertState.PUBLISHED}
            db.session.commit()
            if planned and not unsettled:
                break
            time.sleep(0.5)
    finally:
        stop(*processes)  # a worker still in a job's warm shutdown is killed after a while

    def times(alert_id: int) -> tuple[float, float, int]:
        first, last, count = db.session.execute(
            select(func.min(Delivery.sent_at), func.max(Delivery.sent_at), func.count()).where(Delivery.alert_id == alert_id)
        ).one()
        return first.timestamp(), last.timestamp(), count

    first, last, delivered = times(big)
    result = {
        "deliveries": delivered,
        "seconds_publish_to_last_settled": round(last - published, 2),
        "deliveries_per_second": round(delivered / (last - published)),
        "ms_publish_to_first_send": round((first - published) * 1000, 1),
        "worker_peak_rss_mib": round(peak_rss / 1024, 1),
        "recipients_in_database": recipients_total,
    }
    if critical:
        critical_first, _, critical_count = times(critical)
        result["ms_critical_publish_to_first_send"] = round((critical_first - critical_published) * 1000, 1)
        result["critical_deliveries"] = critical_count
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=1_780_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1000, help="deliveries per RQ job (1 = the naive design)")
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--critical-after", type=float, default=5.0, help="seconds into the run")
    parser.add_argument("--no-critical", action="store_true", help="no critical alert during the run")
    parser.add_argument("--counties", help="comma-separated county codes the big alert covers (default: all 31)")
    parser.add_argument("--database", help=f"default: {DATABASE}, {QUICK_DATABASE} with --quick")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--quick", action="store_true", help="smoke run: one run, 500 recipients, critical after 0.3 s")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.recipients, args.critical_after = 1, min(args.recipients, 500), 0.3
    database = args.database or (QUICK_DATABASE if args.quick else DATABASE)

    env = environment(args.batch_size, args.chunk_size, database, args.redis_url)
    prepare(args.recipients, env, database)
    os.environ.update(env)
    app = create_app()
    results = []
    with app.app_context():
        recipients_total = db.session.scalar(select(func.count()).select_from(Recipient))
        for run in range(args.runs):
            result = one_run(env, args.workers, recipients_total, None if args.no_critical else args.critical_after,
                             args.counties.split(",") if args.counties else None)
            print(json.dumps({"run": run + 1, **result}), flush=True)
            results.append(result)
    medians = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print(json.dumps({"median_of": len(results), "batch_size": args.batch_size, "workers": args.workers, **medians}))


if __name__ == "__main__":
    main()
