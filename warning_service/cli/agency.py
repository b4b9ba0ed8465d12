"""`flask agency ...`: register agencies and manage their API keys.

A new key is printed once, as the last line of output, so scripts can take it
with `tail -n 1`; only its digest is stored.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .. import directory
from ..extensions import db
from ..models import Agency, AgencyKind, ApiKey
from ..registration import RegistryError
from ..security.api_keys import issue_agency_key, revoke_agency_key

agency_cli = AppGroup("agency", help="Register agencies and manage their API keys.")

# Which option each field of a RegistryError comes from.
_OPTIONS = {"name": "NAME", "kind": "--kind", "hazards": "--hazards", "senders": "--sender"}


def refused(error: RegistryError, options: dict[str, str]) -> click.ClickException:
    """The registry's refusal as click says it: a bad option, or a clash with what is registered."""
    if error.conflict:
        return click.ClickException(error.message)
    return click.BadParameter(error.message, param_hint=options.get(error.field))


def _agency(name: str) -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.name == name))
    if agency is None:
        raise click.ClickException(f"no agency named {name!r} (see `flask agency list`)")
    return agency


def _live_keys(agency: Agency) -> list[ApiKey]:
    return [key for key in agency.api_keys if key.revoked_at is None]


@agency_cli.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice([kind.value for kind in AgencyKind]),
              help="What kind of agency this is.")
@click.option("--hazards", "hazards_text", required=True, metavar="CODES",
              help="Comma-separated hazard codes the agency may issue, or 'all'.")
@click.option("--auto-publish", is_flag=True,
              help="Publish this agency's alerts without a duty officer (earthquake early warning).")
@click.option("--sender", "senders", multiple=True, metavar="SENDER",
              help="A CAP <sender> the agency posts as (repeat for several; the first is its JSON alerts' default) "
                   "[default: KIND.RANDOM@agencies.ews.local].")
def create_agency(name: str, kind: str, hazards_text: str, auto_publish: bool, senders: tuple[str, ...]) -> None:
    """Register an agency and print its first API key (shown once)."""
    try:
        agency, key = directory.create_agency(db.session, None, "cli", name, kind, hazards_text, auto_publish, senders,
                                              reserved_senders=directory.service_senders(current_app.config))
    except RegistryError as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    hazards = agency.hazards
    click.echo(f"agency {agency.name!r} created (id {agency.id}, kind {kind}, "
               f"auto-publish {'yes' if auto_publish else 'no'})")
    click.echo(f"hazards: {', '.join(hazards)}")
    click.echo(f"CAP senders: {', '.join(agency.cap_senders)}")
    click.echo("API key (shown once, store it now):")
    click.echo(key)


@agency_cli.command("senders")
@click.argument("name")
@click.argument("senders", nargs=-1)
def agency_senders(name: str, senders: tuple[str, ...]) -> None:
    """Show the agency's CAP senders, or, given SENDERS, make them exactly these (the first is the default)."""
    agency = _agency(name)
    if senders:
        try:
            changes = directory.set_agency_senders(db.session, None, "cli", agency, senders,
                                                   reserved_senders=directory.service_senders(current_app.config))
        except RegistryError as error:
            raise refused(error, {"senders": "SENDERS"}) from None
        db.session.commit()
        click.echo(f"CAP senders of {agency.name!r} {'changed' if changes else 'unchanged'}")
    click.echo("\n".join(agency.cap_senders))


@agency_cli.command("rotate-key")
@click.argument("name")
def rotate_key(name: str) -> None:
    """Issue another key; the older keys stay live until revoked."""
    agency = _agency(name)
    key = issue_agency_key(db.session, agency)
    db.session.commit()
    click.echo(f"new key for {agency.name!r}; older keys stay live until "
               f"`flask agency revoke-key {agency.name!r} --all-but-newest`")
    click.echo("API key (shown once, store it now):")
    click.echo(key)


@agency_cli.command("revoke-key")
@click.argument("name")
@click.option("--prefix", help="Revoke the live key with this prefix (see `flask agency list`).")
@click.option("--all-but-newest", is_flag=True, help="Revoke every live key except the newest.")
def revoke_key(name: str, prefix: str | None, all_but_newest: bool) -> None:
    """Revoke one key by prefix, or all but the newest."""
    if bool(prefix) == all_but_newest:
        raise click.UsageError("give exactly one of --prefix or --all-but-newest")
    agency = _agency(name)
    live = _live_keys(agency)
    if prefix:
        doomed = [key for key in live if key.prefix == prefix]
        if not doomed:
            raise click.ClickException(f"{agency.name!r} has no live key with prefix {prefix!r}")
    else:
        doomed = live[:-1]
    for key in doomed:
        revoke_agency_key(db.session, key)
    db.session.commit()
    click.echo(f"revoked {len(doomed)} key(s) of {agency.name!r}: {', '.join(k.prefix for k in doomed) or '-'}; "
               f"{len(live) - len(doomed)} live")


@agency_cli.command("list")
def list_agencies() -> None:
    """Agencies with their kind, hazards, auto-publish and live key prefixes."""
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    if not agencies:
        click.echo("no agencies (add one with `flask agency create`)")
    for agency in agencies:
        keys = ", ".join(key.prefix for key in _live_keys(agency)) or "none"
        click.echo(f"{agency.name}{'' if agency.active else ' (inactive)'}\n"
                   f"  kind: {agency.kind.value}  auto-publish: {'yes' if agency.auto_publish else 'no'}  "
                   f"senders: {', '.join(agency.cap_senders)}\n"
                   f"  hazards: {', '.join(agency.hazards)}\n"
                   f"  live keys: {keys}")
