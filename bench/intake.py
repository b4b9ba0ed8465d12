"""Agency intake benchmark: CAP 1.2 posts per second and latency through gunicorn, on PostgreSQL.

    .venv/bin/python bench/intake.py --runs 3                    # 2, 8 and 32 clients, 10 s each, 3 runs
    .venv/bin/python bench/intake.py --quick                     # a smoke run of a second or two

`gunicorn wsgi:app` serves on loopback with the real Redis and a PostgreSQL database of the
benchmark's own (ews_bench_intake: regions and demo agencies; it keeps the alerts). Each
client is a thread with its own agency API key (issued by security/api_keys.py, as the
admin page issues them) of the demo weather service, posting distinct valid CAP 1.2 XML
yellow rainstorm warnings as fast as it gets answers. A weather warning waits for a duty
officer's review, so no fan-out runs: this is intake alone (parse, schema and region
rules, authorisation, the alert and its counties, its ledger entry, the commit). Latency is the
client's, from sending the request to reading the whole answer; the CPU time the gunicorn
workers and their PostgreSQL connections used is divided by the alerts taken in. Prints one
JSON line per measurement and a Markdown table of the medians over the runs.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time

from fanout import REDIS_URL, environment, prepare
from service import (
    agency_key,
    children,
    cpu_seconds,
    median,
    percentile,
    post_cap,
    rainstorm_cap,
    start_gunicorn,
    stop,
    table,
)
from sqlalchemy import text

from peers.ports import free_ports
from warning_service.app import create_app
from warning_service.demo_data import DEMO_AGENCIES
from warning_service.extensions import db

DATABASE = "ews_bench_intake"
WEATHER_AGENCY = next(agency.name for agency in DEMO_AGENCIES if agency.kind.value == "weather")


def database_backends() -> list[int]:
    """The PostgreSQL server processes of the web workers' connections (all but ours)."""
    pids = list(db.session.scalars(text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'")))
    db.session.commit()
    return pids


def measure(port: int, keys: list[tuple[str, str]], seconds: float, server_pid: int) -> dict:
    """`load`, with the CPU time the web workers and their database connections spent per alert."""
    web, backends = children(server_pid), database_backends()
    before = cpu_seconds(web), cpu_seconds(backends)
    result = load(port, keys, seconds)
    after = cpu_seconds(web), cpu_seconds(backends)
    alerts = max(result["alerts"], 1)
    result["web_cpu_ms_per_alert"] = round((after[0] - before[0]) * 1000 / alerts, 2)
    result["postgres_cpu_ms_per_alert"] = round((after[1] - before[1]) * 1000 / alerts, 2)
    return result


def load(port: int, keys: list[tuple[str, str]], seconds: float) -> dict:
    """One client per key, posting for `seconds`; latencies in ms of the 201 answers, and the failures."""
    latencies: list[list[float]] = [[] for _ in keys]
    failures: list[str] = []
    start = threading.Barrier(len(keys) + 1)

    def client(index: int) -> None:
        key, sender = keys[index]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            body = rainstorm_cap(sender)
            began = time.perf_counter()
            try:
                status, answer = post_cap(connection, key, body)
            except (OSError, http.client.HTTPException) as error:
                failures.append(f"{type(error).__name__}: {error}")
                connection.close()
                continue
            elapsed = time.perf_counter() - began
            if status == 201:
                latencies[index].append(elapsed * 1000)
            else:
                failures.append(f"{status}: {answer[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(len(keys))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    flat = [value for values in latencies for value in values]
    return {
        "clients": len(keys),
        "alerts": len(flat),
        "alerts_per_second": round(len(flat) / elapsed, 1),
        "p50_ms": round(percentile(flat, 0.50), 1) if flat else None,
        "p99_ms": round(percentile(flat, 0.99), 1) if flat else None,
        "max_ms": round(max(flat), 1) if flat else None,
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="2,8,32", help="comma-separated numbers of concurrent clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each measurement posts")
    parser.add_argument("--warm-up", type=float, default=3.0, help="seconds of posting before the first measurement")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--database", default=DATABASE,
                        help="a database of its own: the benchmark counts the CPU time of every connection to it")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 clients, 1 s, one run")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.seconds, args.warm_up, args.runs, args.gunicorn_workers = "2", 1.0, 0.5, 1, 2
    client_counts = [int(count) for count in args.clients.split(",")]

    env = environment(1000, 50_000, args.database, args.redis_url)
    prepare(0, env, args.database)  # regions and demo agencies; recipients play no part in intake
    os.environ.update(env)
    app = create_app()
    results: dict[int, list[dict]] = {count: [] for count in client_counts}
    with app.app_context():
        keys = [agency_key(WEATHER_AGENCY) for _ in range(max(client_counts))]
        port = free_ports(1)
        server = start_gunicorn(env, args.gunicorn_workers, port)
        try:
            load(port, keys[:max(client_counts)], args.warm_up)  # every gunicorn worker has served
            for run in range(args.runs):
                for count in client_counts:
                    result = measure(port, keys[:count], args.seconds, server.pid)
                    print(json.dumps({"run": run + 1, **result}, ensure_ascii=False), flush=True)
                    results[count].append(result)
        finally:
            stop(server)

    rows = []
    for count, runs in results.items():
        rows.append([count, len(runs), round(median([r["alerts_per_second"] for r in runs])),
                     median([r["p50_ms"] for r in runs]), median([r["p99_ms"] for r in runs]),
                     median([r["web_cpu_ms_per_alert"] for r in runs]),
                     median([r["postgres_cpu_ms_per_alert"] for r in runs]), sum(r["failures"] for r in runs)])
    print(f"\nagency intake, gunicorn -w {args.gunicorn_workers}, {args.seconds:g} s per measurement, "
          f"medians of {args.runs} run(s)")
    print(table(["clients", "runs", "alerts/s", "p50 ms", "p99 ms", "web CPU ms/alert", "PostgreSQL CPU ms/alert",
                 "failures"], rows))
    if any(r["failures"] for runs in results.values() for r in runs):
        sys.exit(1)


if __name__ == "__main__":
    main()
