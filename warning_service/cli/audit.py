"""`flask audit ...`: check the tamper-evident ledger, and print its head for an outside auditor."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..audit.ledger import head, verify
from ..extensions import db

audit_cli = AppGroup("audit", help="Check the tamper-evident audit ledger.")


@audit_cli.command("verify")
def verify_ledger() -> None:
    """Walk the chain; exit 1 naming the first entry that was changed, deleted or inserted."""
    checked, finding = verify(db.session)
    if finding is not None:
        click.echo(f"audit ledger BROKEN after {checked} good entries: {finding}", err=True)
        raise SystemExit(1)
    click.echo(f"audit ledger intact: {checked} entries")


@audit_cli.command("head")
def show_head() -> None:
    """The last entry's id and hash: sign it and keep it outside, to check the ledger against later."""
    last = head(db.session)
    click.echo("the ledger is empty" if last is None else f"{last[0]} {last[1]}")
