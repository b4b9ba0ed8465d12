"""`worker.py --queues`: a worker kept for the queues named, as operations keep one free for earthquake warnings."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from redis import Redis

from tests.support.dispatch import new_alert, publish_now, start_worker, statuses
from warning_service.models import CapStatus, Level

ROOT = Path(__file__).resolve().parents[2]


def test_a_critical_only_worker_sends_the_earthquake_warning_and_leaves_the_rest(app, demo_targets, counting):
    rainstorm = publish_now(new_alert(("513301",), status=CapStatus.ACTUAL, hazard="rainstorm", level=Level.YELLOW))
    earthquake = publish_now(new_alert(("513322",), hazard="earthquake_early_warning", level=None))

    worker = start_worker(app, "--burst", "--queues", "critical", delay=0)
    assert worker.wait(timeout=120) == 0, worker.stderr.read().decode()[-2000:]

    assert set(statuses(earthquake.id)) == {"sent"}
    assert statuses(rainstorm.id) == {}, "the rainstorm's plan is still waiting on the default queue"
    assert Redis.from_url(app.config["REDIS_URL"]).llen("rq:queue:default") == 1


def test_an_unknown_queue_is_refused_with_the_names_to_choose_from():
    refused = subprocess.run([sys.executable, "worker.py", "--queues", "critical,urgent"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "urgent: choose among critical, high, default, low" in refused.stderr
