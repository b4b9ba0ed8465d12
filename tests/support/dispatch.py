"""The fan-out in tests: alerts ready to publish, publishing them, in-process and subprocess workers, and
the deliveries' statuses."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from warning_service.dispatch.publish import publish
from warning_service.dispatch.queueing import enqueue_plan
from warning_service.extensions import db, queues, redis_client
from warning_service.models import Alert, AlertState, CapStatus, County, Delivery, Level, MsgType, utcnow
from worker import DispatchWorker

RUN_WORKER = Path(__file__).with_name("run_worker.py")
WORKER_BATCH = 25  # the batch size of a worker start_worker starts
# Where the worker finds Redis: the app's own server, or its sentinels (an empty one is unset).
REDIS_SETTINGS = ("REDIS_URL", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_PASSWORD", "REDIS_FAILOVER_SECONDS")


@dataclass(frozen=True)
class AlertRef:
    """What a test keeps of an alert: jobs end their session, so ORM objects do not outlive a worker run."""

    id: int
    sender: str
    identifier: str
    sent: datetime

    @property
    def cap_reference(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent.isoformat()}"


def new_alert(counties=("513301", "513322"), status=CapStatus.ACTUAL, hazard="rainstorm", level=Level.YELLOW,
              msg_type=MsgType.ALERT, references=()) -> AlertRef:
    """An alert as the intake would store it, waiting for review."""
    alert = Alert(
        identifier=f"T-{uuid.uuid4().hex[:10]}", sender="weather.demo@ews.example", sent=utcnow(), status=status,
        msg_type=msg_type, hazard_code=hazard, level=level, expires=utcnow() + timedelta(hours=6),
        headline={"zh": "测试预警", "bo": "ཉེན་བརྡ"}, original=b"{}", original_format="json",
        state=AlertState.PENDING_REVIEW, references=list(references),
    )
    alert.counties = [db.session.get(County, code) for code in counties]
    db.session.add(alert)
    db.session.commit()
    return AlertRef(alert.id, alert.sender, alert.identifier, alert.sent)


def publish_now(ref: AlertRef) -> AlertRef:
    alert = db.session.get(Alert, ref.id)
    publish(db.session, alert, actor=None)
    db.session.commit()
    enqueue_plan(redis_client(), alert)
    return ref


def work(app, max_jobs: int | None = None) -> None:
    """An in-process worker, as worker.py runs it, until the queues are empty (or max_jobs)."""
    worker = DispatchWorker(queues(), connection=redis_client(), maintenance_interval=3600)
    worker.app = app
    worker.work(burst=True, max_jobs=max_jobs, logging_level="ERROR")


def statuses(alert_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.alert_id == alert_id).group_by(Delivery.status)
    )
    return {status.value: count for status, count in rows}


def start_worker(app: Flask, *args: str, delay: float) -> subprocess.Popen:
    """worker.py in a process of its own with the counting gateways (gateways.py), each batch `delay` s."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        **{name: str(app.config[name]) for name in REDIS_SETTINGS},
        "SMS_GATEWAY": "counting", "BROADCAST_GATEWAY": "counting", "BEIDOU_GATEWAY": "counting",
        "CELL_BROADCAST_GATEWAY": "counting",
        "FANOUT_BATCH_SIZE": str(WORKER_BATCH),
        "TEST_GATEWAY_DELAY": str(delay),
        "RECONCILE_INTERVAL_SECONDS": "3600",
    }
    return subprocess.Popen([sys.executable, str(RUN_WORKER), *args], env=env, cwd=RUN_WORKER.parents[2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

