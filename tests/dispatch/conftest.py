"""Fixtures for the fan-out: demo targets, alerts ready to publish, the counting gateway, in-process workers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import func, select

from tests.dispatch.gateways import register
from warning_service.dispatch.publish import publish
from warning_service.dispatch.queueing import enqueue_plan
from warning_service.extensions import db, queues, redis_client
from warning_service.models import Alert, AlertState, CapStatus, County, Delivery, Level, MsgType, utcnow
from worker import DispatchWorker


@pytest.fixture
def counting(app, monkeypatch):
    """Every channel through the counting gateway."""
    register()
    for setting in ("SMS_GATEWAY", "BROADCAST_GATEWAY", "BEIDOU_GATEWAY"):
        monkeypatch.setitem(app.config, setting, "counting")
    app.extensions.pop("sender", None)
    yield Redis.from_url(app.config["REDIS_URL"])
    app.extensions.pop("sender", None)


@pytest.fixture
def demo_targets(app):
    result = app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", "1200"])
    assert result.exit_code == 0, result.output


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
