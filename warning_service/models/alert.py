"""Alerts and their life: one row per CAP message (sender, identifier)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, LargeBinary, String, Table, Text, UniqueConstraint, case, select, text
from sqlalchemy.orm import Mapped, defer, mapped_column, relationship
from sqlalchemy.orm.interfaces import ORMOption

from .agency import AgencySender
from .base import Base
from .types import UTCDateTime, enum_column, utcnow


class AlertState(str, enum.Enum):
    RECEIVED = "received"
    PENDING_REVIEW = "pending_review"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    REJECTED = "rejected"


S = AlertState
# The whole state machine. An alert never goes back: a mistake is put right by
# a Cancel or an Update, which are alerts of their own.
TRANSITIONS: dict[AlertState, frozenset[AlertState]] = {
    S.RECEIVED: frozenset({S.PENDING_REVIEW, S.PUBLISHING, S.REJECTED}),
    S.PENDING_REVIEW: frozenset({S.PUBLISHING, S.REJECTED, S.CANCELLED, S.SUPERSEDED, S.EXPIRED}),
    S.PUBLISHING: frozenset({S.PUBLISHED, S.CANCELLED, S.SUPERSEDED}),
    S.PUBLISHED: frozenset({S.CANCELLED, S.SUPERSEDED, S.EXPIRED}),
    S.CANCELLED: frozenset(),
    S.SUPERSEDED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REJECTED: frozenset(),
}
# States in which an alert is still in force and can be updated or cancelled.
LIVE_STATES = frozenset({S.PENDING_REVIEW, S.PUBLISHING, S.PUBLISHED})
# The longest reason an officer may give for rejecting an alert (the column's width).
REJECT_REASON_MAX_CHARS = 500


class InvalidTransition(Exception):
    def __init__(self, current: AlertState, wanted: AlertState):
        super().__init__(f"an alert in state {current.value!r} cannot become {wanted.value!r}")
        self.current = current
        self.wanted = wanted


class CapStatus(str, enum.Enum):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(str, enum.Enum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class Level(str, enum.Enum):
    """China's four warning levels: I red … IV blue."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"


alert_counties = Table(
    "alert_counties",
    Base.metadata,
    Column("alert_id", ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True),
    Column("county_code", ForeignKey("counties.code"), primary_key=True, index=True),
)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # Per author: a pair an agency took before senders were its own alone cannot block the sender's owner.
        UniqueConstraint("agency_id", "sender", "identifier"),
        Index("ix_alerts_state_received_at", "state", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # CAP <alert> fields
    identifier: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(255))
    sent: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[CapStatus] = mapped_column(enum_column(CapStatus))
    msg_type: Mapped[MsgType] = mapped_column(enum_column(MsgType))
    scope: Mapped[str] = mapped_column(String(20), default="Public")
    source: Mapped[str | None] = mapped_column(String(255))
    restriction: Mapped[str | None] = mapped_column(Text)
    addresses: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    incidents: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The region's reading of the <info> blocks
    hazard_code: Mapped[str | None] = mapped_column(String(40), index=True)
    level: Mapped[Level | None] = mapped_column(enum_column(Level, 10))
    event: Mapped[str | None] = mapped_column(String(255))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    response_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(20))
    certainty: Mapped[str | None] = mapped_column(String(20))
    effective: Mapped[datetime | None] = mapped_column(UTCDateTime)
    onset: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Free texts keyed by language ("zh", "bo", or the CAP language tag as sent)
    headline: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    instruction: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    parameters: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The area as sent (county/township codes, polygons, circles) …
    area: Mapped[dict] = mapped_column(JSON, default=dict)
    # The named areas targeted, as the texts name them ({"code", "zh", "bo"}); apart from `area`, whose
    # polygons list pages never load.
    named_places: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # … and every <info> block as parsed, so nothing of a multilingual message is lost.
    infos: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # The message exactly as received (bytes: its encoding is the sender's), and in which form.
    original: Mapped[bytes] = mapped_column(LargeBinary)
    original_format: Mapped[str] = mapped_column(String(20), doc="cap1.2, cap1.1 or json")
    # Our side
    state: Mapped[AlertState] = mapped_column(enum_column(AlertState))
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    # Why the second officer refused it, as they wrote it (also in the ledger's alert.reject entry).
    reject_reason: Mapped[str | None] = mapped_column(String(REJECT_REASON_MAX_CHARS))

    agency = relationship("Agency")
    counties = relationship("County", secondary=alert_counties, order_by="County.code")

    @classmethod
    def by_cap_key(cls, session, sender: str, identifier: str, agency_id: int | None) -> Alert | None:
        """The author's own alert with this (sender, identifier), the key that makes intake idempotent.

        Scoped to the author (None: the console's), so no one else's pair can ever answer in its place."""
        return session.scalar(select(cls).where(cls.sender == sender, cls.identifier == identifier,
                                                cls.agency_id.is_(None) if agency_id is None
                                                else cls.agency_id == agency_id))

    @classmethod
    def named_by(cls, session, sender: str, identifier: str, agency_id: int | None = None) -> Alert | None:
        """The alert a <references> entry names: the given agency's own first, then the one the sender's
        registered owner posted, then the oldest (an alert stored before senders were registered)."""
        owner = select(AgencySender.agency_id).where(AgencySender.sender == sender).scalar_subquery()
        rank = case((cls.agency_id == agency_id, 0), (cls.agency_id == owner, 1), else_=2)
        return session.scalar(select(cls).where(cls.sender == sender, cls.identifier == identifier)
                              .order_by(rank, cls.id).limit(1))

    @property
    def county_codes(self) -> list[str]:
        return [county.code for county in self.counties]

    def move_to(self, state: AlertState) -> None:
        if state not in TRANSITIONS[self.state]:
            raise InvalidTransition(self.state, state)
        self.state = state
        self.state_changed_at = utcnow()

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def cap_reference(self) -> str:
        """This alert as another message's <references> names it: sender,identifier,sent."""
        return f"{self.sender},{self.identifier},{self.sent.isoformat()}"


def without_bulky_columns() -> tuple[ORMOption, ...]:
    """Loader options for a query that lists alerts: never read the columns that grow with the message,
    the area as sent (every polygon point), each <info> block (the polygons again, per language) and
    the original bytes. Four alerts with 200,000-point polygons made the inbox poll take 4 s.
    A function, as building the options configures the mappers, which needs every model imported."""
    return defer(Alert.area), defer(Alert.infos), defer(Alert.original)


def referenced_alerts(session, alert) -> list[Alert]:
    """The alerts named in `alert.references` that we hold (matched on sender and identifier, the
    alert's own agency's first)."""
    found: list[Alert] = []
    agency_id = alert.agency.id if alert.agency is not None else None
    for reference in alert.references:
        sender, identifier = reference.split(",")[:2]
        target = Alert.named_by(session, sender, identifier, agency_id)
        if target is not None:
            found.append(target)
    return found
