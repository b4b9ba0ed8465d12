"""Changing a console account: its role, its password. The `flask user` commands and the admin
pages call these, so the rules and the audit entries are the same; nothing is committed here.
The audit entry of a password reset says who reset it, never the password."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..audit.events import Actor, record
from ..models import Role, User
from ..models.user import MIN_PASSWORD_LENGTH


class AccountRefused(ValueError):
    """The change breaks a rule; the text says which."""


def set_role(session: Session, actor: Actor, via: str, user: User, role: Role) -> Role:
    """Give the user another role; returns the previous one."""
    previous = user.role
    user.role = role
    record(session, actor, "user.set_role", user, via=via, username=user.username, previous=previous.value,
           role=role.value)
    return previous


def reset_password(session: Session, actor: Actor, via: str, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountRefused(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    user.set_password(password)
    record(session, actor, "user.reset_password", user, via=via, username=user.username)
