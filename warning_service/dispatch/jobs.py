"""The RQ jobs: thin functions that call into dispatch/. They run inside the worker's app context."""
from __future__ import annotations

from flask import current_app

from ..channels.cell_broadcast.link import check_links
from ..extensions import db, redis_client
from ..models import Alert, AlertState
from .plan import PlanCursor, plan_step
from .queueing import enqueue_step
from .send import Sender


def plan_alert(alert_id: int, cursor: tuple[int, int, int] | None = None) -> dict:
    """Write the next chunk of an alert's deliveries, queue its batches, then queue the step after."""
    try:
        alert = db.session.get(Alert, alert_id)
        if alert is None or alert.state not in (AlertState.PUBLISHING, AlertState.PUBLISHED):
            return {"alert": alert_id, "skipped": alert.state.value if alert else "missing"}
        connection, settings = redis_client(), current_app.config
        step = plan_step(db.session, alert, PlanCursor(*cursor) if cursor else PlanCursor(),
                         int(settings["FANOUT_CHUNK_SIZE"]))
        following = (step.next.channel_index, step.next.after, step.next.size) if step.next else None
        jobs = enqueue_step(connection, alert, step.new_ids, following, int(settings["FANOUT_BATCH_SIZE"]))
        return {"alert": alert_id, "channel": step.channel.name, "written": len(step.new_ids), "jobs": jobs,
                "done": step.next is None}
    finally:
        db.session.remove()


def send_batch(delivery_ids: list[int]) -> dict:
    """Claim and send one batch of deliveries."""
    try:
        report = sender().send(db.session, delivery_ids)
        return {"claimed": report.claimed, **report.outcomes, "failed_over": report.failed_over}
    finally:
        db.session.remove()


def check_cbc_links() -> dict:
    """Link-test every active CBC and keep the results (channels/cell_broadcast/link.py)."""
    try:
        tested = check_links(db.session, current_app.config)
        return {"tested": len(tested), "down": [operator.code for operator, _ in tested if operator.link_down]}
    finally:
        db.session.remove()


def sender() -> Sender:
    """One Sender per process: adapters keep their connections between jobs."""
    extensions = current_app.extensions
    if "sender" not in extensions:
        extensions["sender"] = Sender(current_app.config, redis_client())
    return extensions["sender"]
