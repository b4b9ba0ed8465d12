"""One row per (alert, channel, target): the unit the fan-out sends and the audit counts."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow


class Channel(str, enum.Enum):
    SMS = "sms"
    BROADCAST = "broadcast"
    BEIDOU = "beidou"


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"  # accepted by the gateway
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        # A second publish of the same alert writes nothing new.
        UniqueConstraint("alert_id", "channel", "target_id"),
        Index("ix_deliveries_alert_status", "alert_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, 10))
    # recipients.id for sms, broadcast_endpoints.id for broadcast, beidou_terminals.id for beidou
    target_id: Mapped[int] = mapped_column(Integer)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"))
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    gateway_id: Mapped[str | None] = mapped_column(String(64))
    gateway_code: Mapped[str | None] = mapped_column(String(32))
    gateway_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
