"""The RQ jobs: thin functions that call into dispatch/. They run inside the worker's app context."""
from __future__ import annotations

from flask import current_app

from ..extensions import db, redis_client
from ..models import Alert, AlertState
from .plan import plan
from .queueing import enqueue_batches, queue_name
from .send import Sender


def plan_alert(alert_id: int) -> dict:
    """Write an alert's deliveries chunk by chunk, queueing each chunk's batches as it is committed."""
    try:
        alert = db.session.get(Alert, alert_id)
        if alert is None or alert.state not in (AlertState.PUBLISHING, AlertState.PUBLISHED):
            return {"alert": alert_id, "skipped": alert.state.value if alert else "missing"}
        connection, settings = redis_client(), current_app.config
        queue = queue_name(alert)
        summary = plan(
            db.session, alert, int(settings["FANOUT_CHUNK_SIZE"]),
            on_chunk=lambda _channel, ids: enqueue_batches(connection, queue, ids, int(settings["FANOUT_BATCH_SIZE"])),
        )
        return {"alert": alert_id, "written": summary.written, "jobs": summary.jobs, "stopped": summary.stopped}
    finally:
        db.session.remove()


def send_batch(delivery_ids: list[int]) -> dict:
    """Claim and send one batch of deliveries."""
    try:
        report = sender().send(db.session, delivery_ids)
        return {"claimed": report.claimed, **report.outcomes, "failed_over": report.failed_over}
    finally:
        db.session.remove()


def sender() -> Sender:
    """One Sender per process: adapters keep their connections between jobs."""
    extensions = current_app.extensions
    if "sender" not in extensions:
        extensions["sender"] = Sender(current_app.config, redis_client())
    return extensions["sender"]
