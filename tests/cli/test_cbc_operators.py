"""`flask endpoints add-cbc | list-cbc | remove-cbc`: the operators' CBCs, through the same registry as the
admin page; secrets are never printed."""
from __future__ import annotations

from sqlalchemy import select

from tests.support.cli import assert_refused
from warning_service.extensions import db
from warning_service.models import AuditEvent, CbcOperator

TOKEN = "cli-token-" + "ab" * 12
SECRET = "cli-secret-" + "cd" * 12


def invoke(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["endpoints", *args], input=input)


def add(app, *extra: str):
    return invoke(app, "add-cbc", "--operator", "cmcc", "--name", "中国移动", "--url", "https://cbc.cmcc.example/cap",
                  "--failover-url", "https://cbc2.cmcc.example/cap", "--token", TOKEN, "--callback-secret", SECRET,
                  *extra)


def test_add_list_and_remove(app):
    result = add(app, "--max-vertices", "60", "--identifier", "red=4370,4383", "--exercise")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("CBC cmcc added: 中国移动 https://cbc.cmcc.example/cap failover "
                                     "https://cbc2.cmcc.example/cap, at most 60 vertices (exercise)")
    operator = db.session.scalar(select(CbcOperator))
    assert (operator.token, operator.callback_secret, operator.identifiers) == (TOKEN, SECRET, {"red": [4370, 4383]})
    listed = invoke(app, "list-cbc")
    assert "cell broadcast centres: 1" in listed.output and "link not tested" in listed.output
    removed = invoke(app, "remove-cbc", "cmcc")
    assert removed.exit_code == 0 and "deactivated" in removed.output
    assert "(exercise, inactive)" in invoke(app, "list-cbc").output
    assert_refused(invoke(app, "remove-cbc", "cmcc"), "already inactive")
    assert_refused(invoke(app, "remove-cbc", "nobody"), "no CBC 'nobody'")
    for output in (result.output, listed.output, removed.output):
        assert TOKEN not in output and SECRET not in output
    assert [(e.action, e.detail["via"]) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] \
        == [("cbc_operator.add", "cli"), ("cbc_operator.deactivate", "cli")]


def test_the_token_and_secret_are_asked_for_hidden(app):
    result = invoke(app, "add-cbc", "--operator", "cucc", "--name", "中国联通", "--url", "https://cbc.cucc.example/cap",
                    input=f"{TOKEN}\n{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and SECRET not in result.output
    assert db.session.scalar(select(CbcOperator.callback_secret)) == SECRET


def test_refusals_name_the_option_and_store_nothing(app):
    assert_refused(add(app, "--max-vertices", "3"), "--max-vertices", "5 to 10000")
    assert_refused(add(app, "--identifier", "red=1,2"), "--identifier", "4352 to 6399")
    assert add(app).exit_code == 0
    assert_refused(add(app), "already the operator")
    assert db.session.scalar(select(CbcOperator.code)) == "cmcc"
