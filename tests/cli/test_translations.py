"""`flask translations list|propose|approve|return|export`: the desk for scripts, with its four eyes, and an
export that `flask templates check` accepts. The Tibetan is a fixture typed as the translator would
(tests/support/text.py), never made up by the program."""
from __future__ import annotations

import csv
import difflib
import re
import shutil
from gettext import GNUTranslations

from sqlalchemy import select

from tests.support.cli import assert_refused
from tests.support.console import make_user
from tests.support.text import TIBETAN
from warning_service.audit.ledger import verify
from warning_service.extensions import db
from warning_service.hazards import load_catalogue
from warning_service.models import AuditEvent, Role
from warning_service.reference_data import REGIONS_DIR
from warning_service.rendering.render import TEMPLATES_ROOT
from warning_service.services.translations import CATALOGS, catalog_items

ACTION = "action:flash_flood:red"
NAME = "ཆུ་ལོག"   # the glossary's candidate for 山洪 (row 山洪), as a translator would type it


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["translations", *args])


def export_copies(app, tmp_path):
    """`flask translations export` into copies of the template set, the catalogs and the regions (the shipped
    files are never written by a test); the result and the copies' directories."""
    copies = {name: tmp_path / name for name in ("templates_bo_zh", "translations", "regions")}
    for shipped, name in ((TEMPLATES_ROOT, "templates_bo_zh"), (CATALOGS, "translations"), (REGIONS_DIR, "regions")):
        shutil.copytree(shipped, copies[name])
    result = invoke(app, "export", "--root", str(copies["templates_bo_zh"]), "--catalogs", str(copies["translations"]),
                    "--regions", str(copies["regions"]))
    return result, copies


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
    for key, bo in [(ACTION, TIBETAN), ("hazard:flash_flood", NAME), ("term:取消", TIBETAN),
                    ("action:move_to_high_ground", TIBETAN)]:
        assert invoke(app, "propose", "--as", "tr-a", key, bo).exit_code == 0
        assert invoke(app, "approve", "--as", "tr-b", key).exit_code == 0
    exported, copies = export_copies(app, tmp_path)
    root = copies["templates_bo_zh"]
    assert exported.exit_code == 0, exported.output
    assert "3 approved entries written" in exported.output and "term:取消: kept in the database only" in exported.output
    flood = load_catalogue(root / "hazards.toml").get("flash_flood")
    assert (flood.names["bo"], flood.bo_status, flood.actions["red"]["bo"]) == (NAME, "sourced", TIBETAN)
    assert "approved by tr-b on" in flood.bo_source
    chosen = load_catalogue(root / "hazards.toml").protective_actions["move_to_high_ground"]
    assert (chosen.bo, chosen.zh) == (TIBETAN, "立即向高处转移") and "approved by tr-b on" in chosen.bo_source
    assert TIBETAN not in (TEMPLATES_ROOT / "hazards.toml").read_text(encoding="utf-8")   # the shipped file is untouched
    checked = app.test_cli_runner().invoke(args=["templates", "check", "--root", str(root)])
    assert checked.exit_code == 0, checked.output
    assert "problems 0" in checked.output


def test_export_writes_approved_catalog_entries_into_the_bo_catalog_and_compiles_it(app, tmp_path):
    make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)
    key = "catalog:Translation desk"
    assert invoke(app, "propose", "--as", "tr-a", key, TIBETAN).exit_code == 0
    assert invoke(app, "approve", "--as", "tr-b", key).exit_code == 0
    exported, copies = export_copies(app, tmp_path)
    catalogs = copies["translations"]
    assert exported.exit_code == 0, exported.output
    assert "1 approved catalog entries written, compiled to messages.mo" in exported.output
    assert "kept in the database only" not in exported.output
    po = catalogs / "bo" / "LC_MESSAGES" / "messages.po"
    shipped = (CATALOGS / "bo" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8").split("\n")
    written = po.read_text(encoding="utf-8").split("\n")
    changed = [line for line in difflib.unified_diff(shipped, written, lineterm="", n=0)
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    removed = [line for line in changed if line.startswith("-")]
    added = [line for line in changed if line.startswith("+")]
    assert removed == ["-#. awaiting review: no sourced Tibetan; Chinese stand-in", '-msgstr "翻译审校台"']
    assert re.fullmatch(r"\+#\. translation desk: proposed by tr-a, approved by tr-b on \d{4}-\d\d-\d\d", added[0])
    assert added[1:] == [f'+msgstr "{TIBETAN}"']
    with open(po.with_suffix(".mo"), "rb") as compiled:
        assert GNUTranslations(compiled).gettext("Translation desk") == TIBETAN
    [item] = [item for item in catalog_items(catalogs) if item.key == key]
    assert (item.bo, item.source) == (TIBETAN, "bo catalog")   # no longer a stand-in: sourced by the desk


def test_export_writes_approved_place_names_into_counties_csv_and_the_named_areas_rows(app, tmp_path, hailuogou):
    make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)
    for key, bo in [("place:513301", "ས་ཡོམ"), ("place:area:hailuogou", "ཉེན་བརྡ")]:   # fixtures (text.py)
        assert invoke(app, "propose", "--as", "tr-a", key, bo).exit_code == 0
        assert invoke(app, "approve", "--as", "tr-b", key).exit_code == 0
    exported, copies = export_copies(app, tmp_path)
    regions = copies["regions"]
    assert exported.exit_code == 0, exported.output
    assert "1 approved place names written" in exported.output and "1 approved Tibetan names written" in exported.output
    shipped = (REGIONS_DIR / "counties.csv").read_bytes()
    written = (regions / "counties.csv").read_bytes()
    assert written.count(b"\r\n") == shipped.count(b"\r\n")   # the file's own line endings kept
    changed = [(a, b) for a, b in zip(shipped.split(b"\r\n"), written.split(b"\r\n"), strict=True) if a != b]
    [(before, after)] = changed
    [fields] = csv.reader([after.decode()])
    assert fields[0] == "513301" and fields[2] == "ས་ཡོམ" and "approved by tr-b on" in fields[-1]
    assert next(csv.reader([before.decode()]))[2] == "དར་མདོ"
    db.session.refresh(hailuogou)
    assert hailuogou.name_bo == "ཉེན་བརྡ"
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "named_area.name_bo"))
    assert event.detail["name_bo"] == "ཉེན་བརྡ" and "approved by tr-b on" in event.detail["source"]
    assert verify(db.session)[1] is None
