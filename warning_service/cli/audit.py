"""`flask audit ...`: check the tamper-evident ledger, seal settled deliveries into it, and export
its head signed, for an outside auditor to check the ledger against later."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..audit.ledger import head, stored_hash, verify
from ..audit.seals import seal_settled
from ..audit.signing import SigningError, generate_key_pair, load_private_key, load_public_key, read_signed_head, sign_head
from ..extensions import db
from ..models import utcnow

audit_cli = AppGroup("audit", help="Check the tamper-evident audit ledger.")
KEY_FILE = "audit-signing-key.pem"


def signing_key_path() -> Path:
    """AUDIT_SIGNING_KEY, or audit-signing-key.pem in the instance folder."""
    return Path(current_app.config["AUDIT_SIGNING_KEY"] or Path(current_app.instance_path) / KEY_FILE)


@audit_cli.command("verify")
def verify_ledger() -> None:
    """Walk the chain and recompute every delivery seal; exit 1 naming the first entry (or delivery)
    that was changed, deleted or inserted."""
    checked, finding = verify(db.session)
    if finding is not None:
        click.echo(f"audit ledger BROKEN after {checked} good entries: {finding}", err=True)
        raise SystemExit(1)
    click.echo(f"audit ledger intact: {checked} entries")


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
    public = private.with_name(private.name.removesuffix(".pem") + ".pub")
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
    held = stored_hash(db.session, entry_id)
    if held is None:
        _fail(f"the ledger no longer holds entry {entry_id}, signed as its head at {document['signed_at']}")
    if held != document["hash"]:
        _fail(f"entry {entry_id} has another hash than when it was signed at {document['signed_at']}: the ledger "
              "was rewritten")
    checked, finding = verify(db.session, upto=entry_id)
    if finding is not None:
        _fail(f"the ledger up to the signed head is BROKEN after {checked} good entries: {finding}")
    click.echo(f"signed head good: entry {entry_id} still has the hash signed at {document['signed_at']}, "
               f"and the {checked} entries up to it verify")


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise SystemExit(1)
