"""The two-site deployment on one machine (`make chaos-ha`): the hosts of topology.py, pg_auto_failover on the
witness, db1 and db2, Redis with Sentinel on redis1, redis2 and the witness, gunicorn and a worker on app1 and
app2, haproxy on lb; the gateway peers in this process on the bridge's address. Built once per run."""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from peers.beidou_peer import BeidouPeer
from peers.broadcast_peer import BroadcastPeer
from tests.chaos.harness import CUT_COUNTY, Peers, QuietTwilioPeer, Supervisor, Web, seed, service_env
from tests.support.sentinel import SentinelGroup
from warning_service.extensions import db
from warning_service.models import Agency, AgencyKind
from warning_service.security.api_keys import add_key

from . import topology
from .cluster import LoadBalancer, PgAutoFailover

NOWHERE = "redis://127.0.0.1:1/0"  # REDIS_URL, replaced by the sentinels' settings: nothing listens there
APP_HOSTS = ("app1", "app2")
WORKERS_IN_FLIGHT = len(APP_HOSTS)  # one worker per app host: at most this many batches at a gateway at once
# Sentinel retries as long as a failover may take on two shared cores.
REDIS_FAILOVER_SECONDS = 30


def report_path() -> Path:
    return Path("/tmp/ews-chaos-ha-report.jsonl")


@dataclass
class Deployment:
    app: Flask
    database: PgAutoFailover
    redis: SentinelGroup
    webs: dict[str, Web]
    supervisors: dict[str, Supervisor]
    lb: LoadBalancer
    agency_headers: dict[str, str]

    def keep_running(self) -> None:
        """Restart any worker that exited, on every app host (the supervisor of tests/chaos, per host)."""
        for supervisor in self.supervisors.values():
            supervisor.keep_running()


@pytest.fixture(scope="session")
def ha_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="chaosha-", dir="/tmp"))  # PostgreSQL runs as postgres: not tmp_path
    directory.chmod(0o711)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def hosts() -> Iterator[None]:
    topology.up()
    try:
        yield
    finally:
        topology.down()


@pytest.fixture(scope="session")
def peers(hosts) -> Iterator[Peers]:
    with QuietTwilioPeer(host=topology.GATEWAY) as twilio, \
            BroadcastPeer({}, slow_seconds=0.5, host=topology.GATEWAY) as broadcast, \
            BeidouPeer(interval=0.02, host=topology.GATEWAY) as beidou:
        yield Peers(twilio, broadcast, beidou)


@pytest.fixture(scope="session")
def deployment(hosts, ha_dir, peers, app_builder) -> Iterator[Deployment]:
    report_path().unlink(missing_ok=True)
    (ha_dir / "pg").mkdir()
    (ha_dir / "redis").mkdir()
    database = PgAutoFailover(ha_dir / "pg")
    database.create()
    redis = SentinelGroup(ha_dir / "redis", hosts=[topology.HOSTS[host] for host in
                                                   ("redis1", "redis2", "redis1", "redis2", "witness")],
                          wrap=lambda address: topology.inside(topology.host_of(address)))
    webs: dict[str, Web] = {}
    supervisors: dict[str, Supervisor] = {}
    lb = None
    try:
        redis.start()
        settings = {**redis.settings, "REDIS_FAILOVER_SECONDS": str(REDIS_FAILOVER_SECONDS)}
        app = app_builder(database.url, NOWHERE, **settings)
        seed(app, peers, CUT_COUNTY)
        with app.app_context():
            agency = Agency(name="四川省地震局", kind=AgencyKind("seismic"), hazards=["earthquake"], auto_publish=True,
                            cap_senders=["seismic.chaos@ews.example"])
            db.session.add(agency)
            headers = {"Authorization": f"Bearer {add_key(db.session, agency)}"}
            db.session.commit()
        # The console as in production: duty officers sign in with their second factor.
        env = {**service_env(database, SimpleNamespace(url=NOWHERE), peers, ha_dir), **settings, "MFA_REQUIRED": "true"}
        for host in APP_HOSTS:
            webs[host] = Web(env, host=topology.HOSTS[host], prefix=tuple(topology.inside(host)))
            supervisors[host] = Supervisor(env, prefix=topology.inside(host), count=1)
            supervisors[host].start()
        lb = LoadBalancer(ha_dir, {host: (web.host, web.port) for host, web in webs.items()})
        yield Deployment(app, database, redis, webs, supervisors, lb, headers)
    finally:
        for supervisor in supervisors.values():
            supervisor.stop()
        for web in webs.values():
            web.stop()
        if lb:
            lb.stop()
        redis.close()
        database.stop()


def pytest_terminal_summary(terminalreporter) -> None:
    """The table of docs/RELIABILITY.md ("Losing a machine"), then each fault in full."""
    path = report_path()
    ran = any("tests/chaos_ha/" in report.nodeid for key in ("passed", "failed", "error")
              for report in terminalreporter.stats.get(key, []))
    if not ran or not path.exists():
        return
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    terminalreporter.section("losing a machine during a fan-out")
    terminalreporter.write_line("| Fault | Planned | Settled at the peer | Failed with a reason | Lost | Duplicated at the "
                                "gateway: SMS, BeiDou (EBM reposts) | Next publish after the fault | Agency POSTs: 2xx, "
                                "503 with Retry-After, other | Machine back after the fault | Settled after the fault "
                                "| Fan-out |")
    terminalreporter.write_line("|---|---:|---:|---:|---:|---|---:|---|---:|---:|---:|")
    for row in rows:
        duplicates, posts = row["duplicates"], row["posts"]
        terminalreporter.write_line(
            f"| {row['fault']} | {row['planned']:,} | {row['settled']:,} | {row['failed']:,} | {row['lost']} | "
            f"{duplicates['sms']}, {duplicates['beidou']} ({row['reposted_ebms']}) | {row['next_publish_seconds']} s | "
            f"{posts['2xx']}, {posts['503']}, {posts['other']} | {row['restored_seconds_after_fault']:.0f} s | "
            f"{row['settle_seconds_after_fault']:.0f} s | {row['fanout_seconds']:.0f} s |")
    for row in rows:
        terminalreporter.write_line(json.dumps(row, ensure_ascii=False))
