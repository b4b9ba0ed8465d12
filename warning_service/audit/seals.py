"""Delivery records in the tamper-evident ledger, without serialising the fan-out.

The fan-out writes and settles deliveries at full speed and never touches the ledger. Afterwards
(each reconciler pass, or `flask audit seal`) the sealer takes each alert's deliveries on each
channel in id order and seals runs of settled rows: a Merkle root over the rows' canonical content
goes into one ledger entry {alert, channel, first id, last id, count, root}, chained like any other.
`verify` recomputes every seal and names the first delivery changed, deleted or inserted since.

Settled, for sealing, means nothing in the service will change the row again:
- delivered, undelivered, failed, cancelled: final;
- sent (accepted by the gateway) on a channel without delivery receipts: none will follow;
- sent on a channel with receipts once its `receipts_setting` seconds have passed since it was sent
  (SEAL_SMS_AFTER_SECONDS: Twilio's status callbacks come within the message's validity period);
  a later receipt is not applied to a sealed row (channels/receipts.py) and is kept as an attempt only.
A run stops at the first row not settled, or written less than SEAL_MIN_AGE_SECONDS ago (a
transaction still writing rows with lower ids could otherwise commit them inside a sealed range).

No locks while the rows are read and hashed: the sealer then takes the ledger's turn and checks
that the run has not changed meanwhile (same count, same latest update); if it has, it leaves the
run to the next pass. The hot path (claim, send, settle) never waits for it.
"""
from __future__ import annotations

import array
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..channels.catalog import channels
from ..models import Alert, AlertState, Delivery, DeliverySeal, DeliveryStatus, utcnow
from .events import record
from .ledger import take_turn
from .merkle import leaf_hash, merkle_root

SEAL_ACTION = "deliveries.seal"
DELIVERIES = Delivery.__table__
SEALS = DeliverySeal.__table__
FINAL = (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED)
# The content a seal covers, in this order; the queue's bookkeeping (enqueued, claimed, next try) is left out.
SEALED_FIELDS = ("id", "alert_id", "channel", "target_id", "county_code", "status", "attempts", "gateway_id",
                 "gateway_code", "gateway_text", "failover_of_id", "created_at", "sent_at", "delivered_at")
COLUMNS = [DELIVERIES.c[name] for name in SEALED_FIELDS] + [DELIVERIES.c.updated_at]
# Alerts whose state last changed longer ago than this (and are no longer publishing or published)
# are not looked at again: their deliveries settled and were sealed long since.
LOOKBACK = timedelta(days=7)


