"""The fault suite's servers, peers, workers and web process: started once per run (see harness.py)."""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from peers.beidou_peer import BeidouPeer
from peers.broadcast_peer import BroadcastPeer
from warning_service.extensions import db

from .harness import CUT_COUNTY, Peers, QuietTwilioPeer, Supervisor, Web, report_path, seed, service_env
from .servers import PostgresCluster, RedisServer


@pytest.fixture(scope="session")
def chaos_dir() -> Iterator[Path]:
    # Not under pytest's tmp_path: PostgreSQL runs as another user and must reach it.
    directory = Path(tempfile.mkdtemp(prefix="ews-chaos-", dir="/tmp"))
    directory.chmod(0o711)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def peers() -> Iterator[Peers]:
    with QuietTwilioPeer() as twilio, BroadcastPeer({}, slow_seconds=0.5) as broadcast, \
            BeidouPeer(interval=0.02) as beidou:
        yield Peers(twilio, broadcast, beidou)


@pytest.fixture(scope="session")
def service(chaos_dir, peers, app_builder):
    """Everything running, the recipients seeded; yields (app, postgres, redis, supervisor, web)."""
    report_path().unlink(missing_ok=True)
    postgres = PostgresCluster(chaos_dir / "postgres")
    postgres.directory.mkdir()
    postgres.init()
    redis = RedisServer(chaos_dir)
    redis.start()
    app = app_builder(postgres.url, redis.url)
    supervisor = web = None
    try:
        seed(app, peers, CUT_COUNTY)
        env = service_env(postgres, redis, peers, chaos_dir)
        web = Web(env)
        supervisor = Supervisor(env)
        supervisor.start()
        yield app, postgres, redis, supervisor, web
    finally:
        if supervisor:
            supervisor.stop()
        if web:
            web.stop()
        with app.app_context():
            db.engine.dispose()
        redis.kill()
        postgres.stop("immediate")


def pytest_terminal_summary(terminalreporter) -> None:
    """The faults as the table in docs/RELIABILITY.md, then each in full."""
    path = report_path()
    ran = any("tests/chaos/" in report.nodeid for key in ("passed", "failed", "error")
              for report in terminalreporter.stats.get(key, []))
    if not ran or not path.exists():
        return
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    terminalreporter.section("faults during a fan-out")
    terminalreporter.write_line("| Fault | Planned | Settled at the peer | Failed with a reason | Lost | "
                                "Duplicated at the gateway (SMS, BeiDou; EBM reposts) | Settled after the fault | Fan-out |")
    terminalreporter.write_line("|---|---:|---:|---:|---:|---|---:|---:|")
    for row in rows:
        duplicates = row["duplicates"]
        terminalreporter.write_line(
            f"| {row['fault']} | {row['planned']:,} | {row['settled']:,} | {row['failed']:,} | {row['lost']} | "
            f"{duplicates['sms']}, {duplicates['beidou']}; {row['reposted_ebms']} | "
            f"{row['settle_seconds_after_fault']:.0f} s | {row['fanout_seconds']:.0f} s |")
    for row in rows:
        terminalreporter.write_line(json.dumps(row, ensure_ascii=False))
