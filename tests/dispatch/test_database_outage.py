"""The database goes away while a batch is at the gateway: the results are recorded once it is
back, so the reconciler never sends that batch a second time (found by tests/chaos)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.support.dispatch import new_alert, publish_now, statuses, work
from tests.support.gateways import sent_counts
from warning_service.dispatch import send
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import Delivery, utcnow


def test_results_recorded_after_the_database_comes_back_are_not_sent_again(app, demo_targets, counting, monkeypatch):
    record = send._record
    outages = iter([True, True])  # the first two writes of results find the connection gone

    def record_after_outage(*args, **kwargs):
        if next(outages, False):
            raise OperationalError("UPDATE deliveries", {}, Exception("terminating connection due to administrator command"))
        return record(*args, **kwargs)

    monkeypatch.setattr(send, "_record", record_after_outage)
    monkeypatch.setattr(send, "RECORD_RETRY_SECONDS", 0.01)
    alert = publish_now(new_alert())
    work(app)
    # As the reconciler would once SENDING_TIMEOUT_SECONDS have passed: nothing may be left to send again.
    later = utcnow() + timedelta(seconds=app.config["SENDING_TIMEOUT_SECONDS"] + 1)
    assert reconcile(db.session, redis_client(), app.config, now=later, stale_after=0).reclaimed == 0
    work(app)
    total = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.alert_id == alert.id))
    assert statuses(alert.id) == {"sent": total}
    assert set(sent_counts(counting).values()) == {1}, "no message went to the gateway twice"
