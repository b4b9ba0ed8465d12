"""Publish -> every operator accepted: a duty officer publishes a warning in the console and each
operator's Cell Broadcast Centre accepts its cell broadcast.

    .venv/bin/python bench/cell_broadcast.py --runs 3 --posts 20
    .venv/bin/python bench/cell_broadcast.py --quick

The service runs as bench/earthquake.py runs it (`gunicorn wsgi:app`, two `python worker.py`
workers, PostgreSQL, its quiet database), with cell broadcast through its real adapter
(CELL_BROADCAST_GATEWAY=cap) to the three demo operators' CBCs (cmcc, cucc, ctcc), each a
peers/cbc_peer.py run by this process on free ports, which checks the CAP against the schema and
the contract and calls the service back with signed status callbacks; the other channels use the
null gateway. The warnings take turns over `--areas`: a county code gets a yellow rainstorm warning
from the demo weather agency, any other code names a registered named area (a scenic area) and gets
an orange scenic-area crowding warning from the demo tourism agency, as JSON through the agency API;
neither agency publishes at once, so each warning waits for review. demo-officer signs in to the
console once (password, then a TOTP code); for each warning it opens the alert's page, then sends
its publish form (confirming Actual) as the browser does. A sample is the time from sending that
request to the last of the three CBCs answering 202 with its cbc_message_id; where that time went
is printed last (service.py, CBC_STAGES). Beside it, per sample: to the second CBC's 202 (half the
operators), and to the last CBC's "broadcasting" status callback taken by the service (every operator on
the air: the peers call back `callback_delay`, 0.2 s, after accepting). The next warning is posted once
the last one's deliveries are settled and the CBCs' callbacks made.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import pyotp
import requests
from earthquake import RECEIPT_TIMEOUT, SMALL_DATABASE, SMALL_RECIPIENTS, figures
from fanout import REDIS_URL, environment, prepare
from service import (
    CBC_STAGES,
    CbcPeers,
    agency_key,
    cbc_stages,
    clean_slate,
    percentile,
    post_cap,
    settled,
    stage_rows,
    start_gunicorn,
    start_workers,
    stop,
    table,
)
from sqlalchemy import select

from peers.ports import free_ports
from tests.support.console import CSRF
from warning_service.app import create_app
from warning_service.demo_data import DEMO_AGENCIES, DEMO_USERS, DEMO_WEATHER_AGENCY
from warning_service.extensions import db
from warning_service.models import AgencyKind, Alert, AlertState, CbcBroadcast

COUNTY = re.compile(r"\d{6}")
OFFICER = next(user for user in DEMO_USERS if user.username == "demo-officer")
TOURISM_AGENCY = next(agency for agency in DEMO_AGENCIES if agency.kind == AgencyKind.TOURISM)


def warning(area: str) -> tuple[str, dict]:
    """The agency that posts for `area` and the warning's JSON: a county's rainstorm, or a named area's crowding."""
    expires = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")
    if COUNTY.fullmatch(area):
        return DEMO_WEATHER_AGENCY.name, {"status": "Actual", "hazard": "rainstorm", "level": "yellow",
                                          "area": {"counties": [area]}, "expires": expires,
                                          "parameters": {"rain_mm": 60}}
    return TOURISM_AGENCY.name, {"status": "Actual", "hazard": "scenic_crowding", "level": "orange",
                                 "area": {"named_areas": [area]}, "expires": expires}


def csrf(browser: requests.Session, url: str) -> str:
    match = CSRF.search(browser.get(url).text)
    if match is None:
        raise SystemExit(f"no CSRF token on {url}")
    return match.group(1)


def sign_in(base: str) -> requests.Session:
    """demo-officer signed in to the console as a browser signs in: password, then a TOTP code."""
    browser = requests.Session()
    answer = browser.post(f"{base}/login", allow_redirects=False, data={
        "username": OFFICER.username, "password": OFFICER.password, "csrf_token": csrf(browser, f"{base}/login")})
    if answer.status_code == 302 and answer.headers["Location"].endswith("/login/code"):
        totp = pyotp.TOTP(OFFICER.totp_secret)
        # A code is taken once: when a run in the last 30 s spent this one, the next step's code is still valid.
        for moment in (time.time(), time.time() + 30):
            answer = browser.post(f"{base}/login/code", allow_redirects=False, data={
                "code": totp.at(moment), "csrf_token": csrf(browser, f"{base}/login/code")})
            if answer.status_code == 302:
                break
    if answer.status_code != 302:
        raise SystemExit(f"{OFFICER.username} could not sign in: {answer.status_code}")
    return browser


