"""Redis behind Sentinel: the app and a worker find the master through three sentinels, and publish on through
the promoted replica after the master's machine dies (issue 19, queue failover)."""
from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.ha.conftest import publish_earthquake, wait_until_sent
from tests.support.dispatch import start_worker
from tests.support.sentinel import MASTER_NAME, PASSWORD, START_SECONDS, SentinelGroup
from warning_service.extensions import db

NOWHERE = "redis://127.0.0.1:1/0"  # REDIS_URL, which the sentinels' settings replace: nothing listens there
STOP_SECONDS = 30  # generous: the machine is shared


@pytest.fixture
def sentinels(tmp_path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path)
    try:
        group.start()
        yield group
    finally:
        group.close()


@pytest.fixture
def app(app_builder, sentinel_database, sentinels):
    # A failover's retries as long as the sentinels may take on a loaded machine (kill_master's wait).
    app = app_builder(sentinel_database, NOWHERE, **sentinels.settings, REDIS_FAILOVER_SECONDS=START_SECONDS)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def worker(app) -> Iterator[subprocess.Popen]:
    """worker.py, reaching Redis through the sentinels by their settings in its environment (no reconciler:
    only what reaches the queues is worked). Killed afterwards if the test did not stop it."""
    process = start_worker(app, delay=0)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def redis_check(client) -> dict:
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_json()
    assert PASSWORD not in response.get_data(as_text=True)
    return response.get_json()["checks"]["redis"]


def test_publishes_through_the_sentinels_master_and_through_the_replica_once_the_master_dies(
        app, client, sentinels, seismic, people, worker):
    _, key = seismic
    first_master = sentinels.master_port
    assert redis_check(client) == {"ok": True, "node": f"127.0.0.1:{first_master}", "via": f"sentinel {MASTER_NAME}"}
    assert wait_until_sent(publish_earthquake(client, key))

    sentinels.kill_master()
    # The app's and the worker's connections went to the dead master: each retries on the one the sentinels name.
    assert sentinels.master_port != first_master
    assert wait_until_sent(publish_earthquake(client, key))
    assert redis_check(client) == {"ok": True, "node": f"127.0.0.1:{sentinels.master_port}", "via": f"sentinel {MASTER_NAME}"}
    # Both connections were moved within the retries (no error reached RQ), and the worker stops on SIGTERM
    # rather than wait on a connection still holding its interrupted wait for a job.
    worker.terminate()
    _, errors = worker.communicate(timeout=STOP_SECONDS)
    assert worker.returncode == 0 and b"could not connect to Redis" not in errors, errors.decode()[-3000:]
