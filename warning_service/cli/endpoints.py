"""`flask endpoints ...`: the county broadcast platforms and BeiDou terminals alerts reach.

A platform's signing secret is stored (the adapter signs with it) but never printed or put
in an audit event. Removing deactivates: the row stays, so delivery history still names it.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.events import record
from ..extensions import db
from ..models import BeidouTerminal, BroadcastEndpoint, County

_CARD_RE = re.compile(r"\d{7}")
_TOWNSHIP_RE = re.compile(r"\d{12}")
_MAX_NAME = 120
_MAX_URL = 500
# Per kind of target: its audit action prefix and what the output calls it.
_KINDS = {BroadcastEndpoint: ("broadcast_endpoint", "broadcast endpoint"),
          BeidouTerminal: ("beidou_terminal", "BeiDou terminal")}

endpoints_cli = AppGroup("endpoints", help="Manage the county broadcast platforms and BeiDou terminals.")


def county_of(code: str) -> County:
    county = db.session.get(County, code.strip())
    if county is None:
        raise click.BadParameter(f"{code!r} is not one of the 31 counties of Garzê and Ngawa "
                                 "(its 6-digit code, e.g. 513301; see `flask seed regions`)", param_hint="--county")
    return county


def checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > _MAX_URL:
        raise click.BadParameter(f"give the platform's http:// or https:// URL (at most {_MAX_URL} characters)",
                                 param_hint="--url")
    return url


def checked_name(name: str | None, default: str) -> str:
    name = (name or "").strip() or default
    if len(name) > _MAX_NAME:
        raise click.BadParameter(f"a name has at most {_MAX_NAME} characters", param_hint="--name")
    return name


def add_broadcast_endpoint(session: Session, county: County, url: str, secret: str, name: str,
                           exercise: bool) -> BroadcastEndpoint:
    endpoint = BroadcastEndpoint(county_code=county.code, name=name, url=url, secret=secret, exercise=exercise)
    session.add(endpoint)
    session.flush()
    record(session, None, "broadcast_endpoint.add", endpoint, via="cli", county=county.code, name=name, url=url,
           exercise=exercise)
    return endpoint


def add_beidou_terminal(session: Session, county: County, card: str, township: str | None, name: str,
                        is_group: bool, exercise: bool) -> BeidouTerminal:
    terminal = BeidouTerminal(card_address=card, county_code=county.code, township_code=township, name=name,
                              is_group=is_group, exercise=exercise)
    session.add(terminal)
    session.flush()
    record(session, None, "beidou_terminal.add", terminal, via="cli", county=county.code, card=card,
           township=township, name=name, is_group=is_group, exercise=exercise)
    return terminal


def deactivate(session: Session, target: BroadcastEndpoint | BeidouTerminal) -> None:
    target.active = False
    record(session, None, f"{_KINDS[type(target)][0]}.deactivate", target, via="cli", name=target.name)


def _flags(target: BroadcastEndpoint | BeidouTerminal) -> str:
    flags = [label for label, on in (("group", getattr(target, "is_group", False)), ("exercise", target.exercise),
                                     ("inactive", not target.active)) if on]
    return f" ({', '.join(flags)})" if flags else ""


@endpoints_cli.command("add-broadcast")
@click.option("--county", "county_code", required=True, metavar="CODE", help="The county's 6-digit code.")
@click.option("--url", required=True, help="The platform's URL for EBM packages (http or https).")
@click.option("--secret", prompt="Signing secret", hide_input=True,
              help="The key the platform checks our signatures with (asked for, hidden, when not given).")
@click.option("--name", help="[default: the county's name + 应急广播平台]")
@click.option("--exercise", is_flag=True, help="An exercise platform: it receives Exercise and Test alerts.")
def add_broadcast(county_code: str, url: str, secret: str, name: str | None, exercise: bool) -> None:
    """Add a county's emergency-broadcast platform."""
    county = county_of(county_code)
    url = checked_url(url)
    if not secret.strip():
        raise click.BadParameter("the signing secret cannot be empty", param_hint="--secret")
    name = checked_name(name, f"{county.name_zh}应急广播平台")
    same_url = select(BroadcastEndpoint.id).where(BroadcastEndpoint.url == url, BroadcastEndpoint.active)
    if (existing := db.session.scalar(same_url)) is not None:
        raise click.ClickException(f"active broadcast endpoint {existing} already has the URL {url}")
    endpoint = add_broadcast_endpoint(db.session, county, url, secret, name, exercise)
    db.session.commit()
    click.echo(f"broadcast endpoint {endpoint.id} added: {county.code} {name} {url}{_flags(endpoint)}")


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
    county = county_of(county_code)
    card = card.strip()
    if not _CARD_RE.fullmatch(card):
        raise click.BadParameter("a BeiDou card address has 7 digits", param_hint="--card")
    if township is not None and not (_TOWNSHIP_RE.fullmatch(township) and township.startswith(county.code)):
        raise click.BadParameter(f"a township code has 12 digits and begins with its county's code {county.code}",
                                 param_hint="--township")
    name = checked_name(name, f"{county.name_zh}北斗终端 {card}")
    existing = db.session.scalar(select(BeidouTerminal).where(BeidouTerminal.card_address == card))
    if existing is not None:
        raise click.ClickException(f"card {card} is already terminal {existing.id}{_flags(existing)}")
    terminal = add_beidou_terminal(db.session, county, card, township, name, is_group, exercise)
    db.session.commit()
    click.echo(f"BeiDou terminal {terminal.id} added: {county.code} {township or '-'} {card} {name}{_flags(terminal)}")


@endpoints_cli.command("list")
def list_endpoints() -> None:
    """Broadcast endpoints and BeiDou terminals (secrets are never shown)."""
    endpoints = db.session.scalars(select(BroadcastEndpoint).order_by(BroadcastEndpoint.county_code,
                                                                      BroadcastEndpoint.id)).all()
    terminals = db.session.scalars(select(BeidouTerminal).order_by(BeidouTerminal.county_code,
                                                                   BeidouTerminal.id)).all()
    click.echo(f"broadcast endpoints: {len(endpoints)}")
    for endpoint in endpoints:
        click.echo(f"  {endpoint.id:>4}  {endpoint.county_code}  {endpoint.name}  {endpoint.url}{_flags(endpoint)}")
    click.echo(f"BeiDou terminals: {len(terminals)}")
    for terminal in terminals:
        click.echo(f"  {terminal.id:>4}  {terminal.county_code}  {terminal.township_code or '-':<12}  "
                   f"{terminal.card_address}  {terminal.name}{_flags(terminal)}")


def _remove(model: type[BroadcastEndpoint] | type[BeidouTerminal], target_id: int) -> None:
    target = db.session.get(model, target_id)
    label = _KINDS[model][1]
    if target is None:
        raise click.ClickException(f"no {label} with id {target_id} (see `flask endpoints list`)")
    if not target.active:
        raise click.ClickException(f"{label} {target_id} ({target.name}) is already inactive")
    deactivate(db.session, target)
    db.session.commit()
    click.echo(f"{label} {target_id} ({target.name}) deactivated: no new alert reaches it; its history is kept")


REMOVABLE = {"broadcast": BroadcastEndpoint, "beidou": BeidouTerminal}


@endpoints_cli.command("remove")
@click.argument("kind", type=click.Choice(sorted(REMOVABLE)))
@click.argument("target_id", metavar="ID", type=int)
def remove(kind: str, target_id: int) -> None:
    """Deactivate a broadcast endpoint or a BeiDou terminal by its id (see `flask endpoints list`)."""
    _remove(REMOVABLE[kind], target_id)
