"""The translation desk: every piece of Tibetan the public can receive, and the proposals for it.

An entry is one translatable item (a hazard's name, a protective action, a template's term, a place,
a console catalog message), keyed by a stable string. Its Tibetan is either sourced (glossary rows,
reference data) or approved on the desk from a translator's proposal by a second translator; the
program never composes it. Proposals are versioned per entry and never deleted.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .types import UTCDateTime, enum_column, utcnow
from .user import User

MAX_KEY = 200
MAX_COMMENT = 1000
MAX_TIBETAN = 2000


class EntryStatus(str, enum.Enum):
    MISSING = "missing"       # no Tibetan, no proposal waiting
    PROPOSED = "proposed"     # a proposal waits for a second translator
    APPROVED = "approved"     # Tibetan in use: sourced, or approved on the desk


class ProposalState(str, enum.Enum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    RETURNED = "returned"     # sent back with a comment
    SUPERSEDED = "superseded"  # a later proposal replaced it before a decision


class TranslationEntry(Base):
    __tablename__ = "translation_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    zh: Mapped[str] = mapped_column(Text)
    en: Mapped[str] = mapped_column(Text, default="")
    hazard_code: Mapped[str | None] = mapped_column(String(40), index=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    used_in: Mapped[str] = mapped_column(Text, default="")
    bo: Mapped[str | None] = mapped_column(Text)          # the Tibetan in use, or none
    bo_source: Mapped[str] = mapped_column(Text, default="")  # glossary rows, or who approved it on the desk
    status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus), default=EntryStatus.MISSING, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    approved_by: Mapped[User | None] = relationship()
    proposals: Mapped[list[TranslationProposal]] = relationship(back_populates="entry",
                                                                order_by="TranslationProposal.version")


class TranslationProposal(Base):
    __tablename__ = "translation_proposals"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("translation_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    bo: Mapped[str] = mapped_column(Text)
    state: Mapped[ProposalState] = mapped_column(enum_column(ProposalState), default=ProposalState.PROPOSED)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[TranslationEntry] = relationship(back_populates="proposals")
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
