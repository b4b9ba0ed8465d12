"""Changing a console account: its role, its password, whether it is active, its sessions. The `flask
user` commands and the admin pages call these, so the rules and the audit entries are the same;
nothing is committed here. The audit entry of a password reset says who reset it, never the password.

A new password, a new role and deactivation each end every session the user has (`end_sessions`):
a cookie captured before the change is worth nothing after it.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.events import Actor, record
from ..models import Role, User
from ..models.user import MIN_PASSWORD_LENGTH


# Why an account change is refused: a stable code and its English text; web/refusals.py words it by code.
REFUSAL_TEXTS = {"password_too_short": "password too short: at least %(min)d characters"}


class AccountRefused(ValueError):
    """The change breaks a rule: `code` (a key of REFUSAL_TEXTS) says which, `details` fill its text."""

    def __init__(self, code: str, **details: object) -> None:
        self.code = code
        self.details = details
        super().__init__(REFUSAL_TEXTS[code] % details)


def end_sessions(user: User) -> None:
    """Every session of the user stops working at its next request (their user id no longer matches)."""
    user.session_version = (user.session_version or 0) + 1


@lru_cache(maxsize=1)
def _dummy_password_hash() -> str:
    return generate_password_hash("no account has this password")


def authenticate(session: Session, username: str, password: str) -> tuple[User | None, bool]:
    """The user of that username (None if unknown) and whether the password lets them in (active, right).
    A password hash is checked even for an unknown username, so the answer takes as long and does not
    tell which usernames exist."""
    user = session.scalar(select(User).where(User.username == username))
    matches = check_password_hash(user.password_hash if user is not None else _dummy_password_hash(), password)
    return user, matches and user is not None and user.active


def set_role(session: Session, actor: Actor, via: str, user: User, role: Role) -> Role:
    """Give the user another role; returns the previous one."""
    previous = user.role
    user.role = role
    end_sessions(user)
    record(session, actor, "user.set_role", user, via=via, username=user.username, previous=previous.value,
           role=role.value)
    return previous


def reset_password(session: Session, actor: Actor, via: str, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused("password_too_short", min=MIN_PASSWORD_LENGTH)
    user.set_password(password)
    end_sessions(user)
    record(session, actor, "user.reset_password", user, via=via, username=user.username)


def deactivate(session: Session, actor: Actor, via: str, user: User) -> None:
    """Stop the user signing in and end their sessions; the account and its history stay."""
    user.active = False
    end_sessions(user)
    record(session, actor, "user.deactivate", user, via=via, username=user.username)
