"""`flask audit ...`: check the tamper-evident ledger, seal settled deliveries into it, and export
its head signed, for an outside auditor to check the ledger against later."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..audit.heads import check_tail, held_against, signed_when
from ..audit.ledger import head, verify
from ..audit.seals import seal_settled
from ..audit.signing import SigningError, generate_key_pair, load_private_key, load_public_key, public_key_path, read_signed_head, sign_head
from ..extensions import db
from ..models import utcnow

audit_cli = AppGroup("audit", help="Check the tamper-evident audit ledger.")


def signing_key_path() -> Path:
    """AUDIT_SIGNING_KEY (audit-signing-key.pem in the instance folder unless set)."""
    return Path(current_app.config["AUDIT_SIGNING_KEY"])


@audit_cli.command("verify")
@click.option("--public-key", type=click.Path(path_type=Path, dir_okay=False),
              help="The public key the heads were signed with (default: AUDIT_SIGNING_KEY's .pub beside it).")
def verify_ledger(public_key: Path | None) -> None:
    """Walk the chain and recompute every delivery seal, then check the ledger's tail against the latest
    signed head (LEDGER_HEADS_DIR, compared with the database's copy); exit 1 naming what was changed,
    deleted, inserted or forged. Entries after that head are counted as not yet covered by a signature."""
    checked, finding = verify(db.session)
    tail = check_tail(db.session, Path(current_app.config["LEDGER_HEADS_DIR"]),
                      public_key or public_key_path(signing_key_path()))
    if finding is not None:
        click.echo(f"audit ledger BROKEN after {checked} good entries: {finding}", err=True)
    for problem in tail.problems:
        click.echo(f"audit ledger BROKEN at its tail: {problem}", err=True)
    if finding is not None or tail.problems:
        raise SystemExit(1)
    if tail.head is None:
        click.echo(f"audit ledger intact: {checked} entries, but no signed head yet: all {tail.uncovered} are not yet "
                   "covered by a signature")
        return
    click.echo(f"audit ledger intact: {tail.covered} entries verified up to the head signed at "
               f"{signed_when(tail.head)} (entry {tail.head['entry']}); {tail.uncovered} entries after it not yet "
               "covered by a signature")


@audit_cli.command("seal")
def seal_deliveries() -> None:
    """Seal every settled delivery not sealed yet (the reconciler does this a bounded amount per pass)."""
    click.echo(str(seal_settled(db.session, current_app.config)))


@audit_cli.command("head")
@click.option("--sign", is_flag=True, help="Print the head as JSON signed with the Ed25519 key (AUDIT_SIGNING_KEY).")
@click.option("--key", "key_path", type=click.Path(path_type=Path), help="The private key, instead of AUDIT_SIGNING_KEY.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the signed head to this file.")
def show_head(sign: bool, key_path: Path | None, out: Path | None) -> None:
    """The last entry's id and hash; with --sign, a signed JSON document to give an outside auditor."""
    last = head(db.session)
    if last is None:
        raise click.ClickException("the ledger is empty: there is no head to show or sign")
    if not sign:
        if out or key_path:
            raise click.UsageError("--key and --out go with --sign")
        click.echo(f"{last.entry_id} {last.hash}")
        return
    try:
        key = load_private_key(key_path or signing_key_path())
    except SigningError as error:
        raise click.ClickException(f"{error} (`flask audit generate-key` makes a key pair)") from None
    document = json.dumps(sign_head(key, last.entry_id, last.hash, last.at, utcnow()), indent=2)
    if out is None:
        click.echo(document)
        return
    try:
        out.write_text(document + "\n")
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror}") from None
    click.echo(f"signed head of entry {last.entry_id} written to {out}")


@audit_cli.command("generate-key")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the private key (default: AUDIT_SIGNING_KEY); the public key goes beside it as .pub.")
def generate_key(out: Path | None) -> None:
    """Make the Ed25519 key pair that signs the ledger's head. Give the .pub file to the auditors."""
    private = out or signing_key_path()
    public = public_key_path(private)
    try:
        generate_key_pair(private, public)
    except (SigningError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"private key: {private} (keep it secret, readable by this service only)\npublic key: {public}")


@audit_cli.command("check-head")
@click.argument("signed_head", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--public-key", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The public key the head was signed with (PEM).")
def check_head(signed_head: Path, public_key: Path) -> None:
    """Check a signed head: the signature is good, the ledger still holds that entry with that hash,
    and the chain up to it (with the deliveries it seals) verifies. Exit 1 otherwise."""
    try:
        document = read_signed_head(signed_head, load_public_key(public_key))
    except SigningError as error:
        raise click.ClickException(str(error)) from None
    entry_id = document["entry"]
    if (problem := held_against(db.session, document)) is not None:
        _fail(problem)
    checked, finding = verify(db.session, upto=entry_id)
    if finding is not None:
        _fail(f"the ledger up to the signed head is BROKEN after {checked} good entries: {finding}")
    click.echo(f"signed head good: entry {entry_id} still has the hash signed at {signed_when(document)}, "
               f"and the {checked} entries up to it verify")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise SystemExit(1)
