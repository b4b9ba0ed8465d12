"""The ledger's head, signed at intervals and kept twice, so its tail cannot be cut or forged unseen.

The hash chain alone catches a change inside the ledger, but not the newest entries deleted, nor an
entry appended with a correctly computed hash: whoever can write the database can do both. So the
reconciler signs the head (the last entry's id and hash) with the Ed25519 key once per interval when
it moved, and keeps each signed head twice: a row in `signed_heads` and a file in a directory outside
the database. `check_tail` then checks the ledger against the latest genuine signed head: entries
deleted after it was signed, or another entry in its place, are named; entries after it are only
"not yet covered by a signature". The two copies are compared, so deleting either is named too.
Signing is not itself a ledger entry: it would move the head it signs. No Flask here.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditEvent, SignedHead
from ..rendering.formatting import beijing_time
from .ledger import head, stored_hash
from .signing import SigningError, checked_head, load_public_key, read_signed_head, sign_head

FILE_NAME = re.compile(r"head-\d{15}-\d{8}T\d{12}Z\.json")


def sign_if_moved(session: Session, key: Ed25519PrivateKey, directory: Path, now: datetime) -> dict | None:
    """Sign the head unless the latest signed head is the head already; the document, or None.

    The file is written first: a crash before the row commits leaves a file the database lacks
    (named by `check_tail`) until the next pass signs again, since the database's head still differs."""
    last = head(session)
    if last is None:
        return None
    latest = latest_in_database(session)
    if latest is not None and (latest.get("entry"), latest.get("hash")) == (last.entry_id, last.hash):
        return None
    document = sign_head(key, last.entry_id, last.hash, last.at, now)
    write_head_file(directory, document)
    session.add(SignedHead(entry_id=last.entry_id, signed_at=now, document=json.dumps(document)))
    session.commit()
    return document


def write_head_file(directory: Path, document: dict) -> Path:
    """One file per signed head, named so the latest sorts last; written whole or not at all."""
    signed_at = datetime.fromisoformat(document["signed_at"])
    path = directory / f"head-{document['entry']:015d}-{signed_at.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=directory, prefix=".head-", suffix=".tmp", delete=False) as temporary:
        temporary.write(json.dumps(document, indent=2) + "\n")
        temporary.flush()
        os.fsync(temporary.fileno())
    os.replace(temporary.name, path)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)  # the new name survives a power cut too
    finally:
        os.close(descriptor)
    return path


def latest_file(directory: Path) -> Path | None:
    if not directory.is_dir():
        return None
    names = [entry.name for entry in os.scandir(directory) if FILE_NAME.fullmatch(entry.name)]
    return directory / max(names) if names else None


def latest_in_database(session: Session) -> dict | None:
    """The latest signed head's document as the database holds it (not checked: see `check_tail`)."""
    text = session.scalar(select(SignedHead.document).order_by(SignedHead.id.desc()).limit(1))
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"unreadable": text}


def signed_when(document: dict) -> str:
    return f"{beijing_time(datetime.fromisoformat(document['signed_at']), seconds=True)} (Beijing time)"


def held_against(session: Session, document: dict) -> str | None:
    """What the ledger's tail lost against a genuine signed head; None if it still holds that entry
    with that hash (the chain up to it is `ledger.verify`'s to check)."""
    entry_id, when = document["entry"], signed_when(document)
    held = stored_hash(session, entry_id)
    if held is None:
        last = session.scalar(select(func.max(AuditEvent.id)))
        if last is not None and last > entry_id:
            return f"the ledger no longer holds entry {entry_id}, signed as its head at {when}: it was deleted"
        if last is None:
            gone = f"every entry up to {entry_id}"
        else:
            gone = f"entries {last + 1}..{entry_id}" if last + 1 < entry_id else f"entry {entry_id}"
        return f"{gone} deleted after the head was signed at {when}: the ledger no longer holds entry {entry_id}"
    if held != document["hash"]:
        return (f"entry {entry_id} has another hash than when it was signed as the head at {when}: the ledger was "
                "rewritten, or a forged entry put in its place")
    return None


@dataclass
class TailCheck:
    """The ledger's tail against its latest signed head."""
    head: dict | None = None   # the latest genuine signed head, the one the ledger was checked against
    covered: int = 0           # entries up to it
    uncovered: int = 0         # entries after it: not yet covered by a signature
    problems: list[str] = field(default_factory=list)


def check_tail(session: Session, directory: Path, public_key_path: Path) -> TailCheck:
    """Find the latest signed head in `directory` and in the database, check both signatures and that
    they agree, then check the ledger's tail against the later genuine one."""
    check = TailCheck()
    path, stored = latest_file(directory), latest_in_database(session)
    if path is not None or stored is not None:
        try:
            key = load_public_key(public_key_path)
        except SigningError as error:
            check.problems.append(f"cannot check the signed heads: {error}")
            return check
        from_file = _genuine(check, lambda: read_signed_head(path, key)) if path else None
        from_database = _genuine(check, lambda: checked_head(stored, key, "the database's latest signed head")) \
            if stored is not None else None
        if (from_file is not None or path is None) and (from_database is not None or stored is None):
            check.problems += _disagreement(from_file, from_database, directory)  # else: a forgery, named
        genuine = [document for document in (from_file, from_database) if document is not None]
        check.head = max(genuine, key=_newness, default=None)
    after = check.head["entry"] if check.head else 0
    if check.head and (problem := held_against(session, check.head)) is not None:
        check.problems.append(problem)
    check.covered = session.scalar(select(func.count()).where(AuditEvent.id <= after)) if check.head else 0
    check.uncovered = session.scalar(select(func.count()).where(AuditEvent.id > after))
    return check


def _newness(document: dict | None) -> tuple[int, str]:
    """Later entry first, then later signature (ISO times in UTC sort as text); no document is oldest."""
    return (document["entry"], document["signed_at"]) if document else (-1, "")


def _genuine(check: TailCheck, read: Callable[[], dict]) -> dict | None:
    try:
        return read()
    except SigningError as error:
        check.problems.append(str(error))
        return None


def _disagreement(from_file: dict | None, from_database: dict | None, directory: Path) -> list[str]:
    """The two copies of the latest signed head must be the same document; say which one lost what."""
    if from_file == from_database:
        return []
    if _newness(from_database) > _newness(from_file):
        return [f"{directory} has no file of the head signed at {signed_when(from_database)} (entry "
                f"{from_database['entry']}) that the database holds: a head file was deleted, or could not be written"]
    if _newness(from_file) > _newness(from_database):
        return [f"the database no longer holds the head signed at {signed_when(from_file)} (entry "
                f"{from_file['entry']}) that {directory} keeps: its signed heads were deleted or rewritten"]
    return [f"the database's latest signed head and {directory}'s differ for the same entry and time: one was replaced"]
