"""The second factor: enrolment (QR code, secret, one code to confirm, ten recovery codes shown once and
stored hashed), the code after the password (half signed in until then), wrong codes in the lockout,
no replay, recovery codes once only, an admin's or the CLI's reset, and the ledger rows of each."""
from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from tests.support.console import PASSWORD, csrf_token, fresh_request, make_user, post_form, sign_in
from warning_service.config import Settings
from warning_service.extensions import db
from warning_service.models import AuditEvent, RecoveryCode, Role, User


def user(name: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == name))


def actions(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def password_step(client, name: str):
    return client.post("/login", data={"username": name, "password": PASSWORD,
                                       "csrf_token": csrf_token(client, "/login")})


def code_step(client, code: str):
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})


def enrol(client, name: str) -> list[str]:
    """Enrol through the page (the password step done); the recovery codes it shows."""
    page = client.get("/mfa/enrol")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in text and page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', text).group(1)
    assert secret == user(name).mfa_secret
    wrong = client.post("/mfa/enrol", data={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111",
                                            "csrf_token": csrf_token(client, "/mfa/enrol")})
    assert wrong.status_code == 422 and not user(name).mfa_enrolled
    done = client.post("/mfa/enrol", data={"code": pyotp.TOTP(secret).now(),
                                           "csrf_token": csrf_token(client, "/mfa/enrol")})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    return re.findall(r"<li><code>([0-9a-f-]+)</code></li>", done.get_data(as_text=True))


def test_an_officer_without_a_second_factor_must_enrol_before_anything_else(app, client, people):
    make_user("newcomer", Role.DUTY_OFFICER, enrolled=False)
    answer = password_step(client, "newcomer")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/mfa/enrol")
    for path in ("/", "/compose", "/reports/period", "/admin/"):
        fresh_request()
        assert client.get(path).status_code == 302, path  # half signed in is not signed in
    codes = enrol(client, "newcomer")
    assert len(codes) == 10 and len(set(codes)) == 10
    assert user("newcomer").mfa_enrolled and client.get("/").status_code == 200
    stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # hashed, never the codes themselves
    assert len(actions("user.mfa_enrol")) == 1 and actions("user.login")[-1].detail["second_factor"] == "enrolment"


def test_an_enrolled_officer_gives_a_code_after_the_password(app, client, people):
    answer = password_step(client, "officer")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/code")
    fresh_request()
    assert client.get("/").status_code == 302
    signed_in = code_step(client, pyotp.TOTP(user("officer").mfa_secret).now())
    assert signed_in.status_code == 302 and client.get("/").status_code == 200
    assert actions("user.login")[-1].detail["second_factor"] == "totp"


def test_wrong_codes_count_toward_the_lockout(app, client, people):
    limit = app.config["LOGIN_MAX_FAILURES"]
    password_step(client, "officer")
    assert [code_step(client, "12;456").status_code for _ in range(limit)] == [400] * limit  # not even a code
    statuses = [code_step(client, f"{n:06d}").status_code for n in range(limit)]
    totp = pyotp.TOTP(user("officer").mfa_secret)
    assert statuses == [401] * limit or totp.now() in {f"{n:06d}" for n in range(limit)}
    assert code_step(client, totp.now()).status_code == 429  # even the right code waits now
    fresh_request()
    assert client.get("/").status_code == 302
    assert password_step(client, "officer").status_code == 429  # the password too, for a while
    assert len(actions("user.mfa_failed")) == limit


def test_a_code_is_not_accepted_twice(app, client, people):
    code = pyotp.TOTP(user("officer").mfa_secret).now()
    password_step(client, "officer")
    assert code_step(client, code).status_code == 302
    post_form(client, "/logout", "/")
    fresh_request()
    password_step(client, "officer")
    assert code_step(client, code).status_code == 401  # replayed within its window
    fresh_request()
    assert client.get("/").status_code == 302


def test_a_recovery_code_works_once(app, client, people):
    make_user("tenzin", Role.ADMIN, enrolled=False)
    password_step(client, "tenzin")
    codes = enrol(client, "tenzin")
    post_form(client, "/logout", "/")
    for expected in (302, 401):
        fresh_request()
        password_step(client, "tenzin")
        assert code_step(client, codes[3].upper()).status_code == expected
        if expected == 302:
            post_form(client, "/logout", "/")
    used = actions("user.mfa_recovery_used")
    assert len(used) == 1 and used[0].detail["left"] == 9
    assert actions("user.login")[-1].detail["second_factor"] == "recovery code"


def test_an_admin_resets_a_second_factor_and_the_users_sessions_end(app, people):
    officer = app.test_client()
    assert sign_in(officer, "officer").status_code == 302
    fresh_request()
    admin = app.test_client()
    assert sign_in(admin, "admin").status_code == 302
    target = user("officer").id
    assert post_form(admin, f"/admin/users/{target}/mfa/reset", "/admin/").status_code == 303
    assert user("officer").mfa_secret is None and not db.session.scalars(select(RecoveryCode)).all()
    reset = actions("user.mfa_reset")
    assert len(reset) == 1 and reset[0].actor_id == user("admin").id and reset[0].subject_id == target
    fresh_request()
    assert officer.get("/").status_code == 302  # their session ended with the reset
    fresh_request()
    assert password_step(officer, "officer").headers["Location"].endswith("/mfa/enrol")


def test_the_cli_resets_a_second_factor(app, people):
    result = app.test_cli_runner().invoke(args=["user", "reset-mfa", "officer"])
    assert result.exit_code == 0, result.output
    assert user("officer").mfa_secret is None and actions("user.mfa_reset")[0].detail["via"] == "cli"
    missing = app.test_cli_runner().invoke(args=["user", "reset-mfa", "nobody"])
    assert missing.exit_code != 0 and "no user named" in missing.output


def test_auditors_may_enrol_but_need_not(app, client, people):
    assert sign_in(client, "auditor").status_code == 302 and client.get("/").status_code == 200
    assert "/mfa/enrol" in client.get("/").get_data(as_text=True)  # offered, not forced
    codes = enrol(client, "auditor")
    assert len(codes) == 10
    post_form(client, "/logout", "/")
    fresh_request()
    assert password_step(client, "auditor").headers["Location"].endswith("/login/code")


def test_without_mfa_required_an_unenrolled_officer_signs_in_with_the_password(app, client, people, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED", False)
    make_user("newcomer", Role.DUTY_OFFICER, enrolled=False)
    answer = password_step(client, "newcomer")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/")


def test_the_code_page_without_a_password_step_sends_to_sign_in(app, client, people):
    assert client.get("/login/code").status_code == 302
    assert client.post("/login/code", data={"code": "123456", "csrf_token": csrf_token(client, "/login")}
                       ).status_code == 302
    assert client.get("/mfa/enrol").status_code == 302


def test_mfa_is_required_by_default_outside_development(monkeypatch, tmp_path):
    monkeypatch.delenv("MFA_REQUIRED", raising=False)
    monkeypatch.setenv("WARNING_SERVICE_ENV", "production")
    assert Settings.from_env(str(tmp_path)).MFA_REQUIRED is True
    monkeypatch.setenv("WARNING_SERVICE_ENV", "development")
    assert Settings.from_env(str(tmp_path)).MFA_REQUIRED is False
    monkeypatch.setenv("MFA_REQUIRED", "true")
    assert Settings.from_env(str(tmp_path)).MFA_REQUIRED is True
