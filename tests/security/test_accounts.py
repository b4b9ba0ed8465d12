"""The account rules the admin pages and `flask user` share, called as plain functions on a session."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from warning_service.extensions import db
from warning_service.models import AuditEvent, Role, User
from warning_service.security import accounts
from warning_service.security.accounts import AccountRefused

PASSWORD = "a long enough password"


def actions() -> list[tuple[str, dict]]:
    return [(event.action, event.detail) for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_create_user_trims_the_name_hashes_the_password_and_audits_without_it(app):
    user = accounts.create_user(db.session, None, "test", "  dolma ", Role.AUDITOR, PASSWORD)
    db.session.commit()
    assert (user.username, user.role, user.active) == ("dolma", Role.AUDITOR, True)
    assert user.check_password(PASSWORD) and user.password_hash != PASSWORD
    assert actions() == [("user.create", {"via": "test", "username": "dolma", "role": "auditor"})]


@pytest.mark.parametrize("username, password, code", [
    ("", PASSWORD, "username_length"),
    ("   ", PASSWORD, "username_length"),
    ("x" * (accounts.MAX_USERNAME + 1), PASSWORD, "username_length"),
    ("pema", "short", "password_too_short"),
])
def test_create_user_refuses_a_bad_name_or_password(app, username, password, code):
    with pytest.raises(AccountRefused) as refused:
        accounts.create_user(db.session, None, "test", username, Role.ADMIN, password)
    assert refused.value.code == code and not refused.value.conflict
    assert db.session.scalar(select(User.id)) is None and actions() == []


def test_a_taken_name_is_a_conflict_before_any_password_is_read(app):
    accounts.create_user(db.session, None, "test", "tenzin", Role.ADMIN, PASSWORD)
    with pytest.raises(AccountRefused) as refused:
        accounts.checked_username(db.session, " tenzin")
    assert refused.value.code == "username_taken" and refused.value.conflict
    assert str(refused.value) == "a user named 'tenzin' already exists"
    assert accounts.checked_username(db.session, " tenzin2 ") == "tenzin2"


def test_deactivate_ends_sessions_once_and_refuses_an_inactive_user(app):
    user = accounts.create_user(db.session, None, "test", "pema", Role.DUTY_OFFICER, PASSWORD)
    version = user.session_version or 0
    accounts.deactivate(db.session, None, "test", user)
    assert not user.active and user.session_version == version + 1
    with pytest.raises(AccountRefused) as refused:
        accounts.deactivate(db.session, None, "test", user)
    assert refused.value.code == "user_inactive" and refused.value.conflict
    assert [action for action, _ in actions()] == ["user.create", "user.deactivate"]
