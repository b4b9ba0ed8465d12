"""Creating and changing a console account: its role, its password, whether it is active, its sessions.
The `flask user` commands and the admin pages call these, so the rules and the audit entries are the same;
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

MAX_USERNAME = 80  # the column's length

# Why an account change is refused: a stable code and its English text (the CLI's); web/refusals.py words it
# by code in the admin's language.
REFUSAL_TEXTS = {
    "password_too_short": "password too short: at least %(min)d characters",
    "username_length": "a username has 1 to %(max)d characters",
    "username_taken": "a user named %(name)r already exists",
    "user_inactive": "user %(name)r was already inactive",
}


class AccountRefused(ValueError):
    """The change breaks a rule: `code` (a key of REFUSAL_TEXTS) says which, `details` fill its text.

    `conflict`: well-formed, but it clashes with what exists (a name taken, a user already inactive).
    """

    def __init__(self, code: str, conflict: bool = False, **details: object) -> None:
        self.code = code
        self.details = details
        self.conflict = conflict
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


def checked_username(session: Session, username: str) -> str:
    """The username, trimmed, if it may name a new account: the CLI asks before it reads a password."""
    username = username.strip()
    if not 0 < len(username) <= MAX_USERNAME:
        raise AccountRefused("username_length", max=MAX_USERNAME)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountRefused("username_taken", conflict=True, name=username)
    return username


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused("password_too_short", min=MIN_PASSWORD_LENGTH)


def create_user(session: Session, actor: Actor, via: str, username: str, role: Role, password: str) -> User:
    """A new active account; the audit entry names it and its role, never the password."""
    username = checked_username(session, username)
    _check_password(password)
    user = User(username=username, role=role)
    user.set_password(password)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", user, via=via, username=username, role=role.value)
    return user


def set_role(session: Session, actor: Actor, via: str, user: User, role: Role) -> Role:
    """Give the user another role; returns the previous one."""
    previous = user.role
    user.role = role
    end_sessions(user)
    record(session, actor, "user.set_role", user, via=via, username=user.username, previous=previous.value,
           role=role.value)
    return previous


def reset_password(session: Session, actor: Actor, via: str, user: User, password: str) -> None:
    _check_password(password)
    user.set_password(password)
    end_sessions(user)
    record(session, actor, "user.reset_password", user, via=via, username=user.username)


def deactivate(session: Session, actor: Actor, via: str, user: User) -> None:
    """Stop the user signing in and end their sessions; the account and its history stay."""
    if not user.active:
        raise AccountRefused("user_inactive", conflict=True, name=user.username)
    user.active = False
    end_sessions(user)
    record(session, actor, "user.deactivate", user, via=via, username=user.username)
