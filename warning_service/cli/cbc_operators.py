"""`flask endpoints add-cbc | list-cbc | remove-cbc`: the operators' Cell Broadcast Centres.

The same rules and ledger entries as the admin page (services/cbc_operators.py). The bearer token and
the callback secret are stored (the adapter and the webhook need them) but never printed or audited.
Removing deactivates: what the operator was sent stays on record, and its code is never reused.
"""
from __future__ import annotations

import click

from ..extensions import db
from ..models.cbc_operator import DEFAULT_MAX_VERTICES
from ..services import cbc_operators
from .agency import refused
from .endpoints import endpoints_cli

# Which option each field of a CbcOperatorRefused comes from.
_OPTIONS = {"code": "--operator", "name": "--name", "url": "--url", "failover_url": "--failover-url",
            "token": "--token", "callback_secret": "--callback-secret", "max_vertices": "--max-vertices",
            "identifiers": "--identifier"}


@endpoints_cli.command("add-cbc")
@click.option("--operator", "code", required=True, metavar="CODE",
              help="The operator's short ASCII slug, e.g. cmcc; its callbacks come to /webhooks/cbc/CODE/status.")
@click.option("--name", required=True, help="The operator's name, e.g. 中国移动.")
@click.option("--url", required=True, help="The CBC's URL for CAP messages (http or https).")
@click.option("--failover-url", help="The CBC's second URL, tried at once when the first fails.")
@click.option("--token", prompt="Bearer token", hide_input=True,
              help="The bearer token the CBC expects (asked for, hidden, when not given).")
@click.option("--callback-secret", prompt="Callback secret", hide_input=True,
              help="The key the CBC signs its status callbacks with (asked for, hidden, when not given).")
@click.option("--max-vertices", type=int, metavar="N",
              help=f"The most polygon points the CBC accepts [default: {DEFAULT_MAX_VERTICES}].")
@click.option("--identifier", "identifiers", multiple=True, metavar="KEY=FIRST,ADDITIONAL",
              help="This operator's own CBS message identifiers for one key, e.g. red=4370,4383 (repeatable).")
@click.option("--exercise", is_flag=True, help="An exercise CBC: it receives Exercise messages and link tests only.")
def add_cbc(code: str, name: str, url: str, failover_url: str | None, token: str, callback_secret: str,
            max_vertices: int | None, identifiers: tuple[str, ...], exercise: bool) -> None:
    """Register an operator's Cell Broadcast Centre."""
    try:
        operator = cbc_operators.add_operator(
            db.session, None, "cli", code=code, name=name, url=url, failover_url=failover_url, token=token,
            callback_secret=callback_secret, max_vertices=max_vertices, exercise=exercise, identifiers=identifiers)
    except cbc_operators.CbcOperatorRefused as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"CBC {operator.code} added: {operator.name} {operator.url}"
               f"{' failover ' + operator.failover_url if operator.failover_url else ''}, "
               f"at most {operator.max_vertices} vertices{cbc_operators.operator_flags(operator)}")


@endpoints_cli.command("list-cbc")
def list_cbc() -> None:
    """The operators' CBCs (tokens and secrets are never shown)."""
    operators = cbc_operators.operators(db.session)
    click.echo(f"cell broadcast centres: {len(operators)}")
    for operator in operators:
        link = ("link not tested" if operator.link_checked_at is None
                else "link DOWN" if operator.link_down else "link up")
        click.echo(f"  {operator.code:<12} {operator.name}  {operator.url}  failover {operator.failover_url or '-'}  "
                   f"max {operator.max_vertices} vertices  {link}{cbc_operators.operator_flags(operator)}")


@endpoints_cli.command("remove-cbc")
@click.argument("code")
def remove_cbc(code: str) -> None:
    """Deactivate an operator's CBC by its code: no new alert goes to it."""
    operator = cbc_operators.operator_by_code(db.session, code)
    if operator is None:
        raise click.ClickException(f"no CBC {code!r} (see `flask endpoints list-cbc`)")
    try:
        cbc_operators.deactivate_operator(db.session, None, "cli", operator)
    except cbc_operators.CbcOperatorRefused as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"CBC {code} ({operator.name}) deactivated: no new alert goes to it; its history is kept")
