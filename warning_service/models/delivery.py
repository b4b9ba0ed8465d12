"""One row per (alert, channel, target): the unit the fan-out sends and the audit counts."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .types import UTCDateTime, enum_column, utcnow

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


# A channel's name, as its package declares it (channels/catalog.py): long enough for any.
CHANNEL_NAME_LENGTH = 32


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"  # accepted by the gateway
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A delivery in one of these states will not be sent (again).
SETTLED = frozenset({
    DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED,
    DeliveryStatus.FAILED, DeliveryStatus.CANCELLED,
})


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        # A second publish of the same alert writes nothing new.
        UniqueConstraint("alert_id", "channel", "target_id"),
        # Progress and the alert report count an alert's rows by state, channel and county from this
        # index alone (an index-only scan), without reading the rows.
        Index("ix_deliveries_alert_status_place", "alert_id", "status", "channel", "county_code"),
        # The reconciler's scan of rows not settled. Partial: a row that settles leaves it
        # without writing to it, and a million settled rows do not weigh on it.
        Index("ix_deliveries_unsettled", "status", "enqueued_at",
              postgresql_where=text("status IN ('pending', 'sending')"),
              sqlite_where=text("status IN ('pending', 'sending')")),
        # Delivery receipts (Twilio's, SMPP's) find their row by a given gateway id. Partial: a row without
        # one (every row until its gateway answers, and all of the null gateway's) writes no entry here.
        Index("ix_deliveries_gateway_id", "gateway_id", postgresql_where=text("gateway_id IS NOT NULL"),
              sqlite_where=text("gateway_id IS NOT NULL")),
        # The report's gaps: was this failed SMS moved to a card that reached the person?
        Index("ix_deliveries_failover_of_id", "failover_of_id", postgresql_where=text("failover_of_id IS NOT NULL"),
              sqlite_where=text("failover_of_id IS NOT NULL")),
        # The sealer (audit/seals.py) reads one alert's rows on one channel in id order.
        Index("ix_deliveries_alert_channel_id", "alert_id", "channel", "id"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    # The channel's name: a plain string, checked against the channels the service carries where rows
    # are written and read (channels/catalog.py), so adding a channel changes no table.
    channel: Mapped[str] = mapped_column(String(CHANNEL_NAME_LENGTH))
    # An id of the channel's target model (its ChannelSpec.target): a recipient, a platform, a card.
    target_id: Mapped[int] = mapped_column(Integer)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    gateway_code: Mapped[str | None] = mapped_column(String(32))
    gateway_text: Mapped[str | None] = mapped_column(Text)
    # The delivery on another channel this one replaces (its channel's failover: a failed SMS's card).
    failover_of_id: Mapped[int | None] = mapped_column(BIG_ID, ForeignKey("deliveries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: in no queue (a retry due at next_attempt_at, or lost); the reconciler queues it.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """Each try of a delivery and what came of it, as the gateway said it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20), doc="accepted, transient, permanent, cancelled, requeued")
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(Text)


class EarlyReceipt(Base):
    """A gateway's receipt that arrived before the sending job recorded the gateway's id."""

    __tablename__ = "early_receipts"

    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus))
    code: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
