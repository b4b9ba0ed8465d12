"""Mobile operators' Cell Broadcast Centres (CBCs), where the cell broadcast channel sends each alert, and
what each CBC reports of the messages it took.

One row per operator CBC (China Mobile, China Unicom, China Telecom, or any other), reached through a
primary and an optional failover URL (docs/CHANNELS.md, "Cell broadcast"). The bearer token and the
callback secret are stored as given, not hashed: the adapter must send the one and the webhook check
signatures with the other. Neither is ever logged, audited or shown back.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base
from .delivery import BIG_ID
from .types import UTCDateTime, enum_column, utcnow

MAX_CODE = 20
MAX_NAME = 120
MAX_URL = 500
DEFAULT_MAX_VERTICES = 100


class CbcOperator(Base):
    __tablename__ = "cbc_operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(MAX_CODE), unique=True, doc="ASCII slug, e.g. cmcc: the callback URL's")
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    url: Mapped[str] = mapped_column(String(MAX_URL))
    failover_url: Mapped[str | None] = mapped_column(String(MAX_URL))
    token: Mapped[str] = mapped_column(Text)
    callback_secret: Mapped[str] = mapped_column(Text)
    # The most polygon vertices (closing points counted, all polygons together) the CBC accepts.
    max_vertices: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_VERTICES)
    # This operator's own CBS message identifiers: mapping key -> [first language, additional language]
    # (channels/cell_broadcast/identifiers.py); empty: the standard ones.
    identifiers: Mapped[dict[str, list[int]]] = mapped_column(JSON, default=dict)
    # An exercise CBC takes Exercise messages (and link tests) only; a real one never takes an Exercise.
    exercise: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: a command or the seed
    # The last link test (a CAP <status>Test</status> to each URL): None until one ran; a failover
    # URL's is None when there is none.
    link_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    link_primary_ok: Mapped[bool | None] = mapped_column(Boolean)
    link_failover_ok: Mapped[bool | None] = mapped_column(Boolean)
    link_detail: Mapped[str | None] = mapped_column(Text, doc="what the CBC answered, or why it did not")

    @property
    def link_down(self) -> bool:
        """The last link test found a URL that did not answer."""
        return self.link_primary_ok is False or self.link_failover_ok is False


class CbcState(str, enum.Enum):
    """Where a message an operator's CBC accepted stands, as its status callbacks say (docs/CHANNELS.md).
    Never backwards: broadcasting < completed = failed < cancelled."""

    BROADCASTING = "broadcasting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def rank(self) -> int:
        return {"broadcasting": 1, "completed": 2, "failed": 2, "cancelled": 3}[self.value]


class CbcBroadcast(Base):
    """One cell broadcast delivery as the operator's CBC reports it: its state, the cells on the air and
    those that failed, and when each state was first reported. The delivery row keeps when it was accepted."""

    __tablename__ = "cbc_broadcasts"

    delivery_id: Mapped[int] = mapped_column(BIG_ID, ForeignKey("deliveries.id"), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("cbc_operators.id"))
    cbc_message_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[CbcState] = mapped_column(enum_column(CbcState))
    cells: Mapped[int] = mapped_column(Integer, default=0)
    failed_cells: Mapped[int] = mapped_column(Integer, default=0)
    broadcasting_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, doc="completed or failed")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
