"""Logs an operator can read: the service's own lines at INFO, libraries only from WARNING up."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warning_service.dispatch.reconcile import ReconcileReport
from worker import log_reconciler_report

REPO = Path(__file__).resolve().parents[1]
EMIT = """
import logging
from warning_service.app import create_app
create_app()
logging.getLogger("twilio.http_client").info("twilio header dump")
logging.getLogger("urllib3.connectionpool").debug("urllib3 connection chatter")
logging.getLogger("twilio.http_client").warning("twilio trouble")
logging.getLogger("warning_service.dispatch").info("our own line")
"""


def emitted(tmp_path: Path, level: str) -> str:
    env = {**os.environ, "LOG_LEVEL": level, "LOG_FORMAT": "text",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", EMIT], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_libraries_speak_only_from_warning_at_info(tmp_path):
    output = emitted(tmp_path, "INFO")
    assert "our own line" in output and "twilio trouble" in output
    assert "twilio header dump" not in output and "urllib3 connection chatter" not in output


def test_debug_lets_the_libraries_speak_again(tmp_path):
    output = emitted(tmp_path, "DEBUG")
    assert "twilio header dump" in output and "urllib3 connection chatter" in output


@pytest.mark.parametrize("report, level", [
    (ReconcileReport(), logging.DEBUG),
    (ReconcileReport(requeued=182, jobs=1), logging.INFO),
    (ReconcileReport(sealed=500), logging.INFO),
    (ReconcileReport(requeued=3, jobs=1, reclaimed=3), logging.WARNING),
    (ReconcileReport(plans=1), logging.WARNING),
    (ReconcileReport(failed_over=2), logging.WARNING),
])
def test_reconciler_routine_is_info_and_trouble_warning(caplog, report, level):
    caplog.set_level(logging.DEBUG, logger="warning_service.worker")
    log_reconciler_report(report)
    assert [record.levelno for record in caplog.records] == [level]
    assert caplog.records[0].getMessage() == f"reconciler: {report}"
