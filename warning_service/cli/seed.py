"""`flask seed ...`: reference regions and the demo data set."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .. import demo_data
from ..audit.events import record
from ..extensions import db
from ..intake.limits import IntakeLimits
from ..models import (
    Agency,
    BeidouTerminal,
    BroadcastEndpoint,
    CbcOperator,
    County,
    NamedArea,
    Prefecture,
    Recipient,
    User,
)
from ..reference_data import load_regions

seed_cli = AppGroup("seed", help="Load reference data and demo data.")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@seed_cli.command("regions")
def seed_regions() -> None:
    """Load or refresh the 2 prefectures and 31 counties (safe to repeat)."""
    load_regions(db.session)
    db.session.commit()
    click.echo(f"regions: {_count(Prefecture)} prefectures, {_count(County)} counties")


@seed_cli.command("demo")
@click.option("--recipients", "target", type=click.IntRange(min=0), default=3000, show_default=True,
              help="How many synthetic recipients the demo should have (tops up, never deletes).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Shapes how recipients spread over counties, languages and channels.")
def seed_demo(target: int, seed: int) -> None:
    """Add the demo agencies, users, broadcast endpoints, BeiDou terminals, scenic areas, the three operators'
    Cell Broadcast Centres and recipients.

    Running it again adds only what is missing. Everything it adds is fictitious, but for the scenic areas:
    real places, drawn approximately (data/scenic_areas.toml).
    """
    missing = demo_data.missing_counties(db.session)
    if missing:
        raise click.ClickException(f"{len(missing)} counties are not loaded; run `flask seed regions` first")
    added = {
        "agencies": demo_data.ensure_agencies(db.session),
        "users": demo_data.ensure_users(db.session),
        "broadcast_endpoints": demo_data.ensure_broadcast_endpoints(db.session),
        "beidou_terminals": demo_data.ensure_beidou_terminals(db.session),
        "named_areas": demo_data.ensure_named_areas(db.session, IntakeLimits.from_settings(current_app.config)),
        "cbc_operators": demo_data.ensure_cbc_operators(db.session),
    }
    db.session.commit()

    def progress(done: int, total: int) -> None:
        click.echo(f"recipients: {done}/{total}")

    added["recipients"] = demo_data.add_recipients(db.session, target, seed, progress)
    record(db.session, None, "seed.demo", via="cli", seed=seed, recipients=target, added=added)
    db.session.commit()

    totals = {
        "agencies": _count(Agency),
        "users": _count(User),
        "broadcast_endpoints": _count(BroadcastEndpoint),
        "beidou_terminals": _count(BeidouTerminal),
        "named_areas": _count(NamedArea),
        "cbc_operators": _count(CbcOperator),
        "recipients": _count(Recipient),
    }
    for name, total in totals.items():
        click.echo(f"{name}: {total} ({added[name]} new)")
    click.echo("demo logins (demo only, never use these passwords elsewhere):")
    for user in demo_data.DEMO_USERS:
        click.echo(user.login_line())
