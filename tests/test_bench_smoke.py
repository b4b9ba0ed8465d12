"""Each benchmark in bench/ runs end to end in its --quick mode, so the scripts cannot rot.

The figures are not checked here (docs/BENCHMARKS.md holds them); only that each script runs
the service as it runs in production, measures, and prints its summary. All seven share one
PostgreSQL database of their own (seeded with a few hundred recipients by the first) and
this session's Redis database.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from redis import Redis
from rq import Worker

from tests.support.backends import POSTGRES_ADMIN_URL, REDIS_CLAIM_KEY

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench_database() -> Iterator[str]:
    name = f"ews_bench_smoke_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("script, summary", [
    ("fanout.py", '"median_of": 1'),
    ("intake.py", "| 2 | 1 |"),
    ("earthquake.py", "**all runs pooled** | 3 |"),
    ("cell_broadcast.py", "| hailuogou | **all runs pooled** | 2 |"),
    ("fanout_peers.py", "fan-out with the real adapters"),
    ("smpp.py", "SMS over SMPP against peers/smpp_peer.py"),
    ("twilio.py", "SMS over Twilio against peers/twilio_peer.py"),
])
def test_benchmark_runs_in_quick_mode(script, summary, bench_database, redis_url):
    try:
        finished = subprocess.run(
            [sys.executable, f"bench/{script}", "--quick", "--database", bench_database, "--redis-url", redis_url],
            cwd=ROOT, capture_output=True, text=True, timeout=240)
    finally:
        connection = Redis.from_url(redis_url)
        # A benchmark cut short leaves its workers behind, listening on this database: they would take
        # the next benchmark's jobs against a database that is gone.
        for worker in Worker.all(connection=connection):
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        connection.set(REDIS_CLAIM_KEY, os.getpid(), ex=3600)  # the benchmark emptied the database
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert summary in finished.stdout, finished.stdout[-3000:]
