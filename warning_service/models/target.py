"""Who and what an alert reaches: people's phones, county broadcast platforms, BeiDou terminals."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .types import UTCDateTime, utcnow


class Language(str, enum.Enum):
    TIBETAN = "bo"
    CHINESE = "zh"


# A recipient's languages, in order of preference: "bo", "zh", "bo,zh" or "zh,bo".
LANGUAGE_CHOICES = ("bo", "zh", "bo,zh", "zh,bo")


def township_index(table: str) -> Index:
    """The targets that carry a township, with it: the alert report's township counts start from these,
    so they cost what those targets cost (none, most) rather than a join over every delivery."""
    where = text("township_code IS NOT NULL")
    return Index(f"ix_{table}_township", "id", "township_code", postgresql_where=where, sqlite_where=where)


class Recipient(Base):
    __tablename__ = "recipients"
    __table_args__ = (township_index("recipients"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True, doc="E.164, e.g. +8613812345678")
    languages: Mapped[str] = mapped_column(String(5), default="zh")
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"), index=True)
    township_code: Mapped[str | None] = mapped_column(String(12))
    # Channels this person is reached on, e.g. ["sms"] or ["sms", "beidou"].
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["sms"])
    beidou_terminal_id: Mapped[int | None] = mapped_column(ForeignKey("beidou_terminals.id"))
    # Exercise and Test alerts reach only targets marked for exercises.
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    county = relationship("County")
    beidou_terminal = relationship("BeidouTerminal")

    @property
    def language_order(self) -> list[str]:
        return self.languages.split(",")


class BroadcastEndpoint(Base):
    """A county's emergency-broadcast platform.

    The secret signs what we send (we must be able to use it, so it is stored,
    not hashed); it is never logged or shown back.
    """

    __tablename__ = "broadcast_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(Text)
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    county = relationship("County")


class BeidouTerminal(Base):
    """A BeiDou user card (its 7-digit address), in a village with no mobile signal."""

    __tablename__ = "beidou_terminals"
    __table_args__ = (township_index("beidou_terminals"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_address: Mapped[str] = mapped_column(String(7), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("counties.code"), index=True)
    township_code: Mapped[str | None] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(120))
    is_group: Mapped[bool] = mapped_column(Boolean, default=False, doc="a group (broadcast) address")
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    county = relationship("County")
