"""The quick start's `flask demo serve`, end to end: an alert for three counties through the real adapters.

Runs what `make run` runs (migrations, seed, `demo serve`) in subprocesses on an
SQLite file, the embedded default, with the gateway peers of peers/ playing
Twilio, the county broadcast platforms, a BeiDou terminal and the three operators'
Cell Broadcast Centres on loopback. The
alert is posted through the API with the demo key the banner prints; the
delivery log in the database and the peers' own lines show where it went.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from peers.ports import free_ports
from warning_service.cli.demo import DEMO_CARD, DEMO_CARD_INTERVAL, PEER_PORTS

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
COUNTIES = ("513301", "513322", "513324")  # Kangding, Luding, Danba
SETTLED = ("sent", "delivered", "undelivered", "failed", "cancelled")
PATIENCE = 90.0


class Output:
    """Collects a process's lines as they come, so its pipe never fills."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, predicate, what: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if predicate(line):
                    return line
            time.sleep(0.1)
        pytest.fail(f"no {what} in the demo's output:\n" + "\n".join(self.lines[-40:]))


def wait_until(check, what: str, timeout: float = PATIENCE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def http(url: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


@pytest.fixture
def demo(tmp_path, redis_url):
    """A running `flask demo serve` on a fresh SQLite demo database: (base URL, API key, output, engine)."""
    Redis.from_url(redis_url).flushdb()  # keeps nothing from earlier tests for the demo's worker
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "SECRET_KEY": "demo-e2e"}
    for command in (["db", "upgrade"], ["seed", "regions"], ["seed", "demo", "--recipients", "150"]):
        subprocess.run(FLASK + command, env=env, cwd=ROOT, check=True, capture_output=True)
    web_port, peers_port = free_ports(1), free_ports(PEER_PORTS)
    serve = subprocess.Popen(FLASK + ["demo", "serve", "--port", str(web_port), "--peers-port", str(peers_port)],
                             env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
    output = Output(serve.stdout)
    engine = create_engine(database)
    try:
        output.wait_for(lambda line: line.startswith("Starting "), "the servers starting")
        key = output.wait_for(lambda line: line.strip().startswith("SEISMIC_KEY="), "seismic API key").split("=", 1)[1]
        base_url = f"http://127.0.0.1:{web_port}"
        wait_until(lambda: http(f"{base_url}/healthz")[0] == 200, "the web server", 30)
        output.wait_for(lambda line: line.startswith("gateway peers:"), "gateway peers")
        yield base_url, key.strip(), output, engine
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)
        engine.dispose()


def deliveries(engine, alert_id: int) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT d.id, d.channel, d.county_code, d.status, d.gateway_id, d.gateway_code, d.sent_at,"
            " (SELECT group_concat(a.outcome) FROM delivery_attempts a WHERE a.delivery_id = d.id) AS outcomes"
            " FROM deliveries d WHERE d.alert_id = :alert ORDER BY d.sent_at"), {"alert": alert_id})
        return [dict(row._mapping) for row in rows]


def test_an_alert_for_three_counties_goes_out_on_every_real_channel(demo):
    base_url, key, output, engine = demo
    status, created = http(f"{base_url}/api/v1/alerts", key=key, body={
        "status": "Actual", "hazard": "earthquake", "area": {"counties": list(COUNTIES)},
        "headline": {"zh": "康定市、泸定县、丹巴县地震 (demo)"}, "description": {"zh": "演示：5.2级地震。"},
        "instruction": {"zh": "远离危险建筑。"},
    })
    assert status == 201, created
    alert_id = created["id"]

    def finished() -> list[dict] | None:
        rows = deliveries(engine, alert_id)
        sms = [row for row in rows if row["channel"] == "sms"]
        cbc = [row for row in rows if row["channel"] == "cell_broadcast"]
        done = rows and all(row["status"] in SETTLED for row in rows)
        delivered = all(row["status"] == "delivered" for row in sms + cbc)
        return rows if done and sms and cbc and delivered else None

    rows = wait_until(finished, "every delivery settled, every SMS and cell broadcast delivered")
    by_channel = {channel: [row for row in rows if row["channel"] == channel]
                  for channel in ("sms", "broadcast", "beidou", "cell_broadcast")}

    # Cell broadcast: one CAP message to each operator's CBC, taken, then on the air through signed callbacks.
    assert len(by_channel["cell_broadcast"]) == 3
    for row, code in zip(sorted(by_channel["cell_broadcast"], key=lambda row: row["gateway_id"]),
                         ("cmcc", "ctcc", "cucc")):
        assert row["gateway_id"].startswith(f"{code}-")
        assert any(line.startswith(f"cbc {code}: Alert EWS-{alert_id}-{code} taken at the primary URL as "
                                   f"{row['gateway_id']}") for line in output.lines)
        output.wait_for(lambda line: line.startswith(f"cbc: callback completed for EWS-{alert_id}-{code} ")
                        and line.endswith("answered 200"), f"{code}'s completed callback", timeout=10)

    # SMS: accepted by Twilio (a message SID), then delivered through its signed status callbacks.
    assert {row["county_code"] for row in by_channel["sms"]} == set(COUNTIES)
    for row in by_channel["sms"]:
        assert row["gateway_id"].startswith("SM")
        assert row["outcomes"].split(",")[:1] == ["accepted"] and "delivered" in row["outcomes"]
        assert f"twilio: callback delivered for {row['gateway_id']} answered 200" in output.lines

    # Broadcast: one EBM per county, its signature verified by that county's platform, the receipt recorded.
    assert sorted(row["county_code"] for row in by_channel["broadcast"]) == sorted(COUNTIES)
    for row in by_channel["broadcast"]:
        assert row["status"] == "sent" and row["gateway_code"] == "1"
        assert any(line.startswith(f"broadcast {row['county_code']}: EBM {row['gateway_id']} ") and
                   "signature verified" in line for line in output.lines)

    # BeiDou: accepted by the terminal one by one, never sooner than the card's interval.
    beidou = by_channel["beidou"]
    assert len(beidou) >= len(COUNTIES)  # at least each county's village group address
    assert all(row["status"] == "sent" and row["gateway_id"].startswith(f"{DEMO_CARD}:") for row in beidou)
    times = sorted(datetime.fromisoformat(row["sent_at"]) for row in beidou)  # SQLite keeps ISO text
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(times)]
    assert min(gaps) >= DEMO_CARD_INTERVAL * 0.95, gaps
    for row in beidou:  # the terminal simulator got each one (its lines come every half second)
        destination = row["gateway_id"].split(":")[1]
        output.wait_for(lambda line: line.startswith("beidou: ") and f" {destination} received" in line,
                        f"BeiDou message to {destination}", timeout=5)

    # The delivery log has an attempt for every delivery.
    assert all(row["outcomes"] for row in rows)
