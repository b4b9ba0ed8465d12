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
applied through the workers' receipts threads); throttled answers; the load average (the machine
may be shared) as the run began and ended. Prints one JSON line per run and a Markdown table with the
medians. Its own database (ews_bench_smpp) and Redis database. The run loop is sms_reach.py's.
"""
from __future__ import annotations

import os

import sms_reach
from sqlalchemy import func, select

from peers.smpp_peer import SmppPeer
from warning_service.app import create_app
from warning_service.extensions import db
from warning_service.models import Recipient

DATABASES = ("ews_bench_smpp", "ews_bench_smpp_quick")
REDIS_URL = "redis://127.0.0.1:6379/12"
SYSTEM_ID, PASSWORD, SOURCE = "ews-bench", "bench", "12379"


def one_run(env: dict[str, str], peer: SmppPeer, workers: int, timeout: float) -> dict:
    run = sms_reach.run_alert(env, workers, timeout, lambda: (peer.stats.accepted, peer.stats.throttled))
    return {**run.reach(), "submit_sm_accepted": run.total(0), "submit_sm_per_second": run.rate(0),
            "throttled_answers": run.total(1)}


def main() -> None:
    parser = sms_reach.arguments(__doc__, rate=2000, rate_help="submit_sm a second the peer allows", latency=0.02,
                                 latency_help="seconds before the peer answers a submit_sm", timeout=900,
                                 databases=DATABASES, redis_url=REDIS_URL)
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds from answer to receipt")
    parser.add_argument("--binds", type=int, default=2, help="SMPP_BINDS per worker")
    parser.add_argument("--window", type=int, default=50, help="SMPP_WINDOW per bind")
    parser.add_argument("--max-tps", type=float, default=10_000, help="SMPP_MAX_TPS, the shared bucket")
    args = parser.parse_args()
    env = sms_reach.prepared(args, DATABASES)
    peer = SmppPeer(system_id=SYSTEM_ID, password=PASSWORD, rate=args.rate, latency=args.latency,
                    receipt_delay=args.receipt_delay, window=args.window, receipt_window=1000, record=False)
    with peer:
        host, port = peer.address
        env.update({"SMS_GATEWAY": "smpp", "SMPP_HOST": host, "SMPP_PORT": str(port), "SMPP_SYSTEM_ID": SYSTEM_ID,
                    "SMPP_PASSWORD": PASSWORD, "SMPP_SOURCE_ADDR": SOURCE, "SMPP_BINDS": str(args.binds),
                    "SMPP_WINDOW": str(args.window), "SMPP_MAX_TPS": str(args.max_tps)})
        os.environ.update(env)
        with create_app().app_context(), sms_reach.field_peers(env, args) as field_channels:
            recipients_total = db.session.scalar(select(func.count()).select_from(Recipient))
            results = sms_reach.run_all(args.runs, lambda: one_run(env, peer, args.workers, args.timeout))
    keys = ["recipients", "submit_sm_accepted", "submit_sm_per_second", *sms_reach.REACH_KEYS[1:], "throttled_answers",
            *sms_reach.LOAD_KEYS]
    print(f"\nSMS over SMPP against peers/smpp_peer.py allowing {args.rate:g} submit_sm/s, {args.latency * 1000:g} ms "
          f"latency; {recipients_total:,} recipients, {args.workers} workers x {args.binds} binds x window "
          f"{args.window}, batch {args.batch_size}, SMPP_MAX_TPS {args.max_tps:g}")
    headers = ["recipients", "submit_sm accepted", "submit_sm/s", "recipients/s", "-> 50% accepted s",
               "-> 95% accepted s", "-> last accepted s", "-> 95% delivered s", "-> last delivered s",
               "throttled answers", "load before", "load after"]
    print(sms_reach.medians_table(headers, keys, results))
    if field_channels:
        print(sms_reach.field_peers_summary(field_channels, results))


if __name__ == "__main__":
    main()
