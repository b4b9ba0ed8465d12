"""A captured session cookie: dead after signing out, a new password, a new role or deactivation, since
the session's user id carries the user's session version and every request checks it. Signing in
starts a new session and a new CSRF token, and an unknown username costs a password hash as a known
one does (checked by spying on the hash check, not by timing)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.console import csrf_token, fresh_request, post_form, sign_in
from warning_service.extensions import db
from warning_service.models import User
from warning_service.security import accounts


def officer_id() -> int:
    return db.session.scalar(select(User.id).where(User.username == "officer"))


def end_by_logout(app, victim) -> None:
    assert post_form(victim, "/logout", "/").status_code == 302


def end_by_admin(path: str, **fields):
    def end(app, victim) -> None:
        fresh_request()
        admin = app.test_client()
        assert sign_in(admin, "admin").status_code == 302
        assert post_form(admin, path.format(id=officer_id()), "/admin/", **fields).status_code == 303
    return end


ENDINGS = {
    "logout": end_by_logout,
    "password_reset": end_by_admin("/admin/users/{id}/password", password="another long password"),
    "role_change": end_by_admin("/admin/users/{id}/role", role="auditor"),
    "deactivation": end_by_admin("/admin/users/{id}/deactivate"),
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_captured_cookie_is_dead_after_the_session_ends(app, people, ending):
    victim = app.test_client()
    assert sign_in(victim, "officer").status_code == 302
    captured = victim.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", captured)
    fresh_request()
    assert thief.get("/").status_code == 200  # the copy works while the session lives
    ENDINGS[ending](app, victim)
    fresh_request()
    refused = thief.get("/")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"], ending


def test_signing_out_ends_the_users_other_sessions_too(app, people):
    laptop, phone = app.test_client(), app.test_client()
    assert sign_in(laptop, "officer").status_code == 302
    fresh_request()
    assert sign_in(phone, "officer").status_code == 302
    assert post_form(phone, "/logout", "/").status_code == 302
    fresh_request()
    assert laptop.get("/").status_code == 302


def test_signing_in_starts_a_new_session_and_csrf_token(app, client, people):
    before = csrf_token(client, "/login")
    cookie_before = client.get_cookie("session").value
    assert sign_in(client, "auditor").status_code == 302
    fresh_request()
    after = csrf_token(client, "/")
    assert after != before and client.get_cookie("session").value != cookie_before
    # The token of the session before signing in is refused now.
    refused = client.post("/language", data={"csrf_token": before, "language": "en"})
    assert refused.status_code == 400


@pytest.mark.parametrize("username", ["nobody-has-this-name", "inactive"])
def test_an_unknown_or_inactive_username_costs_a_password_hash_too(app, client, people, monkeypatch, username):
    inactive = db.session.scalar(select(User).where(User.username == "auditor"))
    inactive.username, inactive.active = "inactive", False
    db.session.commit()
    checked = []
    real = accounts.check_password_hash

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", spy)
    assert sign_in(client, username).status_code == 401
    assert len(checked) == 1 and checked[0].startswith(("scrypt:", "pbkdf2:"))
