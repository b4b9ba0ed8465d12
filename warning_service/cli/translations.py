"""`flask translations list|propose|approve|return|export`: the translation desk for scripts.

The same rules and ledger entries as the console's desk (services/translations.py). A step is taken as a
named translator (`--as`), so the four-eyes rule holds here too.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..models import EntryStatus, TranslationEntry, User
from ..reference_data import REGIONS_DIR
from ..rendering.render import TEMPLATES_ROOT
from ..services import translations
from .agency import refused

translations_cli = AppGroup("translations", help="The translation desk: the Tibetan the public receives.")

_OPTIONS = {"key": "KEY", "bo": "TIBETAN", "comment": "--comment", "user": "--as"}


def _user(name: str) -> User:
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    return user


def _pending(key: str):
    entry = translations.entry_by_key(db.session, key)
    proposal = translations.pending(entry)
    if proposal is None:
        raise click.ClickException(f"{key}: no proposal waits for review")
    return proposal


@translations_cli.command("list")
@click.option("--hazard", help="Only this hazard's entries (its code).")
@click.option("--channel", help="Only entries used in this text (sms, broadcast, beidou, cell_broadcast, ...).")
@click.option("--status", type=click.Choice([status.value for status in EntryStatus]))
@click.option("--kind", help="hazard, action, level, term, place or catalog.")
def list_entries(hazard: str | None, channel: str | None, status: str | None, kind: str | None) -> None:
    """One line per entry, missing first: status, key, Chinese, Tibetan (or -)."""
    entries = translations.list_entries(db.session, hazard=hazard, channel=channel, status=status, kind=kind)
    db.session.commit()
    for entry in entries:
        waiting = translations.pending(entry)
        extra = f" (v{waiting.version} proposed: {waiting.bo})" if waiting else ""
        click.echo(f"{entry.status.value}\t{entry.key}\t{entry.zh}\t{entry.bo or '-'}{extra}")


@translations_cli.command("propose")
@click.option("--as", "username", required=True, help="The proposing translator.")
@click.argument("key")
@click.argument("tibetan")
def propose(username: str, key: str, tibetan: str) -> None:
    """Propose TIBETAN for the entry KEY (e.g. action:flash_flood:red); a second translator approves it."""
    try:
        entry = translations.entry_by_key(db.session, key)
        proposal, fits = translations.propose(db.session, _user(username), "cli", entry, tibetan, current_app.config)
    except translations.TranslationRefused as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"{key}: version {proposal.version} proposed by {username}")
    for fit in fits:
        click.echo(f"  {fit.text}: {fit.measure.describe()}{'' if fit.fits else ' OVER BUDGET'}")


@translations_cli.command("approve")
@click.option("--as", "username", required=True, help="The reviewing translator (not the proposer).")
@click.argument("key")
def approve(username: str, key: str) -> None:
    """Approve the proposal waiting for KEY: rendering uses it at once."""
    try:
        entry = translations.approve(db.session, _user(username), "cli", _pending(key))
    except translations.TranslationRefused as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"{key}: approved by {username}: {entry.bo}")


@translations_cli.command("return")
@click.option("--as", "username", required=True, help="The reviewing translator (not the proposer).")
@click.option("--comment", required=True, help="Why it goes back.")
@click.argument("key")
def return_proposal(username: str, comment: str, key: str) -> None:
    """Return the proposal waiting for KEY to its proposer with a comment."""
    try:
        translations.return_proposal(db.session, _user(username), "cli", _pending(key), comment)
    except translations.TranslationRefused as error:
        raise refused(error, _OPTIONS) from None
    db.session.commit()
    click.echo(f"{key}: returned by {username}")


@translations_cli.command("export")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), default=TEMPLATES_ROOT,
              show_default=True, help="The template set whose hazards.toml takes the approved entries.")
@click.option("--catalogs", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=translations.CATALOGS, show_default=True,
              help="The console's catalogs, whose bo/LC_MESSAGES/messages.po takes the approved catalog entries.")
@click.option("--regions", type=click.Path(exists=True, file_okay=False, path_type=Path), default=REGIONS_DIR,
              show_default=True, help="The reference data whose counties.csv takes the approved county names.")
def export(root: Path, catalogs: Path, regions: Path) -> None:
    """Write the desk's approved hazard names and actions into ROOT/hazards.toml, its approved catalog entries
    into the bo messages.po (compiled to messages.mo), county names into counties.csv and named areas' names into
    their rows, each with its proposer, reviewer and date as the source; then run `flask templates check --root
    ROOT` and `flask seed regions`."""
    path = root / "hazards.toml"
    text, written = translations.export_hazards(db.session, path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    click.echo(f"{path}: {len(written)} approved entries written")
    for key in written:
        click.echo(f"  {key}")
    po = catalogs / "bo" / "LC_MESSAGES" / "messages.po"
    text, msgids = translations.export_catalog(db.session, po.read_text(encoding="utf-8"))
    po.write_text(text, encoding="utf-8")
    translations.compile_catalog(po, po.with_suffix(".mo"))
    click.echo(f"{po}: {len(msgids)} approved catalog entries written, compiled to {po.with_suffix('.mo').name}")
    for msgid in msgids:
        click.echo(f"  {msgid}")
    counties = regions / "counties.csv"
    with open(counties, encoding="utf-8", newline="") as handle:
        text, keys = translations.export_counties(db.session, handle.read())
    with open(counties, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    click.echo(f"{counties}: {len(keys)} approved place names written (`flask seed regions` loads them)")
    keys = translations.export_named_areas(db.session)
    db.session.commit()
    click.echo(f"named areas: {len(keys)} approved Tibetan names written into their rows (the ledger has each source)")
    for key in keys:
        click.echo(f"  {key}")
    exported = translations.EXPORTED_KINDS | translations.CATALOG_KINDS
    left = db.session.scalars(select(TranslationEntry.key).where(
        TranslationEntry.approved_by_id.is_not(None), TranslationEntry.kind.not_in(exported)))
    for key in left:
        click.echo(f"  {key}: kept in the database only (no file takes this kind yet)")