def canonical(row) -> bytes:
    """A delivery's sealed content: fixed field order, UTC times to the microsecond, enums as values."""
    values = []
    for name in SEALED_FIELDS:
        value = getattr(row, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        values.append(value)
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def is_settled(row, sent_settled_before: datetime | None) -> bool:
    """`sent_settled_before`: a sent row sent before then waits for no receipt any more (None: its channel
    has no receipts, so sent is settled)."""
    status = DeliveryStatus(row.status)
    if status in FINAL:
        return True
    if status != DeliveryStatus.SENT:
        return False
    return sent_settled_before is None or (row.sent_at is not None and row.sent_at < sent_settled_before)


@dataclass
class SealReport:
    seals: int = 0
    rows: int = 0
    retried: int = 0   # runs that changed while being hashed, left for the next pass

    def __str__(self) -> str:
        return f"sealed {self.rows} deliveries in {self.seals} ledger entries"


def seal_settled(session: Session, settings: Mapping[str, object], now: datetime | None = None,
                 max_rows: int | None = None) -> SealReport:
    """Seal what has settled, up to `max_rows` rows (all of it if None). Commits each seal."""
    now = now or utcnow()
    chunk = int(settings["DELIVERY_SEAL_CHUNK"])
    sent_before = {channel.name: now - timedelta(seconds=float(settings[channel.receipts_setting]))
                   if channel.receipts_setting else None for channel in channels()}
    written_before = now - timedelta(seconds=float(settings["SEAL_MIN_AGE_SECONDS"]))
    report = SealReport()
    alert_ids = session.scalars(select(Alert.id).where(or_(
        Alert.state.in_([AlertState.PUBLISHING, AlertState.PUBLISHED]), Alert.state_changed_at > now - LOOKBACK,
    )).order_by(Alert.id)).all()
    session.commit()
    for alert_id in alert_ids:
        for channel, sent_settled_before in sent_before.items():
            while max_rows is None or report.rows < max_rows:
                sealed_rows = _seal_next_run(session, alert_id, channel, chunk, sent_settled_before, written_before,
                                             report)
                if not sealed_rows:
                    break
    return report


def _seal_next_run(session: Session, alert_id: int, channel: str, chunk: int, sent_settled_before: datetime | None,
                   written_before: datetime, report: SealReport) -> int:
    """Seal the next run of this alert's settled rows on this channel; the rows sealed (0: none ready)."""
    after = session.scalar(select(func.max(SEALS.c.last_id)).where(
        SEALS.c.alert_id == alert_id, SEALS.c.channel == channel)) or 0
    rows = session.execute(
        select(*COLUMNS).where(DELIVERIES.c.alert_id == alert_id, DELIVERIES.c.channel == channel,
                               DELIVERIES.c.id > after).order_by(DELIVERIES.c.id).limit(chunk)).all()
    session.commit()  # hashing happens outside any transaction: nobody waits for it
    run = []
    for row in rows:
        if not is_settled(row, sent_settled_before) or row.created_at >= written_before:
            break
        run.append(row)
    if not run:
        return 0
    leaves = [leaf_hash(canonical(row)) for row in run]
    root = merkle_root(leaves)
    first, last, latest = run[0].id, run[-1].id, max(row.updated_at for row in run)
    take_turn(session)  # the ledger's turn first: then nothing else can seal this run meanwhile
    in_range = (DELIVERIES.c.alert_id == alert_id, DELIVERIES.c.channel == channel,
                DELIVERIES.c.id >= first, DELIVERIES.c.id <= last)
    now_count, now_latest = session.execute(select(func.count(), func.max(DELIVERIES.c.updated_at)).where(*in_range)).one()
    already = session.scalar(select(func.max(SEALS.c.last_id)).where(
        SEALS.c.alert_id == alert_id, SEALS.c.channel == channel)) or 0
    if now_count != len(run) or now_latest != latest or already != after:
        session.rollback()
        report.retried += 1
        return 0
    entry = record(session, None, SEAL_ACTION, session.get(Alert, alert_id), alert=alert_id, channel=channel,
                   first=first, last=last, count=len(run), root=root)
    session.flush()
    session.add(DeliverySeal(audit_event_id=entry.id, alert_id=alert_id, channel=channel, first_id=first,
                             last_id=last, count=len(run), root=root, ids=_pack_ids([row.id for row in run]),
                             leaves=b"".join(leaves)))
    session.commit()
    report.seals += 1
    report.rows += len(run)
    return len(run)


def _pack_ids(ids: list[int]) -> bytes:
    deltas = array.array("q", [ids[0]] + [b - a for a, b in zip(ids, ids[1:])])
    return zlib.compress(deltas.tobytes())


def _unpack_ids(packed: bytes) -> list[int]:
    deltas = array.array("q")
    deltas.frombytes(zlib.decompress(packed))
    ids, total = [], 0
    for delta in deltas:
        total += delta
        ids.append(total)
    return ids


def check_seal(session: Session, entry_id: int, detail: Mapping[str, object]) -> str | None:
    """Recompute one seal from the rows as they are now; None if they still match its ledger entry,
    otherwise what no longer fits, naming the first delivery changed, deleted or inserted."""
    alert_id, channel = int(detail["alert"]), str(detail["channel"])
    first, last = int(detail["first"]), int(detail["last"])
    rows = session.execute(select(*COLUMNS).where(
        DELIVERIES.c.alert_id == alert_id, DELIVERIES.c.channel == channel, DELIVERIES.c.id >= first,
        DELIVERIES.c.id <= last).order_by(DELIVERIES.c.id)).all()
    leaves = [leaf_hash(canonical(row)) for row in rows]
    if len(rows) == int(detail["count"]) and merkle_root(leaves) == detail["root"]:
        return None
    span = f"deliveries {first}-{last} ({channel})"
    kept = session.get(DeliverySeal, entry_id)
    if kept is None:
        return f"{span} no longer match their seal, and the seal's row is gone: cannot name the delivery"
    kept_ids = _unpack_ids(kept.ids)
    kept_leaves = [kept.leaves[index:index + 32] for index in range(0, len(kept.leaves), 32)]
    if len(kept_ids) != int(detail["count"]) or merkle_root(kept_leaves) != detail["root"]:
        return f"{span} no longer match their seal, and the seal's stored leaves were altered too"
    now = {row.id: leaf for row, leaf in zip(rows, leaves)}
    was = dict(zip(kept_ids, kept_leaves))
    for delivery_id in sorted(now.keys() | was.keys()):
        if delivery_id not in now:
            return f"delivery {delivery_id} was deleted after it was sealed"
        if delivery_id not in was:
            return f"delivery {delivery_id} was inserted into {span} after they were sealed"
        if now[delivery_id] != was[delivery_id]:
            return f"delivery {delivery_id} was changed after it was sealed"
    return f"{span} no longer match their seal"
