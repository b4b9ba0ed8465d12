"""`flask audit ...`: check the tamper-evident ledger, seal settled deliveries into it, and print its head."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..audit.ledger import head, verify
from ..audit.seals import seal_settled
from ..extensions import db

audit_cli = AppGroup("audit", help="Check the tamper-evident audit ledger.")


@audit_cli.command("verify")
def verify_ledger() -> None:
    """Walk the chain and recompute every delivery seal; exit 1 naming the first entry (or delivery)
    that was changed, deleted or inserted."""
    checked, finding = verify(db.session)
    if finding is not None:
        click.echo(f"audit ledger BROKEN after {checked} good entries: {finding}", err=True)
        raise SystemExit(1)
    click.echo(f"audit ledger intact: {checked} entries")


@audit_cli.command("seal")
def seal_deliveries() -> None:
    """Seal every settled delivery not sealed yet (the reconciler does this a bounded amount per pass)."""
    report = seal_settled(db.session, current_app.config)
    click.echo(str(report))


@audit_cli.command("head")
def show_head() -> None:
    """The last entry's id and hash: sign it and keep it outside, to check the ledger against later."""
    last = head(db.session)
    click.echo("the ledger is empty" if last is None else f"{last[0]} {last[1]}")
