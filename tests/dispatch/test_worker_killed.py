"""A worker killed with SIGKILL in the middle of a fan-out loses nothing: real worker processes, real Redis."""
from __future__ import annotations

import signal
import time
from datetime import timedelta

from sqlalchemy import func, select

from tests.support.dispatch import WORKER_BATCH, new_alert, publish_now, start_worker, statuses
from tests.support.gateways import sent_counts
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import County, Delivery, DeliveryAttempt, utcnow


def wait_until(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_worker_killed_mid_fanout_then_restarted_settles_every_delivery_once(app, demo_targets, counting):
    codes = tuple(db.session.scalars(select(County.code)))
    alert = publish_now(new_alert(codes))
    worker = start_worker(app, delay=0.05)
    try:
        wait_until(lambda: len(sent_counts(counting)) >= 150, timeout=60)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    total = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.alert_id == alert.id))
    db.session.remove()
    assert statuses(alert.id).get("sent", 0) < total, "the worker died before the fan-out ended"

    # As the scheduled reconciler would, once SENDING_TIMEOUT_SECONDS have passed.
    later = utcnow() + timedelta(seconds=app.config["SENDING_TIMEOUT_SECONDS"] + 1)
    reconcile(db.session, redis_client(), app.config, now=later, stale_after=0)
    restarted = start_worker(app, "--burst", delay=0)
    assert restarted.wait(timeout=120) == 0, restarted.stderr.read().decode()[-2000:]

    db.session.remove()
    assert statuses(alert.id) == {"sent": total}
    sent = sent_counts(counting)
    ids = set(db.session.scalars(select(Delivery.id).where(Delivery.alert_id == alert.id)))
    assert set(sent) == ids, "every delivery reached the gateway"
    duplicates = [delivery for delivery, times in sent.items() if times > 1]
    assert len(duplicates) <= WORKER_BATCH, "only the batch in flight when the worker died may go twice"
    accepted = db.session.execute(
        select(DeliveryAttempt.delivery_id, func.count()).where(DeliveryAttempt.outcome == "accepted")
        .group_by(DeliveryAttempt.delivery_id)
    ).all()
    assert len(accepted) == total and {count for _, count in accepted} == {1}, "each delivery settled once"
