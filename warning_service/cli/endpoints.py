"""`flask endpoints ...`: the targets admins register one at a time, of every channel that has such
(channels/spec.py TargetKind: county broadcast platforms, BeiDou terminals): `add-<kind>`, `list`,
`remove <kind> ID`, built from each kind's fields.

A target's secret is stored (the adapter signs with it) but never printed or put in an audit
event. Removing deactivates: the row stays, so delivery history still names it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import directory
from ..channels.catalog import target_kinds
from ..channels.spec import FormField, TargetKind
from ..extensions import db
from ..registration import RegistryError, target_flags
from .agency import refused

endpoints_cli = AppGroup("endpoints", help="Manage the targets registered one by one: "
                                           + ", ".join(kind.nouns for kind in target_kinds()) + ".")


def _options(kind: TargetKind) -> dict[str, str]:
    """Which option each field of a RegistryError comes from."""
    return {"county": "--county", "name": "--name", "id": "ID",
            **{field.name: f"--{field.option or field.name}" for field in kind.fields}}


def _add_command(kind: TargetKind) -> None:
    """`flask endpoints add-<kind>`: its county, its own fields as options, a name and the exercise mark."""
    def add(county_code: str, name: str | None, exercise: bool, **values: Any) -> None:
        try:
            target, _ = directory.add_target(db.session, None, "cli", kind, county_code, name, exercise, values)
        except RegistryError as error:
            raise refused(error, _options(kind)) from None
        db.session.commit()
        click.echo(f"{kind.noun} {target.id} added: {' '.join(kind.describe(target))}{target_flags(target)}")

    options = [
        click.option("--county", "county_code", required=True, metavar="CODE", help="The county's 6-digit code."),
        *(_option(field) for field in kind.fields if not field.edit_only),
        click.option("--name", help="[default: from the county]"),
        click.option("--exercise", is_flag=True, help="An exercise target: it receives Exercise and Test alerts."),
    ]
    for option in reversed(options):
        add = option(add)
    endpoints_cli.command(f"add-{kind.path}", help=f"Add a {kind.noun}.")(add)


def _option(field: FormField) -> Callable[[Callable[..., None]], Callable[..., None]]:
    name = f"--{field.option or field.name}"
    if field.kind == "flag":
        return click.option(name, field.name, is_flag=True, help=field.help)
    return click.option(name, field.name, metavar=field.metavar, required=field.required and not field.prompt,
                        prompt=field.prompt or False, hide_input=field.kind == "secret", help=field.help)


@endpoints_cli.command("list")
def list_endpoints() -> None:
    """Every registered target of each kind (secrets are never shown)."""
    for kind in target_kinds():
        targets = db.session.scalars(select(kind.model).order_by(kind.model.county_code, kind.model.id)).all()
        click.echo(f"{kind.nouns}: {len(targets)}")
        for target in targets:
            click.echo(f"  {target.id:>4}  {'  '.join(kind.describe(target))}{target_flags(target)}")


@endpoints_cli.command("remove")
@click.argument("kind_path", metavar="KIND", type=click.Choice([kind.path for kind in target_kinds()]))
@click.argument("target_id", metavar="ID", type=int)
def remove(kind_path: str, target_id: int) -> None:
    """Deactivate a target of a kind by its id (see `flask endpoints list`)."""
    kind = next(kind for kind in target_kinds() if kind.path == kind_path)
    target = db.session.get(kind.model, target_id)
    if target is None:
        raise click.ClickException(f"no {kind.noun} with id {target_id} (see `flask endpoints list`)")
    try:
        directory.deactivate_target(db.session, None, "cli", kind, target)
    except RegistryError as error:
        raise refused(error, _options(kind)) from None
    db.session.commit()
    click.echo(f"{kind.noun} {target_id} ({target.name}) deactivated: no new alert reaches it; its history is kept")


for _kind in target_kinds():
    _add_command(_kind)
