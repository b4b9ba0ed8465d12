"""The fan-out benchmark of bench/fanout.py end to end: real adapters against their gateway peers.

    .venv/bin/python bench/fanout_peers.py --runs 3 --counties 513338            # Dêrong, 23,762 deliveries
    .venv/bin/python bench/fanout_peers.py --quick

Same database (ews_bench, 1.78 M recipients), same measurement and same workers
(`python worker.py`) as bench/fanout.py, but with the adapters the service runs in the field:
SMS through the Twilio adapter (the official client, one HTTPS-less create per text) to the
Twilio peer, EBMs through the broadcast adapter to the county platforms, BeiDou sentences
through the serial adapter to the terminal peer. The peers are those of peers/
(`python -m peers`, as `flask demo serve` runs them), and `gunicorn wsgi:app` takes the Twilio peer's
signed status callbacks, as it would Twilio's. Times are publish -> first and last `sent_at`
(the gateway accepted the message), as in bench/fanout.py. No critical alert mid-run: at
real-adapter speed its 190 k SMS would take the run over (bench/earthquake.py measures that path).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

from fanout import DATABASE, QUICK_DATABASE, REDIS_URL, environment, one_run, prepare
from service import ROOT, start_gunicorn, stop, table
from sqlalchemy import func, select

from peers.ports import free_ports
from warning_service.app import create_app
from warning_service.cli.demo import gateway_peers
from warning_service.demo_data import point_demo_endpoints
from warning_service.extensions import db
from warning_service.models import Recipient

CARD_INTERVAL = 0.2  # seconds; a real card's is 30-60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=1_780_000)
    parser.add_argument("--counties", default="513338", help="comma-separated county codes the alert covers, or 'all'")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--sms-rate", type=float, default=10_000,
                        help="TWILIO_MAX_MPS (segments/s); high, so our side is measured, not an account's limit")
    parser.add_argument("--peers-port", type=int, help="first of three ports: broadcast, Twilio, BeiDou (default: free ones)")
    parser.add_argument("--database", help=f"default: {DATABASE} (bench/fanout.py's), {QUICK_DATABASE} with --quick")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--quick", action="store_true", help="smoke run: one run, a small database")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.recipients = 1, min(args.recipients, 500)
    args.database = args.database or (QUICK_DATABASE if args.quick else DATABASE)

    web_port = free_ports(1)
    args.peers_port = args.peers_port or free_ports(3)
    config, settings = gateway_peers(args.peers_port, f"http://127.0.0.1:{web_port}")
    config["beidou"]["interval"] = CARD_INTERVAL
    env = {**environment(args.batch_size, 50_000, args.database, args.redis_url), **settings,
           "TWILIO_MAX_MPS": str(args.sms_rate)}
    prepare(args.recipients, env, args.database)
    os.environ.update(env)
    app = create_app()
    results = []
    with app.app_context():
        config["broadcast_secrets"] = point_demo_endpoints(db.session, f"http://127.0.0.1:{args.peers_port}/ebm")
        db.session.commit()
        recipients_total = db.session.scalar(select(func.count()).select_from(Recipient))
        peers = subprocess.Popen([sys.executable, "-m", "peers"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, start_new_session=True)
        peers.stdin.write(json.dumps(config).encode())
        peers.stdin.close()
        server = start_gunicorn(env, args.gunicorn_workers, web_port)
        try:
            counties = None if args.counties == "all" else args.counties.split(",")
            for run in range(args.runs):
                result = one_run(env, args.workers, recipients_total, None, counties)
                print(json.dumps({"run": run + 1, **result}), flush=True)
                results.append(result)
        finally:
            stop(server, peers)
    keys = ["deliveries", "seconds_publish_to_last_settled", "deliveries_per_second", "ms_publish_to_first_send",
            "worker_peak_rss_mib"]
    rows = [[index + 1] + [r[key] for key in keys] for index, r in enumerate(results)]
    rows.append(["**median**"] + [statistics.median(r[key] for r in results) for key in keys])
    print(f"\nfan-out with the real adapters against peers/, counties {args.counties}, "
          f"{recipients_total:,} recipients in the database, {args.workers} workers, batch {args.batch_size}")
    print(table(["run", "deliveries", "publish -> last settled s", "deliveries/s", "publish -> first send ms",
                 "worker peak RSS MiB"], rows))


if __name__ == "__main__":
    main()
