"""People who sign in to the console, their session version and their second factor (TOTP)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Base
from .types import UTCDateTime, enum_column, utcnow

MIN_PASSWORD_LENGTH = 10


class Role(str, enum.Enum):
    ADMIN = "admin"
    DUTY_OFFICER = "duty_officer"
    AUDITOR = "auditor"
    TRANSLATOR = "translator"   # proposes and reviews the Tibetan the public receives (the translation desk)


class User(Base):
    """A console user. It answers Flask-Login's questions itself (is_active, is_authenticated,
    is_anonymous, get_id), so the model does not import Flask-Login."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    locale: Mapped[str] = mapped_column(String(10), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's user id: raising it (sign-out, new password, new role, deactivation,
    # second factor reset) ends every session the user has, whichever browser holds the cookie.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # TOTP (RFC 6238) base32 secret; set but not confirmed (mfa_enrolled_at empty) while enrolling.
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step accepted: a code is never accepted twice, nor an older one.
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)

    recovery_codes: Mapped[list[RecoveryCode]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                                 order_by="RecoveryCode.id")

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user cannot sign in
        return self.active

    @property
    def is_authenticated(self) -> bool:  # Flask-Login: an anonymous visitor is a different class
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def mfa_enrolled(self) -> bool:
        return self.mfa_secret is not None and self.mfa_enrolled_at is not None

    def get_id(self) -> str:  # Flask-Login keeps this in the session; load_user compares the version
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class RecoveryCode(Base):
    """A one-time code that replaces a TOTP code when the phone is lost; stored as a SHA-256 digest."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="recovery_codes")
