"""`flask alert publish ID`: an alert waiting for review published from the command line, its plan queued."""
from __future__ import annotations

from rq import Queue

from tests.support.dispatch import new_alert
from warning_service.extensions import db, redis_client
from warning_service.models import Alert, AlertState


def test_publishing_from_the_command_line_queues_the_plan_on_the_alerts_queue(app):
    waiting = new_alert(hazard="earthquake_early_warning", level=None)
    result = app.test_cli_runner().invoke(args=["alert", "publish", str(waiting.id)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"alert {waiting.id} published"
    db.session.expire_all()
    assert db.session.get(Alert, waiting.id).state == AlertState.PUBLISHING
    queued = Queue("critical", connection=redis_client()).jobs
    assert [(job.func_name.rsplit(".", 1)[-1], list(job.args)) for job in queued] == [("plan_alert", [waiting.id, None])]

