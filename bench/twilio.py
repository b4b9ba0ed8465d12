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

import os
import time
from pathlib import Path

import sms_reach

# fanout imports service, which puts this directory after the installed packages: this script is twilio.py.
from fanout import new_alert
from service import ROOT, children, cpu_seconds, start_gunicorn, stop
from sqlalchemy import func, insert, select, text

from peers.ports import free_ports
from peers.twilio_peer import TwilioPeer
from warning_service.app import create_app
from warning_service.channels.sms.twilio import STATUS_CALLBACK_PATH
from warning_service.extensions import db
from warning_service.models import Delivery, DeliveryStatus, Level, Recipient, utcnow

DATABASES = ("ews_bench_twilio", "ews_bench_twilio_quick")
REDIS_URL = "redis://127.0.0.1:6379/11"


def one_run(env: dict[str, str], peer: TwilioPeer, workers: int, timeout: float) -> dict:
    stats = peer.stats
    stats.peak_in_flight = 0
    run = sms_reach.run_alert(env, workers, timeout, lambda: (stats.created, stats.throttled, stats.callbacks_ok))
    return {**run.reach(), "creates_accepted": run.total(0), "creates_per_second": run.rate(0),
            "callbacks_answered": run.total(2), "callbacks_per_second": run.rate(2),
            "throttled_answers": run.total(1), "peak_creates_in_flight": stats.peak_in_flight}


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


def main() -> None:
    parser = sms_reach.arguments(__doc__, rate=500, rate_help="Messages creates a second the peer allows",
                                 latency=0.15, latency_help="seconds before the peer answers", timeout=3600,
                                 databases=DATABASES, redis_url=REDIS_URL)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--callback-delay", type=float, default=1.0, help="seconds from create to 'sent', and to 'delivered'")
    parser.add_argument("--callback-workers", type=int, default=8, help="the peer's threads posting callbacks")
    parser.add_argument("--in-flight", type=int, default=50, help="TWILIO_MAX_IN_FLIGHT per worker")
    parser.add_argument("--max-mps", type=float, default=10_000, help="TWILIO_MAX_MPS, the shared bucket (segments)")
    parser.add_argument("--web-tier", action="store_true", help="the status callbacks alone (no fan-out)")
    parser.add_argument("--texts", type=int, default=10_000, help="with --web-tier: texts whose two callbacks are posted")
    parser.add_argument("--app-root", default=str(ROOT), help="with --web-tier: the checkout gunicorn serves")
    args = parser.parse_args()
    if args.quick:
        args.texts = min(args.texts, 300)
    env = sms_reach.prepared(args, DATABASES)

    web_port = free_ports(1)
    peer = TwilioPeer(rate=args.rate, latency=args.latency, callback_delay=0 if args.web_tier else args.callback_delay,
                      callback_workers=args.callback_workers, record=False)
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
            with app.app_context(), sms_reach.field_peers(env, args) as field_channels:
                recipients_total = db.session.scalar(select(func.count()).select_from(Recipient))
                if args.web_tier:
                    results = sms_reach.run_all(args.runs, lambda: web_tier_run(
                        peer, server, public + STATUS_CALLBACK_PATH, args.texts, args.timeout))
                else:
                    results = sms_reach.run_all(args.runs, lambda: one_run(env, peer, args.workers, args.timeout))
        finally:
            stop(server)
    if args.web_tier:
        print(f"\nTwilio status callbacks into gunicorn x {args.gunicorn_workers} ({args.app_root}) from "
              f"{args.callback_workers} peer threads: {args.texts:,} texts, sent then delivered")
        headers = ["callbacks", "answered 2xx", "deliveries moved", "callbacks/s", "web CPU ms/callback",
                   "load before", "load after"]
        keys = ["callbacks", "answered_2xx", "delivered", "callbacks_per_second", "web_cpu_ms_per_callback",
                *sms_reach.LOAD_KEYS]
        print(sms_reach.medians_table(headers, keys, results))
        return
    keys = ["recipients", "creates_accepted", "creates_per_second", *sms_reach.REACH_KEYS[1:], "callbacks_per_second",
            "throttled_answers", "peak_creates_in_flight", *sms_reach.LOAD_KEYS]
    print(f"\nSMS over Twilio against peers/twilio_peer.py allowing {args.rate:g} creates/s, {args.latency * 1000:g} ms "
          f"latency; {recipients_total:,} recipients, {args.workers} workers x {args.in_flight} in flight, batch "
          f"{args.batch_size}, TWILIO_MAX_MPS {args.max_mps:g}; callbacks to gunicorn x {args.gunicorn_workers}")
    headers = ["recipients", "creates accepted", "creates/s", "recipients/s", "-> 50% accepted s", "-> 95% accepted s",
               "-> last accepted s", "-> 95% delivered s", "-> last delivered s", "callbacks/s", "429 answers",
               "peak in flight", "load before", "load after"]
    print(sms_reach.medians_table(headers, keys, results))
    if field_channels:
        print(sms_reach.field_peers_summary(field_channels, results))


if __name__ == "__main__":
    main()
