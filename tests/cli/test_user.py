"""`flask user ...`: console accounts, with the password on standard input."""
from __future__ import annotations

from sqlalchemy import func, select

from warning_service.extensions import db
from warning_service.models import AuditEvent, Role, User


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_create_reads_the_password_from_stdin(app):
    result = app.test_cli_runner().invoke(args=["user", "create", "dolma", "--role", "duty_officer"],
                                          input="a long enough secret\nignored second line\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "dolma"))
    assert user.role is Role.DUTY_OFFICER and user.active
    assert user.password_hash != "a long enough secret"
    assert user.check_password("a long enough secret")
    assert "a long enough secret" not in result.output
    assert db.session.scalar(select(AuditEvent.action)) == "user.create"


def test_short_empty_and_duplicate_are_refused(app):
    runner = app.test_cli_runner()
    for password, message in (("short\n", "at least 10 characters"), ("\n", "empty password"), ("", "empty password")):
        result = runner.invoke(args=["user", "create", "tenzin", "--role", "admin"], input=password)
        assert result.exit_code != 0 and message in result.output, result.output
    assert users() == 0
    assert runner.invoke(args=["user", "create", "tenzin", "--role", "admin"], input="0123456789\n").exit_code == 0
    result = runner.invoke(args=["user", "create", "tenzin", "--role", "auditor"], input="0123456789\n")
    assert result.exit_code != 0 and "already exists" in result.output
    assert users() == 1


def test_bad_role_is_refused(app):
    result = app.test_cli_runner().invoke(args=["user", "create", "x", "--role", "root"], input="0123456789\n")
    assert result.exit_code != 0 and "duty_officer" in result.output
    assert users() == 0


def test_set_role_and_deactivate(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["user", "create", "pema", "--role", "auditor"], input="0123456789ab\n")
    assert runner.invoke(args=["user", "set-role", "pema", "admin"]).exit_code == 0
    assert runner.invoke(args=["user", "deactivate", "pema"]).exit_code == 0
    again = runner.invoke(args=["user", "deactivate", "pema"])
    assert again.exit_code == 0 and "user 'pema' was already inactive" in again.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.username == "pema"))
    assert user.role is Role.ADMIN and not user.active
    assert list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))) == [
        "user.create", "user.set_role", "user.deactivate"]
    result = runner.invoke(args=["user", "deactivate", "nobody"])
    assert result.exit_code != 0 and "no user named" in result.output
