"""`flask translations list|propose|approve|return|export`: the desk for scripts, with its four eyes, and an
export that `flask templates check` accepts. The Tibetan is a fixture typed as the translator would
(tests/support/text.py), never made up by the program."""
from __future__ import annotations

import shutil

from sqlalchemy import select

from tests.support.cli import assert_refused
from tests.support.console import make_user
from tests.support.text import TIBETAN
from warning_service.extensions import db
from warning_service.hazards import load_catalogue
from warning_service.models import AuditEvent, Role
from warning_service.rendering.render import TEMPLATES_ROOT

ACTION = "action:flash_flood:red"
NAME = "ཆུ་ལོག"   # the glossary's candidate for 山洪 (row 山洪), as a translator would type it


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["translations", *args])


def test_propose_approve_list_and_the_ledger(app):
    make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)
    listed = invoke(app, "list", "--hazard", "flash_flood")
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0].startswith("missing\t")
    assert f"missing\t{ACTION}\t立即向高处转移，不要涉水过河。\t-" in listed.output
    proposed = invoke(app, "propose", "--as", "tr-a", ACTION, TIBETAN)
    assert proposed.exit_code == 0, proposed.output
    assert f"{ACTION}: version 1 proposed by tr-a" in proposed.output and "  sms: 1 UCS-2 segment" in proposed.output
    assert f"proposed\t{ACTION}" in invoke(app, "list", "--status", "proposed").output
    assert_refused(invoke(app, "approve", "--as", "tr-a", ACTION), "a second translator decides")
    approved = invoke(app, "approve", "--as", "tr-b", ACTION)
    assert approved.exit_code == 0, approved.output
    assert f"approved\t{ACTION}\t立即向高处转移，不要涉水过河。\t{TIBETAN}" in invoke(
        app, "list", "--hazard", "flash_flood", "--channel", "sms").output
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["translation.propose", "translation.approve"]
    assert_refused(invoke(app, "approve", "--as", "tr-b", ACTION), "no proposal waits")


def test_refusals_are_said_as_click_says_them(app):
    make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR), make_user("aud", Role.AUDITOR)
    assert_refused(invoke(app, "propose", "--as", "tr-a", ACTION, "立即转移"), "only Tibetan script")
    assert_refused(invoke(app, "propose", "--as", "aud", ACTION, TIBETAN), "only a translator")
    assert_refused(invoke(app, "propose", "--as", "nobody", ACTION, TIBETAN), "no user named 'nobody'")
    assert_refused(invoke(app, "propose", "--as", "tr-a", "action:flash_flood:purple", TIBETAN), "no translation entry")
    assert invoke(app, "propose", "--as", "tr-a", "term:取消", TIBETAN).exit_code == 0
    assert_refused(invoke(app, "return", "--as", "tr-b", "--comment", " ", "term:取消"), "say why it goes back")
    returned = invoke(app, "return", "--as", "tr-b", "--comment", "请改用更常见的说法", "term:取消")
    assert returned.exit_code == 0, returned.output
    assert "missing\tterm:取消" in invoke(app, "list", "--kind", "term").output


def test_export_writes_what_templates_check_accepts(app, tmp_path):
    make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)
    for key, bo in [(ACTION, TIBETAN), ("hazard:flash_flood", NAME), ("term:取消", TIBETAN)]:
        assert invoke(app, "propose", "--as", "tr-a", key, bo).exit_code == 0
        assert invoke(app, "approve", "--as", "tr-b", key).exit_code == 0
    root = tmp_path / "templates_bo_zh"
    shutil.copytree(TEMPLATES_ROOT, root)
    exported = invoke(app, "export", "--root", str(root))
    assert exported.exit_code == 0, exported.output
    assert "2 approved entries written" in exported.output and "term:取消: kept in the database only" in exported.output
    flood = load_catalogue(root / "hazards.toml").get("flash_flood")
    assert (flood.names["bo"], flood.bo_status, flood.actions["red"]["bo"]) == (NAME, "sourced", TIBETAN)
    assert "approved by tr-b on" in flood.bo_source
    assert TIBETAN not in (TEMPLATES_ROOT / "hazards.toml").read_text(encoding="utf-8")   # the shipped file is untouched
    checked = app.test_cli_runner().invoke(args=["templates", "check", "--root", str(root)])
    assert checked.exit_code == 0, checked.output
    assert "problems 0" in checked.output
