"""Named areas in the console: the admin page (list, add by GeoJSON upload or by centre and radius, refusals
in the admin's language, deactivate), and officers composing an alert for a named area beside the counties."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import select

from tests.console.test_all_chinese import ENGLISH_WORD, assert_in_language, english_words, place_names, speak
from tests.support.console import compose, csrf_token, post_form, sign_in
from warning_service.extensions import db
from warning_service.models import Alert, AuditEvent, NamedArea, User

SQUARE = {"type": "Polygon", "coordinates": [
    [[102.21, 29.90], [102.25, 29.90], [102.25, 29.94], [102.21, 29.94], [102.21, 29.90]]]}
CIRCLE = {"code": "mugecuo", "name_zh": "木格措", "name_en": "Mugecuo Lake", "centre_lat": "30.15278",
          "centre_lon": "101.85472", "radius_km": "10", "source": "湖的公开坐标",
          "accuracy": "近似：以湖为中心、半径 10 公里的圆"}


def add_area(client, **fields):
    return post_form(client, "/admin/areas/", "/admin/areas/", **{**CIRCLE, **fields})


def test_an_admin_adds_a_named_area_from_a_centre_and_radius(client, people):
    sign_in(client, "admin")
    response = add_area(client)
    assert response.status_code == 303
    area = db.session.scalar(select(NamedArea))
    assert (area.code, area.county_codes, area.accuracy) == ("mugecuo", ["513301"], CIRCLE["accuracy"])
    page = client.get("/admin/areas/").get_data(as_text=True)
    assert "已添加命名区域 木格措" in page and '<tr data-code="mugecuo">' in page and "康定市" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action.startswith("named_area")))
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    assert (event.action, event.actor_id, event.detail["via"]) == ("named_area.add", admin.id, "console")
    assert area.created_by_id == admin.id


def test_an_admin_uploads_a_geojson_polygon(client, people):
    sign_in(client, "admin")
    upload = (io.BytesIO(json.dumps({"type": "Feature", "geometry": SQUARE}).encode()), "luding.geojson")
    response = add_area(client, code="luding-seat", name_zh="泸定县城", name_en="Luding seat", centre_lat="",
                        centre_lon="", radius_km="", geojson=upload, accuracy="实测")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert db.session.scalar(select(NamedArea.county_codes)) == ["513322"]


@pytest.mark.parametrize(("fields", "upload", "wording"), [
    ({"centre_lat": "39.9", "centre_lon": "116.4"}, None, "该形状位于甘孜州和阿坝州之外"),
    ({"code": "Mugecuo"}, None, "代码为 2 至 40 个字符"),
    ({"radius_km": ""}, None, "请提供形状"),
    ({}, json.dumps(SQUARE).encode(), "不要同时提供"),
    ({"centre_lat": "", "radius_km": ""}, b"\xff\xfe{", "不是 UTF-8 文本"),
    ({"centre_lat": "", "radius_km": ""}, b'{"type": "Point"}', "须包含一个多边形"),
])
def test_refusals_redisplay_the_form_in_chinese_and_store_nothing(client, people, fields, upload, wording):
    sign_in(client, "admin")
    response = add_area(client, **fields, **({"geojson": (io.BytesIO(upload), "area.geojson")} if upload else {}))
    assert response.status_code == 422
    assert wording in response.get_data(as_text=True)
    assert db.session.scalar(select(NamedArea)) is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action.startswith("named_area"))) is None


def test_a_taken_code_is_409_and_deactivating_keeps_the_row(client, people, hailuogou):
    sign_in(client, "admin")
    taken = add_area(client, code="hailuogou")
    assert taken.status_code == 409 and "该代码已属于命名区域 海螺沟" in taken.get_data(as_text=True)
    path = f"/admin/areas/{hailuogou.id}/deactivate"
    assert post_form(client, path, "/admin/areas/").status_code == 303
    db.session.expire_all()
    assert not db.session.get(NamedArea, hailuogou.id).active
    again = post_form(client, path, "/admin/areas/")
    assert again.status_code == 409 and "命名区域 hailuogou 已停用" in again.get_data(as_text=True)
    assert post_form(client, "/admin/areas/999999/deactivate", "/admin/areas/").status_code == 404


def test_an_officer_targets_a_named_area_by_name_beside_the_counties(client, people, hailuogou):
    sign_in(client, "officer")
    form = client.get("/compose").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="named_areas"[^>]*value="hailuogou"[^>]*> <span>海螺沟（[^）]*泸定县[^）]*）</span>',
                     form)
    assert re.search(r'<path d="M[^"]+Z" data-area="hailuogou" class="named-area">', form)  # its outline on the map
    response = compose(client, counties=["513337"], named_areas=["hailuogou"], headline="海螺沟景区大风蓝色预警")
    assert response.status_code == 303
    alert = db.session.scalar(select(Alert))
    assert set(alert.county_codes) == {"513337", *hailuogou.county_codes}
    assert ["NAMED_AREA", "hailuogou"] in alert.area["geocodes"] and len(alert.area["polygons"]) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<span class="named-area">海螺沟（[^）]*泸定县[^）]*）</span>', page)


def test_a_correction_keeps_the_named_area_and_only_the_counties_named_outright(app, client, people, hailuogou):
    sign_in(client, "officer")
    saved = compose(client, counties=["513337"], named_areas=["hailuogou"])
    alert_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    page = f"/alerts/{alert_id}"
    assert post_form(client, f"{page}/publish", page, confirm_status="Actual").status_code == 303
    form = client.get(f"{page}/correct").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="named_areas"[^>]*value="hailuogou"', form)
    ticked = set(re.findall(r'<input checked[^>]*name="counties"[^>]*value="(\d+)"', form))
    assert ticked == {"513337"}  # not every county Hailuogou touches


def test_a_deactivated_area_is_no_longer_offered_and_a_forged_one_is_refused(client, people, hailuogou):
    hailuogou.active = False
    db.session.commit()
    sign_in(client, "officer")
    assert 'value="hailuogou"' not in client.get("/compose").get_data(as_text=True)
    assert compose(client, named_areas=["hailuogou"]).status_code == 422
    assert db.session.scalar(select(Alert)) is None


@pytest.mark.parametrize("language", ["zh", "bo"])
def test_the_named_area_pages_read_in_the_interface_language(app, client, people, hailuogou, language):
    own = place_names() | set(ENGLISH_WORD.findall(f"{hailuogou.code} {hailuogou.name_en} {hailuogou.source} "
                                                   f"{hailuogou.accuracy}")) | {"GeoJSON"}
    speak("admin", language)
    speak("officer", language)
    sign_in(client, "admin")
    assert_in_language(client, "/admin/areas/", own)
    refused = add_area(client, centre_lat="39.9", centre_lon="116.4")
    assert refused.status_code == 422 and english_words(refused.get_data(as_text=True), own) == []
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "officer")
    assert_in_language(client, "/compose", own)
