"""`flask areas add|list|remove`: the same registry as the admin page, its refusals said as click says them."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.support.cli import assert_refused
from warning_service.extensions import db
from warning_service.models import AuditEvent, NamedArea

CIRCLE = ("--centre", "30.15278,101.85472", "--radius-km", "10")
SQUARE = {"type": "Polygon", "coordinates": [
    [[102.21, 29.90], [102.25, 29.90], [102.25, 29.94], [102.21, 29.94], [102.21, 29.90]]]}


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["areas", *args])


def add(app, *shape: str, code: str = "mugecuo", name_zh: str = "木格措"):
    return invoke(app, "add", "--code", code, "--name-zh", name_zh, "--name-en", "Mugecuo Lake", *shape,
                  "--source", "test", "--accuracy", "approximate: circle of 10 km around the lake")


def test_add_from_a_centre_list_and_remove(app):
    result = add(app, *CIRCLE)
    assert result.exit_code == 0, result.output
    assert "named area mugecuo added: 木格措 / Mugecuo Lake, counties 513301" in result.output
    listed = invoke(app, "list")
    assert "named areas: 1" in listed.output and "mugecuo" in listed.output and "inactive" not in listed.output
    removed = invoke(app, "remove", "mugecuo")
    assert removed.exit_code == 0 and "deactivated" in removed.output
    assert "(inactive)" in invoke(app, "list").output
    assert_refused(invoke(app, "remove", "mugecuo"), "already inactive")
    assert_refused(invoke(app, "remove", "nowhere"), "no named area 'nowhere'")
    assert [(e.action, e.detail["via"], e.actor_type) for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))] \
        == [("named_area.add", "cli", "system"), ("named_area.deactivate", "cli", "system")]


def test_add_from_a_geojson_file(app, tmp_path):
    path = tmp_path / "luding.geojson"
    path.write_text(json.dumps(SQUARE), encoding="utf-8")
    result = add(app, "--geojson", str(path), code="luding-seat", name_zh="泸定县城")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(NamedArea.county_codes)) == ["513322"]


@pytest.mark.parametrize(("shape", "phrases"), [
    ((), ("--geojson", "give the shape")),
    (("--centre", "30.1"), ("--centre", "LAT,LON")),
    (("--centre", "39.9,116.4", "--radius-km", "5"), ("--centre", "outside Garzê and Ngawa")),
    (("--centre", "30.15,101.85", "--radius-km", "500"), ("--radius-km", "at most 100 km")),
])
def test_bad_shapes_are_refused_naming_the_option_and_nothing_stored(app, shape, phrases):
    assert_refused(add(app, *shape), *phrases)
    assert db.session.scalar(select(NamedArea)) is None


def test_a_taken_code_is_a_clash_not_a_bad_option(app):
    assert add(app, *CIRCLE).exit_code == 0
    result = add(app, *CIRCLE, name_zh="木格措景区")
    assert_refused(result, "already the named area '木格措'")
    assert "--code" not in result.output