def publish_and_wait(api: http.client.HTTPConnection, browser: requests.Session, base: str, keys: dict[str, str],
                     area: str, cbcs: CbcPeers) -> tuple[float, float, dict[str, float], dict[str, float]]:
    """Post a warning for review, publish it from the console; ms to every CBC's acceptance, ms to the
    publish request's answer, the stages on the way to the CBCs, and ms to half the CBCs accepting and to
    every CBC on the air, once it is all settled."""
    agency, body = warning(area)
    status, answer = post_cap(api, keys[agency], json.dumps(body).encode(), "application/json")
    if status != 201:
        raise SystemExit(f"the agency's POST was answered {status}: {answer[:300]!r}")
    alert_id = json.loads(answer)["id"]
    page = f"{base}/alerts/{alert_id}"
    token = csrf(browser, page)  # the officer opens the warning, reads it, then publishes
    sent = time.time()
    published = browser.post(f"{page}/publish", data={"csrf_token": token, "confirm_status": "Actual"},
                             allow_redirects=False)
    answered = time.time()
    state = db.session.get(Alert, alert_id).state
    db.session.commit()
    if published.status_code != 303 or state not in (AlertState.PUBLISHING, AlertState.PUBLISHED):
        raise SystemExit(f"publishing alert {alert_id} was answered {published.status_code}; it is {state.value}")
    accepted = cbcs.all_accepted(alert_id, RECEIPT_TIMEOUT)
    if accepted is None:
        refusals = {cbc.operator: cbc.refusals()[-3:] for cbc in cbcs.peers}
        raise SystemExit(f"not every CBC accepted alert {alert_id} within {RECEIPT_TIMEOUT:g} s; refusals: {refusals}")
    while not (settled([alert_id]) and cbcs.called_back()):
        time.sleep(0.1)
    acceptances = cbcs.acceptances(alert_id)
    reach = {"half_accepted": (percentile(acceptances, 0.5) - sent) * 1000,
             "on_the_air": (on_the_air(alert_id, len(acceptances)) - sent) * 1000}
    return (accepted - sent) * 1000, (answered - sent) * 1000, cbc_stages(alert_id, sent, accepted), reach


def on_the_air(alert_id: int, operators: int) -> float:
    """When the service took the last of the alert's `operators` "broadcasting" callbacks (time.time())."""
    deadline = time.monotonic() + RECEIPT_TIMEOUT
    while True:
        moments = list(db.session.scalars(select(CbcBroadcast.broadcasting_at).where(
            CbcBroadcast.alert_id == alert_id, CbcBroadcast.broadcasting_at.is_not(None))))
        db.session.commit()
        if len(moments) >= operators:
            return max(moments).timestamp()
        if time.monotonic() > deadline:
            raise SystemExit(f"alert {alert_id}: {len(moments)} of {operators} CBCs on the air in {RECEIPT_TIMEOUT:g} s")
        time.sleep(0.05)


