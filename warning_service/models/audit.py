"""Audit events: who did what to which object, when; chained into a tamper-evident ledger (audit/ledger.py)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .delivery import CHANNEL_NAME_LENGTH
from .types import UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(20), doc="user, agency or system")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class DeliverySeal(Base):
    """A sealed run of one alert's deliveries on one channel (audit/seals.py).

    The ledger entry `audit_event_id` holds what is trusted (first and last id, count, Merkle root);
    this row is an index for the sealer and the receipts, and keeps each row's leaf hash so `verify`
    can name the delivery that no longer fits (the leaves are checked against the ledger's root first).
    """

    __tablename__ = "delivery_seals"
    __table_args__ = (Index("ix_delivery_seals_alert_channel_last", "alert_id", "channel", "last_id"),)

    audit_event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                                ForeignKey("audit_events.id"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    channel: Mapped[str] = mapped_column(String(CHANNEL_NAME_LENGTH))
    first_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    count: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    ids: Mapped[bytes] = mapped_column(LargeBinary, doc="the sealed ids, zlib-compressed deltas")
    leaves: Mapped[bytes] = mapped_column(LargeBinary, doc="32 bytes per sealed row, in id order")


class SignedHead(Base):
    """The database's copy of a ledger head the reconciler signed (audit/heads.py).

    The same document is written to LEDGER_HEADS_DIR, outside the database; `flask audit verify`
    compares the two, so deleting or rewriting either copy is named. `document` is the signed JSON as
    signed (the signature covers its fields); `entry_id` and `signed_at` are there to find the latest.
    """

    __tablename__ = "signed_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    document: Mapped[str] = mapped_column(Text)
