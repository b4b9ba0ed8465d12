"""Agencies that send alerts through the API, the CAP senders each may speak as, and their hashed API keys."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .types import UTCDateTime, enum_column, utcnow

ALL_HAZARDS = "all"


class AgencyKind(str, enum.Enum):
    SEISMIC = "seismic"
    GEOLOGY = "geology"
    WEATHER = "weather"
    FORESTRY = "forestry"
    HYDROLOGY = "hydrology"
    TOURISM = "tourism"
    OTHER = "other"


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[AgencyKind] = mapped_column(enum_column(AgencyKind))
    # Hazard codes this agency may issue, or ["all"].
    hazards: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Earthquake early warning cannot wait for a human: such agencies publish at once.
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="agency", order_by="ApiKey.id")
    senders: Mapped[list[AgencySender]] = relationship(back_populates="agency", order_by="AgencySender.position",
                                                         collection_class=ordering_list("position"),
                                                         cascade="all, delete-orphan")
    # The CAP <sender> values this agency may post as, first the one its JSON alerts take when they name none.
    cap_senders: AssociationProxy[list[str]] = association_proxy(
        "senders", "sender", creator=lambda sender: AgencySender(sender=sender))

    def may_issue(self, hazard_code: str) -> bool:
        return ALL_HAZARDS in self.hazards or hazard_code in self.hazards

    def may_send_as(self, sender: str) -> bool:
        return sender in self.cap_senders

    @property
    def default_sender(self) -> str:
        return self.cap_senders[0]


class AgencySender(Base):
    """A CAP <sender> registered to one agency. Unique across agencies: an agency speaks only as itself,
    so no agency can post in another's name, nor take another's (sender, identifier) pairs."""

    __tablename__ = "agency_senders"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    sender: Mapped[str] = mapped_column(String(255), unique=True)
    # Its place in the agency's list: the first is the default of JSON alerts.
    position: Mapped[int] = mapped_column(default=0)

    agency: Mapped[Agency] = relationship(back_populates="senders")


class ApiKey(Base):
    """One of an agency's keys. Several can be live at once so keys rotate without downtime.

    Keys are long random strings, so a SHA-256 digest is enough to store them
    safely (password hashing is for secrets people choose); the prefix finds
    the row without scanning.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship(back_populates="api_keys")
