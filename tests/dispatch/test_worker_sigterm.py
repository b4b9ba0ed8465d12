"""SIGTERM (systemd, `demo serve`, a deploy) stops a worker cleanly, even in the middle of a reconciler pass."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

from tests.support.dispatch import RUN_WORKER

STOP_SECONDS = 60  # generous: the machine is shared; no speed is asserted


def read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """The worker's output up to and including the first line containing `marker`."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if marker in line:
                return "".join(seen)
    process.kill()
    raise AssertionError(f"the worker never printed {marker!r}:\n{''.join(seen)[-3000:]}")


def test_sigterm_while_reconciling_stops_the_worker_without_an_error(app):
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "SMS_GATEWAY": "counting", "BROADCAST_GATEWAY": "counting", "BEIDOU_GATEWAY": "counting",
        "CELL_BROADCAST_GATEWAY": "counting",
        "RECONCILE_INTERVAL_SECONDS": "1",
        "TEST_RECONCILE_DELAY": "5",
        "LOG_LEVEL": "INFO",
    }
    worker = subprocess.Popen([sys.executable, str(RUN_WORKER)], env=env, cwd=RUN_WORKER.parents[2],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = read_until(worker, "reconciling", timeout=120)
    worker.send_signal(signal.SIGTERM)
    try:
        rest, _ = worker.communicate(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        rest, _ = worker.communicate()
        raise AssertionError(f"the worker did not stop on SIGTERM:\n{(output + rest)[-3000:]}") from None
    output += rest
    assert worker.returncode == 0, output[-3000:]
    assert "Traceback" not in output and '"level": "ERROR"' not in output, output[-3000:]
