"""`flask user ...`: console accounts.

Passwords come from standard input, never from the command line, where they
would end up in the shell history and the process list.
"""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import Role, User
from ..security import accounts, mfa
from ..security.accounts import AccountRefused

ROLE_CHOICE = click.Choice([role.value for role in Role])

user_cli = AppGroup("user", help="Manage console accounts.")


def read_password() -> str:
    """The first line of stdin; at a terminal, a hidden prompt asked twice."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True, default="", show_default=False)
    return sys.stdin.readline().rstrip("\r\n")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user named {username!r}")
    return user


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=ROLE_CHOICE, help="What the user may do in the console.")
def create_user(username: str, role: str) -> None:
    """Create a console user; the password is read from standard input (first line)."""
    try:
        username = accounts.checked_username(db.session, username)  # before a password is asked for
    except AccountRefused as refused:
        if refused.code == "username_length":
            raise click.BadParameter(str(refused), param_hint="USERNAME") from None
        raise click.ClickException(str(refused)) from None
    password = read_password()
    if not password:
        raise click.ClickException("empty password: pass it on standard input, e.g. `... < password-file`")
    try:
        accounts.create_user(db.session, None, "cli", username, Role(role), password)
    except AccountRefused as refused:
        raise click.ClickException(str(refused)) from None
    db.session.commit()
    click.echo(f"user {username!r} created with role {role}")


@user_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
def set_role(username: str, role: str) -> None:
    """Change a user's role."""
    previous = accounts.set_role(db.session, None, "cli", _user(username), Role(role))
    db.session.commit()
    click.echo(f"user {username!r}: role {previous.value} -> {role}")


@user_cli.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Stop a user signing in; the account and its history stay."""
    try:
        accounts.deactivate(db.session, None, "cli", _user(username))
    except AccountRefused as refused:
        click.echo(str(refused))  # nothing to do, which is no error
        return
    db.session.commit()
    click.echo(f"user {username!r} deactivated; their sessions have ended")


@user_cli.command("reset-mfa")
@click.argument("username")
def reset_mfa(username: str) -> None:
    """Forget a user's second factor (a lost phone) and end their sessions; they enrol again at sign-in."""
    user = _user(username)
    mfa.reset(db.session, None, "cli", user)
    db.session.commit()
    click.echo(f"user {username!r}: second factor reset; they enrol again at their next sign-in")
