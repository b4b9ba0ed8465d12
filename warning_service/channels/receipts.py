"""Delivery receipts from any channel's gateway (Twilio's status callbacks, SMPP's deliver_sm), applied
forward only. Here, below the fan-out, so that an adapter may apply its own (sms/smpp_receipts.py).

A receipt can arrive before the job that sent the message has recorded the
gateway's id (a fast gateway, a slow batch). Such a receipt is kept as an early
receipt. Both sides write and commit first, then look for the other: the
webhook commits the early receipt and then looks for the delivery; the job
commits the gateway ids and then looks for early receipts. Whichever commits
second sees the other's row, so no "delivered" is lost; the reconciler sweeps
up after a crash in between. Receipts never move a delivery backwards:
delivered, undelivered and failed are final, and a late 'sent' changes nothing. Nor does a receipt
move a delivery already sealed into the audit ledger (audit/seals.py): that would read as tampering.

A gateway sends receipts at its sending rate (Twilio's status callbacks, one request each), so on
PostgreSQL a receipt is one statement: the move, its attempt row and the look whether any delivery
has the id, in one WITH (SQLite takes no UPDATE in a WITH: there they are two or three).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import cast

from sqlalchemy import (
    CTE,
    ColumnElement,
    CursorResult,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Delivery, DeliveryAttempt, DeliverySeal, DeliveryStatus, EarlyReceipt, utcnow
from ..models.types import UTCDateTime

DELIVERIES = cast(Table, Delivery.__table__)
ATTEMPTS = cast(Table, DeliveryAttempt.__table__)
EARLY = cast(Table, EarlyReceipt.__table__)
SEALS = cast(Table, DeliverySeal.__table__)
FINAL = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)
# The statuses each receipt may move a delivery from.
MOVES_FROM: dict[DeliveryStatus, tuple[DeliveryStatus, ...]] = {
    DeliveryStatus.SENT: (DeliveryStatus.SENDING,),
    **{final: (DeliveryStatus.SENDING, DeliveryStatus.SENT) for final in FINAL},
}
EARLY_RECEIPT_LIFETIME = timedelta(days=2)
MOVE_CHUNK = 1_000  # gateway ids in one UPDATE


def apply_receipt(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None) -> bool:
    """Move the delivery with this gateway id forward to `status` and commit; False if it is already
    there or further. A receipt for an id no delivery has yet is kept until the sending job records it."""
    moved, known = _move_and_look(session, gateway_id, status, code, utcnow())
    if not known:
        _keep_early(session, gateway_id, status, code)
        session.commit()
        moved = apply_early_receipts(session, [gateway_id]) > 0  # the job may have committed meanwhile
    session.commit()
    return moved


def apply_receipts(session: Session, receipts: Sequence[tuple[str, DeliveryStatus, str | None]]) -> int:
    """apply_receipt for a batch of (gateway id, status, code) in the same two steps, with a statement per
    kind of receipt instead of several per receipt (an SMPP bind brings thousands a second); returns how
    many deliveries moved."""
    now = utcnow()
    moves = [(gateway_id, status, code, now) for gateway_id, status, code in receipts]
    moved = _move_many(session, moves)
    unmoved = [move for move in moves if move[0] not in moved]
    recorded = set(session.scalars(select(DELIVERIES.c.gateway_id).where(
        DELIVERIES.c.gateway_id.in_({move[0] for move in unmoved})))) if unmoved else set()
    # The job may have committed between the two looks: those rows are there now, try once more.
    moved |= _move_many(session, [move for move in unmoved if move[0] in recorded])
    early = [move for move in unmoved if move[0] not in recorded]
    _keep_early_many(session, early)
    session.commit()
    if early:  # the job may have committed meanwhile
        return len(moved) + apply_early_receipts(session, list({move[0] for move in early}))
    return len(moved)


def apply_early_receipts(session: Session, gateway_ids: Sequence[str] | None = None) -> int:
    """Apply the kept receipts of these ids (all kept receipts if None) whose delivery is now recorded,
    and commit; returns how many moved a delivery. Call it after committing the ids."""
    query = select(EarlyReceipt.gateway_id, EarlyReceipt.status, EarlyReceipt.code, EarlyReceipt.received_at).join(
        DELIVERIES, DELIVERIES.c.gateway_id == EarlyReceipt.gateway_id)
    if gateway_ids is not None:
        query = query.where(EarlyReceipt.gateway_id.in_(list(gateway_ids)))
    kept = session.execute(query.distinct()).all()
    moved = len(_move_many(session, [(r.gateway_id, r.status, r.code, r.received_at) for r in kept]))
    if kept:
        session.execute(delete(EarlyReceipt).where(EarlyReceipt.gateway_id.in_([receipt.gateway_id for receipt in kept])))
    session.commit()
    return moved


def forget_stale_early_receipts(session: Session, now: datetime) -> int:
    """Receipts for ids no delivery ever recorded (a second text's id, a stranger's) do not stay for ever."""
    result = session.execute(delete(EarlyReceipt).where(EarlyReceipt.received_at < now - EARLY_RECEIPT_LIFETIME))
    return cast(CursorResult, result).rowcount


def _move_and_look(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None,
                   at: datetime) -> tuple[bool, bool]:
    """Move the delivery with this id forward: (moved, whether any delivery has the id)."""
    if _postgresql(session):  # both in one snapshot: a job committing meanwhile is found by the early receipt's look
        moved, found = session.connection().execute(_one_receipt(status, bool(code)), {
            "r_id": gateway_id, "r_at": at, "r_code": code, "r_now": utcnow()}).one()
        return moved > 0, found
    if _move(session, gateway_id, status, code, at):
        return True, True
    if session.scalar(select(DELIVERIES.c.id).where(DELIVERIES.c.gateway_id == gateway_id).limit(1)) is None:
        return False, False
    # The job may have committed between the two looks: the row is there now, try once more.
    return _move(session, gateway_id, status, code, at), True


def _move(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None, at: datetime) -> bool:
    return bool(_move_many(session, [(gateway_id, status, code, at)]))


def _move_many(session: Session, moves: Sequence[tuple[str, DeliveryStatus, str | None, datetime]]) -> set[str]:
    """Move forward the deliveries of these (gateway id, status, code, received at), with one UPDATE per
    (status, code, time), those in the order they first come; returns the gateway ids that moved. In that
    order a second final receipt of an id finds it final already, as it would one by one."""
    groups: dict[tuple[DeliveryStatus, str | None, datetime], list[str]] = {}
    for gateway_id, status, code, at in moves:
        groups.setdefault((status, code, at), []).append(gateway_id)
    moved: set[str] = set()
    for (status, code, at), ids in groups.items():
        moved |= _move_group(session, ids, status, code, at)
    return moved


def _move_group(session: Session, ids: list[str], status: DeliveryStatus, code: str | None, at: datetime) -> set[str]:
    moved: set[str] = set()
    for start in range(0, len(ids), MOVE_CHUNK):
        which = DELIVERIES.c.gateway_id.in_(ids[start:start + MOVE_CHUNK])
        values = {"r_at": at, "r_code": code, "r_now": utcnow()}
        if _postgresql(session):
            moved.update(session.scalars(select(_logged(_forward(which, status, bool(code)), status).c.gateway_id),
                                         values))
            continue
        rows = session.execute(_forward(which, status, bool(code)), values).all()
        if rows:
            session.execute(insert(ATTEMPTS), [
                {"delivery_id": row.id, "attempt": row.attempts, "at": at, "outcome": status.value,
                 "gateway_id": row.gateway_id, "code": code} for row in rows
            ])
            moved.update(row.gateway_id for row in rows)
    return moved


def _forward(which: ColumnElement[bool], status: DeliveryStatus, with_code: bool) -> Update:
    """UPDATE ... RETURNING the deliveries `which` picks that `status` moves forward; parameters `r_now`,
    `r_at` (the receipt's time) and `r_code` (named apart from every column: an UPDATE takes a parameter
    named as a column for its SET)."""
    values: dict[str, object] = {"status": status, "updated_at": bindparam("r_now", type_=UTCDateTime)}
    if status == DeliveryStatus.DELIVERED:
        values["delivered_at"] = bindparam("r_at", type_=UTCDateTime)
    if with_code:
        values["gateway_code"] = bindparam("r_code", type_=DELIVERIES.c.gateway_code.type)
    return (update(DELIVERIES).where(which, DELIVERIES.c.status.in_(MOVES_FROM[status]), ~sealed())
            .values(**values).returning(DELIVERIES.c.id, DELIVERIES.c.attempts, DELIVERIES.c.gateway_id))


def _logged(forward: Update, status: DeliveryStatus) -> CTE:
    """PostgreSQL: the move and its attempt rows as one WITH; select its gateway_id (the ids moved)."""
    moved = forward.cte("moved")
    return (insert(ATTEMPTS)
            .from_select(["delivery_id", "attempt", "at", "outcome", "gateway_id", "code"],
                         select(moved.c.id, moved.c.attempts, bindparam("r_at", type_=UTCDateTime), literal(status.value),
                                moved.c.gateway_id, bindparam("r_code", type_=ATTEMPTS.c.code.type)))
            .returning(ATTEMPTS.c.gateway_id).cte("logged"))


@cache
def _one_receipt(status: DeliveryStatus, with_code: bool) -> Select:
    """PostgreSQL's one statement for one receipt (parameters `r_id`, `r_at`, `r_code`, `r_now`): how many
    deliveries it moved, and whether any has the id. Built once per kind: callbacks come hundreds a second."""
    gateway_id = bindparam("r_id", type_=DELIVERIES.c.gateway_id.type)
    logged = _logged(_forward(DELIVERIES.c.gateway_id == gateway_id, status, with_code), status)
    return select(select(func.count()).select_from(logged).scalar_subquery(),
                  exists().where(DELIVERIES.c.gateway_id == gateway_id))


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _keep_early(session: Session, gateway_id: str, status: DeliveryStatus, code: str | None) -> None:
    _keep_early_many(session, [(gateway_id, status, code, utcnow())])


def _keep_early_many(session: Session, moves: Sequence[tuple[str, DeliveryStatus, str | None, datetime]]) -> None:
    """Keep the most final receipt per id: a 'delivered' is not overwritten by a late 'sent'. One upsert,
    so that two receipts of one id kept at once (its two callbacks, both ahead of the job) never collide."""
    latest: dict[str, tuple[DeliveryStatus, str | None, datetime]] = {}
    for gateway_id, status, code, at in moves:
        kept = latest.get(gateway_id)
        if kept is None or status in FINAL or kept[0] not in FINAL:
            latest[gateway_id] = (status, code, at)
    if not latest:
        return
    upsert = (postgresql.insert if _postgresql(session) else sqlite.insert)(EARLY)
    session.execute(upsert.on_conflict_do_update(
        index_elements=[EARLY.c.gateway_id],
        set_={"status": upsert.excluded.status, "code": upsert.excluded.code, "received_at": upsert.excluded.received_at},
        where=or_(upsert.excluded.status.in_(FINAL), EARLY.c.status.not_in(FINAL)),
    ), [{"gateway_id": gateway_id, "status": status, "code": code, "received_at": at}
        for gateway_id, (status, code, at) in latest.items()])


def sealed():
    """SQL: the delivery lies inside a seal of the audit ledger, so no receipt may move it."""
    return exists().where(SEALS.c.alert_id == DELIVERIES.c.alert_id, SEALS.c.channel == DELIVERIES.c.channel,
                          DELIVERIES.c.id >= SEALS.c.first_id, DELIVERIES.c.id <= SEALS.c.last_id)
