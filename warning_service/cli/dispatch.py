"""`flask alert publish ID` and `flask dispatch reconcile`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..dispatch.publish import publish
from ..dispatch.queueing import Fanout, enqueue_plan, start_fanout
from ..dispatch.reconcile import reconcile
from ..extensions import db, redis_client
from ..models import Alert, AlertState

alert_cli = AppGroup("alert", help="Act on alerts.")
dispatch_cli = AppGroup("dispatch", help="The fan-out's queues and recovery.")


@alert_cli.command("publish")
@click.argument("alert_id", type=int)
def publish_command(alert_id: int) -> None:
    """Publish an alert waiting for review (or restart the fan-out of one being published)."""
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise click.ClickException(f"no alert {alert_id}")
    if alert.state in (AlertState.PUBLISHING, AlertState.PUBLISHED):
        enqueue_plan(redis_client(), alert)
        click.echo(f"alert {alert_id} is {alert.state.value}: its fan-out was queued again (nothing is sent twice)")
        return
    if alert.state != AlertState.PENDING_REVIEW:
        raise click.ClickException(f"alert {alert_id} is {alert.state.value}; only an alert waiting for review can be published")
    publish(db.session, alert, actor=None)
    fanout = Fanout.of(alert)
    db.session.commit()
    queued = start_fanout(redis_client(), fanout)
    click.echo(f"alert {alert_id} published" + ("" if queued else "; Redis did not answer, the reconciler will start the fan-out"))


@dispatch_cli.command("reconcile")
@click.option("--stale-after", type=float, default=None,
              help="seconds after which a queued pending delivery is queued again (default: PENDING_TIMEOUT_SECONDS, "
                   "or 0 when the queues are empty)")
def reconcile_command(stale_after: float | None) -> None:
    """Return stuck and lost deliveries to the queues (the workers also do this on a schedule)."""
    report = reconcile(db.session, redis_client(), current_app.config, stale_after=stale_after)
    click.echo(str(report))
