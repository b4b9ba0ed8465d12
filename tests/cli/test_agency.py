"""`flask agency ...`: agencies and their API keys."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.support.cli import assert_refused
from warning_service.extensions import db
from warning_service.models import Agency, ApiKey, AuditEvent
from warning_service.security.api_keys import agency_for_key


def create(runner, name="阿坝州气象局", *extra):
    return runner.invoke(args=["agency", "create", name, "--kind", "weather", "--hazards", "rainstorm,gale", *extra])


def key_of(result) -> str:
    return result.output.strip().splitlines()[-1]


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_create_prints_a_working_key_last(app):
    result = create(app.test_cli_runner())
    assert result.exit_code == 0, result.output
    key = key_of(result)
    agency = agency_for_key(db.session, key)
    assert agency is not None and agency.name == "阿坝州气象局"
    assert agency.hazards == ["rainstorm", "gale"] and not agency.auto_publish
    assert len(agency.cap_senders) == 1 and agency.default_sender.startswith("weather.")
    stored = db.session.scalar(select(ApiKey))
    assert stored.key_hash != key and key not in stored.key_hash
    assert actions() == ["agency.create", "api_key.issue"]


def test_create_with_all_hazards_auto_publish_and_sender(app):
    result = app.test_cli_runner().invoke(args=["agency", "create", "四川省地震局", "--kind", "seismic",
                                                "--hazards", "all", "--auto-publish", "--sender", "eq@example.org"])
    assert result.exit_code == 0, result.output
    agency = agency_for_key(db.session, key_of(result))
    assert agency.hazards == ["all"] and agency.auto_publish and agency.cap_senders == ["eq@example.org"]


def test_bad_input_is_refused_and_nothing_stored(app):
    runner = app.test_cli_runner()
    assert_refused(runner.invoke(args=["agency", "create", "X", "--kind", "police", "--hazards", "flood"]),
                   "police", "seismic", "hydrology")
    assert_refused(runner.invoke(args=["agency", "create", "X", "--kind", "weather", "--hazards", "rainstorm,tsunami"]),
                   "tsunami", "unknown hazard")
    assert_refused(runner.invoke(args=["agency", "create", "X", "--kind", "weather", "--hazards", " , "]),
                   "at least one hazard")
    assert_refused(runner.invoke(args=["agency", "create", "X", "--kind", "weather", "--hazards", "all,flood"]),
                   "'all' cannot be combined")
    assert_refused(runner.invoke(args=["agency", "create", "X", "--kind", "weather", "--hazards", "flood",
                                       "--sender", "a b"]), "CAP sender")
    assert db.session.scalar(select(func.count()).select_from(Agency)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_duplicate_name_is_refused(app):
    runner = app.test_cli_runner()
    assert create(runner).exit_code == 0
    assert_refused(create(runner), "already exists")
    assert db.session.scalar(select(func.count()).select_from(Agency)) == 1
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 1


def test_rotate_keeps_the_old_key_and_revoke_stops_it(app):
    runner = app.test_cli_runner()
    first = key_of(create(runner))
    rotated = runner.invoke(args=["agency", "rotate-key", "阿坝州气象局"])
    assert rotated.exit_code == 0, rotated.output
    second = key_of(rotated)
    assert second != first
    assert agency_for_key(db.session, first) is not None
    assert agency_for_key(db.session, second) is not None

    listing = runner.invoke(args=["agency", "list"])
    first_prefix, second_prefix = first.split("_")[1], second.split("_")[1]
    assert first_prefix in listing.output and second_prefix in listing.output and "weather" in listing.output

    revoked = runner.invoke(args=["agency", "revoke-key", "阿坝州气象局", "--prefix", first_prefix])
    assert revoked.exit_code == 0, revoked.output
    db.session.expire_all()
    assert agency_for_key(db.session, first) is None
    assert agency_for_key(db.session, second) is not None
    assert first_prefix not in runner.invoke(args=["agency", "list"]).output
    assert actions()[-2:] == ["api_key.issue", "api_key.revoke"]

    assert_refused(runner.invoke(args=["agency", "revoke-key", "阿坝州气象局", "--prefix", first_prefix]), "no live key")


def test_revoke_all_but_newest(app):
    runner = app.test_cli_runner()
    keys = [key_of(create(runner))] + [key_of(runner.invoke(args=["agency", "rotate-key", "阿坝州气象局"])) for _ in range(2)]
    result = runner.invoke(args=["agency", "revoke-key", "阿坝州气象局", "--all-but-newest"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert [agency_for_key(db.session, key) is not None for key in keys] == [False, False, True]


def test_key_commands_need_a_known_agency_and_one_choice(app):
    runner = app.test_cli_runner()
    assert_refused(runner.invoke(args=["agency", "rotate-key", "nobody"]), "no agency named")
    create(runner)
    assert_refused(runner.invoke(args=["agency", "revoke-key", "阿坝州气象局"]), "exactly one of")


def test_senders_are_set_at_creation_edited_and_each_one_agencys_alone(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["agency", "create", "甘孜州气象台", "--kind", "weather", "--hazards", "rainstorm",
                               "--sender", "gz.met@example.org", "--sender", "gz.met.backup@example.org"])
    assert made.exit_code == 0, made.output
    assert "gz.met@example.org, gz.met.backup@example.org" in made.output
    assert_refused(create(runner, "阿坝州气象局", "--sender", "gz.met.backup@example.org"),
                   "gz.met.backup@example.org", "甘孜州气象台")
    assert_refused(create(runner, "阿坝州气象局", "--sender", app.config["CONSOLE_CAP_SENDER"]), "service's own")
    assert create(runner, "阿坝州气象局", "--sender", "ab.met@example.org").exit_code == 0

    shown = runner.invoke(args=["agency", "senders", "甘孜州气象台"])
    assert shown.output.splitlines() == ["gz.met@example.org", "gz.met.backup@example.org"]
    assert_refused(runner.invoke(args=["agency", "senders", "甘孜州气象台", "gz.new@example.org", "ab.met@example.org"]),
                   "ab.met@example.org", "阿坝州气象局")
    changed = runner.invoke(args=["agency", "senders", "甘孜州气象台", "gz.new@example.org", "gz.met@example.org"])
    assert changed.exit_code == 0, changed.output
    db.session.expire_all()
    agency = db.session.scalar(select(Agency).where(Agency.name == "甘孜州气象台"))
    assert agency.cap_senders == ["gz.new@example.org", "gz.met@example.org"]
    update = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agency.update"))
    assert (update.detail["senders_added"], update.detail["senders_removed"]) == (
        ["gz.new@example.org"], ["gz.met.backup@example.org"])
    # the sender given up is free again
    assert create(runner, "四川省气象台", "--sender", "gz.met.backup@example.org").exit_code == 0
