"""`flask endpoints ...`: broadcast platforms and BeiDou terminals, secrets never shown."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.support.cli import assert_refused
from warning_service.extensions import db
from warning_service.models import AuditEvent, BeidouTerminal, BroadcastEndpoint

SECRET = "platform-signing-key-7f3a"
URL = "https://ebm.kangding.example/ebm"


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["endpoints", *args])


def add_broadcast(app, *extra: str, county: str = "513301", url: str = URL, secret: str = SECRET):
    return invoke(app, "add-broadcast", "--county", county, "--url", url, "--secret", secret, *extra)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_details() -> list[tuple[str, dict]]:
    return [(event.action, event.detail) for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_add_broadcast_stores_the_secret_and_never_shows_it(app):
    result = add_broadcast(app, "--exercise")
    assert result.exit_code == 0, result.output
    endpoint = db.session.scalar(select(BroadcastEndpoint))
    assert (endpoint.county_code, endpoint.url, endpoint.secret) == ("513301", URL, SECRET)
    assert endpoint.name == "康定市应急广播平台" and endpoint.exercise and endpoint.active
    assert SECRET not in result.output and "exercise" in result.output
    [(action, detail)] = audit_details()
    assert action == "broadcast_endpoint.add" and detail["url"] == URL
    assert SECRET not in str(detail)


def test_the_secret_is_asked_for_hidden_when_not_given(app):
    result = app.test_cli_runner().invoke(args=["endpoints", "add-broadcast", "--county", "513301", "--url", URL],
                                          input=f"{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(BroadcastEndpoint.secret)) == SECRET
    assert SECRET not in result.output


@pytest.mark.parametrize(("args", "phrase"), [
    (("--county", "510100"), "not one of the 31 counties"),
    (("--county", "513200"), "not one of the 31 counties"),  # the prefecture, not a county
    (("--url", "ftp://ebm.example/x"), "http:// or https://"),
    (("--url", "https://"), "http:// or https://"),
    (("--secret", "  "), "cannot be empty"),
    (("--name", "长" * 121), "at most 120"),
])
def test_bad_broadcast_input_is_refused_and_nothing_stored(app, args, phrase):
    fields = {"--county": "513301", "--url": URL, "--secret": SECRET}
    fields.update(dict(zip(args[::2], args[1::2])))
    assert_refused(invoke(app, "add-broadcast", *[part for pair in fields.items() for part in pair]), phrase)
    assert count(BroadcastEndpoint) == 0 and count(AuditEvent) == 0


def test_a_url_already_in_use_is_refused(app):
    assert add_broadcast(app).exit_code == 0
    assert_refused(add_broadcast(app, county="513322"), "already has the URL")
    assert count(BroadcastEndpoint) == 1


def test_add_beidou_with_township_group_and_exercise(app):
    result = invoke(app, "add-beidou", "--county", "513301", "--card", "0412345", "--township", "513301100000",
                    "--group", "--exercise", "--name", "雅拉乡村组广播")
    assert result.exit_code == 0, result.output
    terminal = db.session.scalar(select(BeidouTerminal))
    assert (terminal.card_address, terminal.township_code, terminal.name) == ("0412345", "513301100000", "雅拉乡村组广播")
    assert terminal.is_group and terminal.exercise
    assert [action for action, _ in audit_details()] == ["beidou_terminal.add"]


@pytest.mark.parametrize(("args", "phrase"), [
    (("--card", "12345"), "7 digits"),
    (("--card", "12345678"), "7 digits"),
    (("--card", "04a2345"), "7 digits"),
    (("--township", "5133011000"), "12 digits"),
    (("--township", "513322100000"), "begins with its county's code 513301"),
    (("--county", "999999"), "not one of the 31 counties"),
])
def test_bad_beidou_input_is_refused_and_nothing_stored(app, args, phrase):
    fields = {"--county": "513301", "--card": "0412345"}
    fields.update(dict(zip(args[::2], args[1::2])))
    assert_refused(invoke(app, "add-beidou", *[part for pair in fields.items() for part in pair]), phrase)
    assert count(BeidouTerminal) == 0 and count(AuditEvent) == 0


def test_a_card_is_registered_once(app):
    assert invoke(app, "add-beidou", "--county", "513301", "--card", "0412345").exit_code == 0
    assert_refused(invoke(app, "add-beidou", "--county", "513322", "--card", "0412345"), "already terminal")
    assert count(BeidouTerminal) == 1


def test_list_shows_both_kinds_without_secrets(app):
    add_broadcast(app)
    invoke(app, "add-beidou", "--county", "513322", "--card", "0412345")
    result = invoke(app, "list")
    assert result.exit_code == 0, result.output
    assert "broadcast endpoints: 1" in result.output and URL in result.output
    assert "BeiDou terminals: 1" in result.output and "0412345" in result.output
    assert SECRET not in result.output


def test_remove_deactivates_and_keeps_the_row(app):
    add_broadcast(app)
    invoke(app, "add-beidou", "--county", "513301", "--card", "0412345")
    endpoint_id = db.session.scalar(select(BroadcastEndpoint.id))
    terminal_id = db.session.scalar(select(BeidouTerminal.id))
    for kind, target_id in (("broadcast", endpoint_id), ("beidou", terminal_id)):
        result = invoke(app, "remove", kind, str(target_id))
        assert result.exit_code == 0, result.output
        assert "deactivated" in result.output
        assert_refused(invoke(app, "remove", kind, str(target_id)), "already inactive")
    db.session.expire_all()
    assert not db.session.get(BroadcastEndpoint, endpoint_id).active
    assert not db.session.get(BeidouTerminal, terminal_id).active
    assert "inactive" in invoke(app, "list").output
    assert [action for action, _ in audit_details()][-2:] == ["broadcast_endpoint.deactivate",
                                                               "beidou_terminal.deactivate"]
    assert add_broadcast(app).exit_code == 0  # the URL is free again


def test_removing_an_unknown_id_says_so(app):
    assert_refused(invoke(app, "remove", "broadcast", "999"), "no broadcast endpoint with id 999")
    assert_refused(invoke(app, "remove", "beidou", "999"), "no BeiDou terminal with id 999")
    assert_refused(invoke(app, "remove", "loudspeaker", "1"), "'loudspeaker' is not one of")
