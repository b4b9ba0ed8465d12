"""The tamper-evident audit ledger: each entry carries SHA-256 over the previous entry's hash and
its own canonical content, so changing, deleting or inserting an entry breaks the chain.

Entries are chained as they are written, each writer taking its turn until its transaction ends
(PostgreSQL: a transaction-scoped advisory lock; SQLite: its write lock), so entry ids and the
chain have one order. Audit entries are people's and agencies' actions, a handful a second at
most; the fan-out writes none (its deliveries are sealed afterwards, in runs: audit/seals.py).
`verify` walks the chain and names the first entry that does not fit. No Flask here.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, event, func, literal, select, text
from sqlalchemy.orm import Session

from ..models import AuditEvent

GENESIS = "0" * 64
LOCK_ID = 0x45575341  # "EWSA": the advisory lock of the audit ledger
_HEAD = "audit_head"   # session.info key: the hash of this transaction's last entry
SCAN_CHUNK = 5000
# Built once, in Core: every alert, publish and sign-in takes the turn and reads the head.
_HEAD_HASH = select(AuditEvent.__table__.c.hash).order_by(AuditEvent.__table__.c.id.desc()).limit(1)
_TAKE_TURN = {
    "postgresql": text("SELECT pg_advisory_xact_lock(:id)").bindparams(id=LOCK_ID),
    # SQLite: a write statement, even one that changes nothing, takes the database's write lock
    "sqlite": text("UPDATE audit_events SET id = id WHERE 1 = 0"),
}
# PostgreSQL: the turn and then the head, in one round trip (migration 0014i says why this is safe).
_TURN_AND_HEAD = select(func.audit_ledger_turn(literal(LOCK_ID, BigInteger)))


def canonical(entry) -> bytes:
    """The entry's content as hashed: fixed field order, sorted JSON, UTC time to the microsecond."""
    return json.dumps(
        [entry.at.isoformat(), entry.actor_type, entry.actor_id, entry.action, entry.subject_type, entry.subject_id,
         entry.detail or {}],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str,
    ).encode()


def entry_hash(previous: str, entry) -> str:
    """`entry`: an AuditEvent, or any row with its fields (the migration and `verify` pass rows)."""
    return hashlib.sha256(previous.encode() + canonical(entry)).hexdigest()


def chain(session: Session, entry: AuditEvent) -> None:
    """Link a new entry to the ledger's head (call before it is flushed)."""
    previous = session.info.get(_HEAD)
    if previous is None:
        previous = _turn_and_head(session) or GENESIS
    entry.prev_hash = previous
    entry.hash = entry_hash(previous, entry)
    session.info[_HEAD] = entry.hash


def _turn_and_head(session: Session) -> str | None:
    """Take the ledger's turn, then read the hash of its last entry (None: the ledger is empty)."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(_TURN_AND_HEAD)
    take_turn(session)
    return session.scalar(_HEAD_HASH)


def take_turn(session: Session) -> None:
    """Hold the ledger's write turn until this transaction ends, before reading its head."""
    session.execute(_TAKE_TURN[session.get_bind().dialect.name])


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_head(session: Session) -> None:
    """The head is only known while this transaction holds the lock."""
    session.info.pop(_HEAD, None)


@dataclass(frozen=True)
class Finding:
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        return f"entry {self.entry_id}: {self.problem}" if self.entry_id is not None else self.problem


def _entries(session: Session, upto: int | None = None) -> Iterator:
    """The ledger's rows in id order, a chunk at a time, as plain rows (nothing kept in the session)."""
    columns = [AuditEvent.__table__.c[name] for name in
               ("id", "at", "actor_type", "actor_id", "action", "subject_type", "subject_id", "detail", "prev_hash",
                "hash")]
    after = 0
    while True:
        query = select(*columns).where(AuditEvent.id > after)
        if upto is not None:
            query = query.where(AuditEvent.id <= upto)
        rows = session.execute(query.order_by(AuditEvent.id).limit(SCAN_CHUNK)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].id


def verify(session: Session, upto: int | None = None) -> tuple[int, Finding | None]:
    """Walk the ledger (up to entry `upto`, if given): (entries checked, the first problem or None).
    An entry sealing deliveries is checked against the deliveries as they are now (audit/seals.py)."""
    from .seals import SEAL_ACTION, check_seal  # seals writes entries through this module

    previous_hash, previous_id, checked = GENESIS, None, 0
    for entry in _entries(session, upto):
        if entry.prev_hash != previous_hash:
            if previous_id is not None and entry.prev_hash == _hash_before(session, previous_id):
                return checked, Finding(previous_id, "was inserted: the next entry links past it")
            where = f"after entry {previous_id}" if previous_id is not None else "at the start"
            return checked, Finding(entry.id, f"does not link to the entry before it: an entry {where} "
                                              "was deleted, or this one was inserted")
        if entry.hash != entry_hash(entry.prev_hash, entry):
            return checked, Finding(entry.id, "was changed: its content no longer matches its hash")
        if entry.action == SEAL_ACTION and (problem := check_seal(session, entry.id, entry.detail)) is not None:
            return checked, Finding(entry.id, f"seals deliveries that no longer match: {problem}")
        previous_hash, previous_id, checked = entry.hash, entry.id, checked + 1
    return checked, None


def _hash_before(session: Session, entry_id: int) -> str | None:
    """The prev_hash stored on an entry: what the chain was before it."""
    return session.scalar(select(AuditEvent.prev_hash).where(AuditEvent.id == entry_id))


@dataclass(frozen=True)
class Head:
    entry_id: int
    hash: str
    at: datetime


def head(session: Session) -> Head | None:
    """The last entry's id, hash and time, to be exported and signed for an outside auditor."""
    row = session.execute(select(AuditEvent.id, AuditEvent.hash, AuditEvent.at).order_by(AuditEvent.id.desc())
                          .limit(1)).first()
    return Head(row.id, row.hash, row.at) if row else None


def stored_hash(session: Session, entry_id: int) -> str | None:
    """The hash the ledger holds for an entry now (None: no such entry)."""
    return session.scalar(select(AuditEvent.hash).where(AuditEvent.id == entry_id))
