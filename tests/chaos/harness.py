"""The service as it runs in production, on servers the suite may break.

Its own PostgreSQL and Redis (servers.py), the three gateway peers in this
process, worker.py as real processes (kept running by a small supervisor, as
systemd would), and the web app as a real gunicorn process that is never
restarted. The recipients are written once, set-based.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from redis import Redis
from rq import Worker
from sqlalchemy import select, text

from peers.beidou_peer import BeidouPeer
from peers.broadcast_peer import BroadcastPeer
from peers.ports import free_ports
from peers.twilio_peer import TwilioPeer
from warning_service.extensions import db
from warning_service.models import BeidouTerminal, BroadcastEndpoint, County, Delivery, DeliveryStatus, Recipient

from .servers import PostgresCluster, RedisServer, wait_for

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = int(os.environ.get("CHAOS_RECIPIENTS", "100000"))
WORKERS = int(os.environ.get("CHAOS_WORKERS", "2"))
BATCH = 250
CUT_COUNTY = "513325"  # 雅江县: its broadcast platform is gone for the whole run
PLATFORM_SECRET = "chaos-platform-secret-" + "5a" * 8
FINAL = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED,
         DeliveryStatus.CANCELLED)
SETTLED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
# Shorter than production so a run takes minutes, in the same order: the job timeout (90 s,
# queueing.py) stays below SENDING_TIMEOUT_SECONDS, so a row is reclaimed only once its job is over.
SETTINGS = {
    "FANOUT_BATCH_SIZE": BATCH, "FANOUT_CHUNK_SIZE": 20_000,
    "DELIVERY_MAX_ATTEMPTS": 5, "RETRY_BASE_SECONDS": 1.0, "RETRY_MAX_SECONDS": 8.0,
    "SENDING_TIMEOUT_SECONDS": 100, "PENDING_TIMEOUT_SECONDS": 60, "RECONCILE_INTERVAL_SECONDS": 2,
    "SMS_FAILOVER_AFTER_SECONDS": 0, "TWILIO_MAX_MPS": 5000, "BROADCAST_TIMEOUT_SECONDS": 2.0,
}


class QuietTwilioPeer(TwilioPeer):
    """Twilio without status callbacks: the suite checks what reached the gateway, not receipts."""

    def _schedule_callbacks(self, *args) -> None:
        return None

    def reset(self) -> None:
        with self._lock:
            self._received.clear()


@dataclass
class Peers:
    twilio: QuietTwilioPeer
    broadcast: BroadcastPeer
    beidou: BeidouPeer

    def fail(self, mode: str) -> None:
        for peer in (self.twilio, self.broadcast, self.beidou):
            peer.fail(mode)

    def reset(self) -> None:
        self.fail("none")
        self.twilio.reset()
        with self.broadcast._lock:
            self.broadcast._received.clear()
        with self.beidou._lock:
            self.beidou._received.clear()
            self.beidou.lines.clear()


@dataclass
class Supervisor:
    """Keeps `count` worker.py processes running, restarting any that exits, as systemd's Restart=always;
    `prefix` runs them on another host (tests/chaos_ha: `ip netns exec …`)."""

    env: dict[str, str]
    prefix: list[str] = field(default_factory=list)
    count: int = WORKERS
    processes: list[subprocess.Popen] = field(default_factory=list)
    restarts: int = 0

    def _spawn(self) -> subprocess.Popen:
        log = open(Path(self.env["CHAOS_DIR"]) / "workers.log", "ab")
        return subprocess.Popen([*self.prefix, sys.executable, str(ROOT / "worker.py")], env=self.env, cwd=ROOT,
                                stdout=log, stderr=log)

    def start(self) -> None:
        self.processes = [self._spawn() for _ in range(self.count)]
        self.restarts = 0

    def keep_running(self) -> None:
        for index, process in enumerate(self.processes):
            if process.poll() is not None:
                self.processes[index] = self._spawn()
                self.restarts += 1

    def kill_busy(self, connection: Redis) -> int:
        """SIGKILL the worker in the middle of a send_batch job; returns its pid (0: none busy now)."""
        ours = {process.pid for process in self.processes if process.poll() is None}
        for worker in Worker.all(connection=connection):
            job = worker.get_current_job()
            if worker.pid in ours and job is not None and job.func_name.endswith("send_batch"):
                os.kill(worker.pid, signal.SIGKILL)
                return worker.pid
        return 0

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class Web:
    """The web app in gunicorn: one process for the whole run, never restarted; `prefix` runs it on the host
    whose address is `host` (tests/chaos_ha)."""

    def __init__(self, env: dict[str, str], host: str = "127.0.0.1", prefix: tuple[str, ...] = ()):
        self.host, self.port = host, free_ports(1)
        log = open(Path(env["CHAOS_DIR"]) / f"web-{host}.log", "ab")
        self.process = subprocess.Popen(
            [*prefix, str(Path(sys.executable).with_name("gunicorn")), "--workers", "1", "--threads", "4",
             "--bind", f"{host}:{self.port}", "wsgi:app"], env=env, cwd=ROOT, stdout=log, stderr=log)
        wait_for(lambda: self.get("/healthz") == 200, 60, "the web process to answer /healthz")

    def get(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(f"http://{self.host}:{self.port}{path}", timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return None

    def answers(self, alert_id: int) -> bool:
        """Healthy, and an API call that reads the database answers."""
        return self.get("/healthz") == 200 and self.get(f"/api/v1/public/alerts/{alert_id}/cap") == 200

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def service_env(postgres: PostgresCluster, redis: RedisServer, peers: Peers, directory: Path) -> dict[str, str]:
    return {
        **os.environ, "CHAOS_DIR": str(directory), "PYTHONPATH": str(ROOT),
        "DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "WARNING_SERVICE_ENV": "development",
        "SMS_GATEWAY": "twilio", "TWILIO_ACCOUNT_SID": peers.twilio.account_sid,
        "TWILIO_AUTH_TOKEN": peers.twilio.auth_token, "TWILIO_FROM": "+8610690000000",
        "TWILIO_API_BASE_URL": peers.twilio.base_url,
        "BROADCAST_GATEWAY": "http", "BEIDOU_GATEWAY": "serial", "BEIDOU_SERIAL_URL": peers.beidou.url,
        **{name: str(value) for name, value in SETTINGS.items()},
    }


def seed(app: Flask, peers: Peers, cut_county: str) -> None:
    """RECIPIENTS people spread over the 31 counties (one INSERT … SELECT), a broadcast platform and a
    BeiDou group card per county. The cut county's platform address answers nothing, for the whole run."""
    with app.app_context():
        codes = list(db.session.scalars(select(County.code).order_by(County.code)))
        db.session.execute(text(
            "INSERT INTO recipients (phone, languages, county_code, channels, exercise, active, created_at) "
            "SELECT '+8619' || lpad(i::text, 9, '0'), 'zh', (CAST(:codes AS text[]))[1 + i % :n], CAST('[\"sms\"]' AS json), "
            "false, true, now() FROM generate_series(1, :count) AS i"),
            {"codes": codes, "n": len(codes), "count": RECIPIENTS})
        gone = f"http://127.0.0.1:{free_ports(1)}/ebm/{cut_county}"
        peers.broadcast.secrets.update({code: PLATFORM_SECRET for code in codes if code != cut_county})
        db.session.add_all([
            BroadcastEndpoint(county_code=code, name=f"{code} 应急广播平台", secret=PLATFORM_SECRET,
                              url=gone if code == cut_county else peers.broadcast.url(code))
            for code in codes
        ] + [
            BeidouTerminal(card_address=f"19{index:05d}", county_code=code, name=f"{code} 群组", is_group=True)
            for index, code in enumerate(codes, 1)
        ])
        db.session.commit()