def one_run(env: dict[str, str], port: int, keys: dict[str, str], areas: list[str], cbcs: CbcPeers, posts: int,
            workers: int, gap: float) -> dict:
    clean_slate(env["REDIS_URL"])
    processes = start_workers(env, workers)
    base = f"http://127.0.0.1:{port}"
    samples: dict[str, list[float]] = {area: [] for area in areas}
    answers: list[float] = []
    in_order: list[float] = []  # every sample, in the order of `stages`
    stages: list[dict[str, float]] = []
    reaches: list[dict[str, float]] = []  # every sample's half accepted and on the air, in order
    try:
        api = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        browser = sign_in(base)
        cold = publish_and_wait(api, browser, base, keys, areas[0], cbcs)[0]  # fresh workers: not counted
        for index in range(posts):
            area = areas[index % len(areas)]
            to_operators, answered, stages_taken, reach = publish_and_wait(api, browser, base, keys, area, cbcs)
            reaches.append(reach)
            samples[area].append(to_operators)
            in_order.append(to_operators)
            answers.append(answered)
            stages.append(stages_taken)
            time.sleep(gap)
    finally:
        stop(*processes)
    return {
        "samples": sum(map(len, samples.values())),
        "areas": {area: {"samples": len(taken), **figures(taken)} for area, taken in samples.items()},
        **figures([sample for taken in samples.values() for sample in taken]),
        "publish_answer_p50_ms": round(statistics.median(answers), 1),
        "cold_first_publish_ms": round(cold, 1),
        "all_ms": {area: [round(sample, 1) for sample in taken] for area, taken in samples.items()},
        "cbc_samples_ms": [round(sample, 1) for sample in in_order],
        "cbc_stages": stages,
        "half_accepted": figures([reach["half_accepted"] for reach in reaches]),
        "on_the_air": figures([reach["on_the_air"] for reach in reaches]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--posts", type=int, default=20, help="warnings published per run, the areas taking turns")
    parser.add_argument("--areas", default="hailuogou,513301",
                        help="comma-separated: county codes and named areas' codes (`flask areas list`)")
    parser.add_argument("--recipients", type=int, default=SMALL_RECIPIENTS)
    parser.add_argument("--database", default=SMALL_DATABASE, help="bench/earthquake.py's quiet database")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between one warning settled and the next")
    parser.add_argument("--quick", action="store_true", help="smoke run: one run, 4 warnings, 500 recipients")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.posts, args.gap, args.recipients = 1, 4, 0.1, 500
    areas = args.areas.split(",")

    env = environment(1000, 50_000, args.database, args.redis_url)
    env.update({"CELL_BROADCAST_GATEWAY": "cap", "RECONCILE_INTERVAL_SECONDS": "3600"})
    prepare(args.recipients, env, args.database)
    os.environ.update(env)
    app = create_app()
    results = []
    with app.app_context():
        keys = {name: agency_key(name)[0] for name in (DEMO_WEATHER_AGENCY.name, TOURISM_AGENCY.name)}
        port = free_ports(1)
        with CbcPeers(db.session, f"http://127.0.0.1:{port}") as cbcs:
            server = start_gunicorn(env, args.gunicorn_workers, port)
            try:
                for run in range(args.runs):
                    result = one_run(env, port, keys, areas, cbcs, args.posts, args.workers, args.gap)
                    print(json.dumps({"run": run + 1, **result}), flush=True)
                    results.append(result)
            finally:
                stop(server)
    rows = []
    for area in areas:
        runs = [result["areas"][area] for result in results]
        rows += [[area, index + 1, r["samples"], r["p50_ms"], r["p99_ms"], r["max_ms"]] for index, r in enumerate(runs)]
        rows.append([area, "**median**", "", *(statistics.median(r[name] for r in runs)
                                                 for name in ("p50_ms", "p99_ms", "max_ms"))])
        pooled = figures([sample for result in results for sample in result["all_ms"][area]])
        rows.append([area, "**all runs pooled**", sum(r["samples"] for r in runs),
                     pooled["p50_ms"], pooled["p99_ms"], pooled["max_ms"]])
    print(f"\nconsole publish -> every operator's CBC ({', '.join(cbc.operator for cbc in cbcs.peers)}) accepted "
          f"the CAP, quiet, {args.workers} workers, gunicorn -w {args.gunicorn_workers}; publish request answered, "
          f"median p50: {statistics.median(r['publish_answer_p50_ms'] for r in results)} ms")
    print(table(["area", "run", "samples", "p50 ms", "p99 ms", "max ms"], rows))
    print("\npublish -> half the operators' CBCs accepted, every one accepted, every one on the air (ms)")
    reach_rows = [[index + 1, r["half_accepted"]["p50_ms"], r["half_accepted"]["p99_ms"], r["p50_ms"], r["p99_ms"],
                   r["on_the_air"]["p50_ms"], r["on_the_air"]["p99_ms"]] for index, r in enumerate(results)]
    reach_rows.append(["**median**", *(statistics.median(row[column] for row in reach_rows) for column in range(1, 7))])
    print(table(["run", "half accepted p50", "p99", "every one accepted p50", "p99", "every one on the air p50", "p99"],
                reach_rows))
    after_publish = CBC_STAGES[1:]  # the alert was stored before the officer published it
    print("\nwhere the time to the CBCs went, ms after the publish request")
    print(table(["", *after_publish], stage_rows([sample for r in results for sample in r["cbc_samples_ms"]],
                                                 [stages for r in results for stages in r["cbc_stages"]], after_publish)))


if __name__ == "__main__":
    main()
