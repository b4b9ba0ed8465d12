"""`flask endpoints ...`: the county broadcast platforms and BeiDou terminals alerts reach.

A platform's signing secret is stored (the adapter signs with it) but never printed or put
in an audit event. Removing deactivates: the row stays, so delivery history still names it.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import registry
from ..extensions import db
from ..models import BeidouTerminal, BroadcastEndpoint
from ..registry import target_flags
from .agency import refused

endpoints_cli = AppGroup("endpoints", help="Manage the county broadcast platforms and BeiDou terminals.")

# Which option each field of a RegistryError comes from.
_OPTIONS = {"county": "--county", "url": "--url", "secret": "--secret", "name": "--name", "card": "--card",
            "township": "--township"}


@endpoints_cli.command("add-broadcast")
@click.option("--county", "county_code", required=True, metavar="CODE", help="The county's 6-digit code.")
@click.option("--url", required=True, help="The platform's URL for EBM packages (http or https).")
@click.option("--secret", prompt="Signing secret", hide_input=True,
              help="The key the platform checks our signatures with (asked for, hidden, when not given).")
@click.option("--name", help="[default: the county's name + 应急广播平台]")
@click.option("--exercise", is_flag=True, help="An exercise platform: it receives Exercise and Test alerts.")
def add_broadcast(county_code: str, url: str, secret: str, name: str | None, exercise: bool) -> None:
    """Add a county's emergency-broadcast platform."""
    try:
        endpoint, _ = registry.add_broadcast_endpoint(db.session, None, "cli", county_code, url, secret, name, exercise)
    except registry.RegistryError as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"broadcast endpoint {endpoint.id} added: {endpoint.county_code} {endpoint.name} {endpoint.url}"
               f"{target_flags(endpoint)}")


@endpoints_cli.command("add-beidou")
@click.option("--county", "county_code", required=True, metavar="CODE", help="The county's 6-digit code.")
@click.option("--card", required=True, metavar="ADDRESS", help="The terminal's 7-digit BeiDou card address.")
@click.option("--township", metavar="CODE", help="The 12-digit township code where it stands.")
@click.option("--name", help="[default: the county's name + 北斗终端 + the card]")
@click.option("--group", "is_group", is_flag=True, help="A group (broadcast) address.")
@click.option("--exercise", is_flag=True, help="An exercise terminal: it receives Exercise and Test alerts.")
def add_beidou(county_code: str, card: str, township: str | None, name: str | None, is_group: bool,
               exercise: bool) -> None:
    """Add a BeiDou terminal."""
    try:
        terminal = registry.add_beidou_terminal(db.session, None, "cli", county_code, card, township, name, is_group,
                                                exercise)
    except registry.RegistryError as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"BeiDou terminal {terminal.id} added: {terminal.county_code} {terminal.township_code or '-'} "
               f"{terminal.card_address} {terminal.name}{target_flags(terminal)}")


@endpoints_cli.command("list")
def list_endpoints() -> None:
    """Broadcast endpoints and BeiDou terminals (secrets are never shown)."""
    endpoints = db.session.scalars(select(BroadcastEndpoint).order_by(BroadcastEndpoint.county_code,
                                                                      BroadcastEndpoint.id)).all()
    terminals = db.session.scalars(select(BeidouTerminal).order_by(BeidouTerminal.county_code,
                                                                   BeidouTerminal.id)).all()
    click.echo(f"broadcast endpoints: {len(endpoints)}")
    for endpoint in endpoints:
        click.echo(f"  {endpoint.id:>4}  {endpoint.county_code}  {endpoint.name}  {endpoint.url}{target_flags(endpoint)}")
    click.echo(f"BeiDou terminals: {len(terminals)}")
    for terminal in terminals:
        click.echo(f"  {terminal.id:>4}  {terminal.county_code}  {terminal.township_code or '-':<12}  "
                   f"{terminal.card_address}  {terminal.name}{target_flags(terminal)}")


def _remove(model: type[BroadcastEndpoint] | type[BeidouTerminal], target_id: int) -> None:
    target = db.session.get(model, target_id)
    label = registry.TARGET_KINDS[model][1]
    if target is None:
        raise click.ClickException(f"no {label} with id {target_id} (see `flask endpoints list`)")
    try:
        registry.deactivate_target(db.session, None, "cli", target)
    except registry.RegistryError as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"{label} {target_id} ({target.name}) deactivated: no new alert reaches it; its history is kept")


REMOVABLE = {"broadcast": BroadcastEndpoint, "beidou": BeidouTerminal}


@endpoints_cli.command("remove")
@click.argument("kind", type=click.Choice(sorted(REMOVABLE)))
@click.argument("target_id", metavar="ID", type=int)
def remove(kind: str, target_id: int) -> None:
    """Deactivate a broadcast endpoint or a BeiDou terminal by its id (see `flask endpoints list`)."""
    _remove(REMOVABLE[kind], target_id)
