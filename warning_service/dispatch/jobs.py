"""The RQ jobs: thin functions that call into dispatch/. They run inside the worker's app context."""
from __future__ import annotations

from flask import current_app

from ..channels.cell_broadcast.link import check_links
from ..extensions import db, redis_client
from ..models import Alert, AlertState
from .plan import PlanCursor, plan_step
from .queueing import Fanout, enqueue_step
from .send import Sender


def plan_alert(alert_id: int, cursor: tuple[int, int, int] | None = None) -> dict:
    """Write the next chunk of an alert's deliveries, queue the step after and the chunk's batches. A chunk
    of a channel `sent_by_plan` (cell broadcast) is sent here instead, once the step after is queued: the
    CBCs get the warning without waiting for a worker to take a batch job (docs/BENCHMARKS.md, issue 16)."""
    try:
        alert = db.session.get(Alert, alert_id)
        if alert is None or alert.state not in (AlertState.PUBLISHING, AlertState.PUBLISHED):
            return {"alert": alert_id, "skipped": alert.state.value if alert else "missing"}
        connection, settings = redis_client(), current_app.config
        fanout = Fanout.of(alert)  # before plan_step's commit expires the alert
        step = plan_step(db.session, alert, PlanCursor(*cursor) if cursor else PlanCursor(),
                         int(settings["FANOUT_CHUNK_SIZE"]))
        following = (step.next.channel_index, step.next.after, step.next.size) if step.next else None
        sent_here = step.new_ids if step.channel.sent_by_plan else []
        jobs = enqueue_step(connection, fanout, [] if sent_here else step.new_ids, following,
                            int(settings["FANOUT_BATCH_SIZE"]))
        done = {"alert": alert_id, "channel": step.channel.name, "written": len(step.new_ids), "jobs": jobs,
                "done": step.next is None}
        return {**done, "sent": _send(sent_here)} if sent_here else done
    finally:
        db.session.remove()


def send_batch(delivery_ids: list[int]) -> dict:
    """Claim and send one batch of deliveries."""
    try:
        return _send(delivery_ids)
    finally:
        db.session.remove()


def _send(delivery_ids: list[int]) -> dict:
    """Claim, send and record (dispatch/send.py): a batch job's and a plan job's own chunk alike, so a row
    both hold (a reconciler's re-queue) is claimed, and sent, by one of them only."""
    report = sender().send(db.session, delivery_ids)
    return {"claimed": report.claimed, **report.outcomes, "failed_over": report.failed_over}


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