@dataclass
class Outcome:
    """What one fan-out came to, from the database and from what the peers recorded."""

    planned: int
    by_status: dict[str, int]
    unreasoned_failures: int
    not_final: int
    settled: int
    failed: int
    # Messages a peer received for a delivery it had already received, per channel.
    duplicates: dict[str, int]
    # Settled deliveries the peer never saw, and messages the peer saw that map to no delivery.
    settled_unseen: int
    strangers: int
    reposted_ebms: int  # the broadcast platform drops these itself: the EBMID is the same

    @property
    def lost(self) -> int:
        return self.not_final + self.settled_unseen + self.strangers + self.unreasoned_failures


def outcome(alert_id: int, peers: Peers) -> Outcome:
    rows = db.session.execute(
        select(Delivery.channel, Delivery.target_id, Delivery.status, Delivery.gateway_text)
        .where(Delivery.alert_id == alert_id)).all()
    by_status = Counter(row.status.value for row in rows)
    addresses = {
        "sms": dict(db.session.execute(select(Recipient.phone, Recipient.id)).tuples().all()),
        "broadcast": dict(db.session.execute(select(BroadcastEndpoint.url, BroadcastEndpoint.id)).tuples().all()),
        "beidou": dict(db.session.execute(select(BeidouTerminal.card_address, BeidouTerminal.id)).tuples().all()),
    }
    seen = {
        "sms": Counter(message.address for message in peers.twilio.received()),
        "broadcast": Counter(message.address for message in peers.broadcast.received()),
        "beidou": Counter(message.address for message in peers.beidou.received()),
    }
    ebms = Counter(message.extra["ebm_id"] for message in peers.broadcast.received())
    planned = {(row.channel, row.target_id): row for row in rows}
    duplicates, settled_unseen, strangers = {}, 0, 0
    for channel, counts in seen.items():
        duplicates[channel] = sum(count - 1 for count in counts.values() if count > 1)
        for address in counts:
            if (channel, addresses[channel].get(address)) not in planned:
                strangers += 1
    received_targets = {(channel, addresses[channel].get(address)) for channel, counts in seen.items() for address in counts}
    for key, row in planned.items():
        if row.status in SETTLED and key not in received_targets:
            settled_unseen += 1
    return Outcome(
        planned=len(rows), by_status=dict(by_status),
        unreasoned_failures=sum(1 for row in rows if row.status == DeliveryStatus.FAILED and not row.gateway_text),
        not_final=sum(1 for row in rows if row.status not in FINAL),
        settled=sum(by_status[status.value] for status in SETTLED),
        failed=by_status[DeliveryStatus.FAILED.value],
        duplicates=duplicates, settled_unseen=settled_unseen, strangers=strangers,
        reposted_ebms=sum(count - 1 for count in ebms.values() if count > 1),
    )


def write_row(path: Path, row: dict) -> None:
    with path.open("a") as out:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def report_path() -> Path:
    """One JSON line per fault; `make chaos` prints them as the table in docs/RELIABILITY.md."""
    return Path(os.environ.get("CHAOS_REPORT", "/tmp/ews-chaos-report.jsonl"))
