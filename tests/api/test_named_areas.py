"""Named areas end to end: registered through the one registry (rules, refusals, ledger), then targeted by
code in the agency API, as JSON `area.named_areas` and as CAP <geocode> NAMED_AREA, resolving to the
registered polygon and to the counties it touches; an unknown or inactive code is a 422."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.cap_builder import cap_time, cap_xml, info_xml
from warning_service.extensions import db
from warning_service.geography.named_areas import cap_polygons
from warning_service.intake.limits import DEFAULT_LIMITS
from warning_service.models import Alert, AuditEvent, NamedArea, Role, User
from warning_service.services.named_areas import NamedAreaRefused, add_named_area, deactivate_named_area

LUDING, KANGDING = "513322", "513301"
SENDER = "tourism.demo@ews.example"
# Hailuogou as the demo draws it: a circle around the glacier and Moxi (data/scenic_areas.toml).
HAILUOGOU = {"code": "hailuogou", "name_zh": "海螺沟", "name_en": "Hailuogou Glacier Forest Park", "name_bo": None,
             "source": "test: the glacier and Moxi", "accuracy": "approximate: circle of 11 km", "centre": (29.617, 102.0335),
             "radius_km": 11}
# A small square around Luding's seat, as an uploaded GeoJSON Feature.
TIBETAN_NAME = "ལྕགས་ཟམ"
SQUARE = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
    [[102.21, 29.90], [102.25, 29.90], [102.25, 29.94], [102.21, 29.94], [102.21, 29.90]]]}}


def register(actor=None, **overrides) -> NamedArea:
    area = add_named_area(db.session, actor, "test", limits=DEFAULT_LIMITS, **{**HAILUOGOU, **overrides})
    db.session.commit()
    return area


def refused(**overrides) -> NamedAreaRefused:
    with pytest.raises(NamedAreaRefused) as refusal:
        register(**overrides)
    db.session.rollback()
    return refusal.value


def ledger() -> list[tuple[str, dict]]:
    return [(event.action, event.detail) for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def alert_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Alert))


@pytest.fixture
def tourism(make_agency):
    """The tourism authority, which warns of crowded scenic areas."""
    return make_agency("四川省文化和旅游厅", "tourism", ["scenic_crowding", "road_closure"])


def crowding(area: dict) -> dict:
    return {"status": "Actual", "hazard": "scenic_crowding", "level": "yellow", "area": area,
            "expires": cap_time(timedelta(hours=6))}


def with_named_area(info: str, *codes: str) -> str:
    """A CAP <info> whose area also names these named areas."""
    geocodes = "".join(f"<geocode><valueName>NAMED_AREA</valueName><value>{code}</value></geocode>" for code in codes)
    return info.replace("</area>", geocodes + "</area>")


# --- the registry -------------------------------------------------------------------------------------------

def test_a_circle_is_registered_with_its_counties_and_in_the_ledger_without_its_points(app):
    admin = User(username="admin", role=Role.ADMIN)
    admin.set_password("correct horse battery staple")
    db.session.add(admin)
    area = register(admin)
    assert (area.code, area.name_zh, area.active, area.created_by_id, area.updated_by_id) == (
        "hailuogou", "海螺沟", True, admin.id, admin.id)
    assert LUDING in area.county_codes and area.name_bo is None
    [ring] = cap_polygons(area.geometry_geojson)
    assert len(ring) == 65 and ring[0] == ring[-1]
    [(action, detail)] = ledger()
    assert action == "named_area.add"
    assert detail["code"] == "hailuogou" and detail["counties"] == area.county_codes
    assert detail["centre"] == [29.617, 102.0335] and detail["radius_km"] == 11 and detail["points"] == 65
    assert "coordinates" not in json.dumps(detail)


def test_an_uploaded_polygon_is_kept_as_given_and_recorded_by_its_digest(app):
    area = register(code="luding-seat", name_zh="泸定县城", centre=None, radius_km=None, geojson=json.dumps(SQUARE),
                    accuracy="surveyed")
    assert area.county_codes == [LUDING]
    assert cap_polygons(area.geometry_geojson) == [[(lat, lon) for lon, lat in SQUARE["geometry"]["coordinates"][0]]]
    detail = ledger()[0][1]
    assert len(detail["geojson_sha256"]) == 64 and detail["points"] == 5


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"code": "Hailuogou"}, "code", "code_malformed"),
    ({"code": "海螺沟"}, "code", "code_malformed"),
    ({"code": "h"}, "code", "code_malformed"),
    ({"name_zh": " "}, "name_zh", "name_length"),
    ({"name_en": "x" * 121}, "name_en", "name_length"),
    ({"source": ""}, "source", "source_missing"),
    ({"accuracy": ""}, "accuracy", "accuracy_length"),
    ({"centre": None, "radius_km": None}, "geojson", "shape_missing"),
    ({"radius_km": None}, "centre", "shape_missing"),
    ({"geojson": json.dumps(SQUARE)}, "geojson", "shape_twice"),
    ({"radius_km": 0}, "radius_km", "radius_out_of_range"),
    ({"centre": (39.9, 116.4)}, "centre", "shape_outside"),  # Beijing
    ({"centre": None, "radius_km": None, "geojson": "{"}, "geojson", "geojson_malformed"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(app, overrides, field, code):
    refusal = refused(**overrides)
    assert (refusal.field, refusal.code, refusal.conflict) == (field, code, False)
    assert db.session.scalar(select(func.count()).select_from(NamedArea)) == 0 and ledger() == []


def test_a_shape_over_the_intake_limits_is_refused_as_an_alert_naming_it_would_carry_it(app):
    ring = [[102.0 + i / 1000, 29.6] for i in range(40)] + [[102.0, 29.7], [102.0, 29.6]]
    big = json.dumps({"type": "Polygon", "coordinates": [ring]})
    limits = DEFAULT_LIMITS.__class__(**{**vars(DEFAULT_LIMITS), "polygon_points": 40})
    with pytest.raises(NamedAreaRefused) as refusal:
        add_named_area(db.session, None, "test", limits=limits, **{**HAILUOGOU, "centre": None, "radius_km": None,
                                                                      "geojson": big})
    assert refusal.value.code == "too_many_points" and "at most 40 points; this shape has 42" in refusal.value.message


def test_codes_are_never_reused_and_an_active_chinese_name_is_one_area_s(app):
    area = register()
    assert refused(name_zh="海螺沟冰川").code == "code_taken"
    clash = refused(code="hailuogou-2")
    assert (clash.field, clash.code, clash.conflict) == ("name_zh", "name_taken", True)
    deactivate_named_area(db.session, None, "test", area)
    db.session.commit()
    assert refused().code == "code_taken"  # inactive, still its code
    assert register(code="hailuogou-2").name_zh == "海螺沟"  # the name is free once the other is inactive
    again = pytest.raises(NamedAreaRefused, deactivate_named_area, db.session, None, "test", area).value
    assert (again.code, again.conflict) == ("named_area_inactive", True)
    assert [action for action, _ in ledger()] == ["named_area.add", "named_area.deactivate", "named_area.add"]


# --- targeting by code in the API ---------------------------------------------------------------------------

def test_json_named_areas_resolve_to_the_polygon_and_the_counties_it_touches(app, client, tourism):
    area = register()
    response = client.post("/api/v1/alerts", json=crowding({"named_areas": ["hailuogou"]}), headers=tourism[1])
    assert response.status_code == 201, response.get_json()
    alert = db.session.get(Alert, response.get_json()["id"])
    assert alert.county_codes == area.county_codes
    assert alert.area["geocodes"] == [["NAMED_AREA", "hailuogou"]]
    assert alert.area["polygons"] == [[list(point) for point in ring] for ring in cap_polygons(area.geometry_geojson)]
    assert alert.area["unresolved"] == []
    detail = client.get(f"/api/v1/alerts/{alert.id}", headers=tourism[1]).get_json()
    assert detail["counties"] == area.county_codes


def test_json_named_areas_add_to_the_counties_named_outright(app, client, tourism):
    register()
    body = crowding({"counties": ["513337"], "named_areas": ["hailuogou", "hailuogou"]})
    response = client.post("/api/v1/alerts", json=body, headers=tourism[1])
    assert response.status_code == 201, response.get_json()
    alert = db.session.get(Alert, response.get_json()["id"])
    assert "513337" in alert.county_codes and LUDING in alert.county_codes
    assert len(alert.area["polygons"]) == 1  # named twice, carried once


def test_cap_geocode_named_area_resolves_like_the_json_field(app, client, tourism):
    area = register()
    info = info_xml(category="Safety", event="景区拥挤", severity="Moderate", area_desc="海螺沟景区",
                    parameters=(("EWS-LEVEL", "yellow"),))
    body = cap_xml("SC-HLG-1", with_named_area(info, "hailuogou"), sender=SENDER)
    response = client.post("/api/v1/alerts", data=body, headers={**tourism[1], "Content-Type": "application/cap+xml"})
    assert response.status_code == 201, response.get_json()
    alert = db.session.get(Alert, response.get_json()["id"])
    assert alert.county_codes == area.county_codes and len(alert.area["polygons"]) == 1
    assert alert.area["descriptions"] == ["海螺沟景区"]


def test_unknown_or_inactive_codes_are_422_with_the_reason_and_nothing_stored(app, client, tourism):
    area = register()
    deactivate_named_area(db.session, None, "test", area)
    db.session.commit()
    response = client.post("/api/v1/alerts", json=crowding({"counties": [KANGDING], "named_areas": ["nowhere", "hailuogou"]}),
                           headers=tourism[1])
    assert response.status_code == 422
    problem = response.get_json()
    assert [(e["location"], e["message"]) for e in problem["errors"]] == [
        ("area.named_areas[0]", "no active named area 'nowhere' is registered here"),
        ("area.named_areas[1]", "no active named area 'hailuogou' is registered here")]
    info = info_xml(category="Safety", event="景区拥挤", severity="Moderate", geocodes=(KANGDING,),
                    parameters=(("EWS-LEVEL", "yellow"),))
    body = cap_xml("SC-HLG-2", with_named_area(info, "nowhere"), sender=SENDER)
    response = client.post("/api/v1/alerts", data=body, headers={**tourism[1], "Content-Type": "application/cap+xml"})
    assert response.status_code == 422
    assert [e["location"] for e in response.get_json()["errors"]] == ["/alert/info[1]/area[1]/geocode[2]"]
    assert alert_count() == 0


@pytest.mark.parametrize(("named", "location"), [
    ("hailuogou", "area.named_areas"), ([], "area.named_areas"), ([3], "area.named_areas[0]"),
    ([" "], "area.named_areas[0]"),
])
def test_a_malformed_named_areas_field_is_422(client, tourism, named, location):
    response = client.post("/api/v1/alerts", json=crowding({"named_areas": named}), headers=tourism[1])
    assert response.status_code == 422
    assert location in [e["location"] for e in response.get_json()["errors"]]


def test_named_areas_count_as_geocodes_against_the_limit(app, client, tourism):
    limit = app.config["MAX_ALERT_GEOCODES"]
    body = crowding({"counties": [KANGDING], "named_areas": ["hailuogou"] * limit})
    response = client.post("/api/v1/alerts", json=body, headers=tourism[1])
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["location"] == "area.named_areas"


def test_the_preview_resolves_named_areas_as_intake_does(app, client, tourism):
    area = register()
    response = client.post("/api/v1/preview", json=crowding({"named_areas": ["hailuogou"]}), headers=tourism[1])
    assert response.status_code == 200, response.get_json()
    assert [county["code"] for county in response.get_json()["counties"]] == area.county_codes
    unknown = client.post("/api/v1/preview", json=crowding({"named_areas": ["nowhere"]}), headers=tourism[1])
    assert unknown.status_code == 422 and alert_count() == 0


# --- the texts name the place ---------------------------------------------------------------------------------

def test_the_texts_name_the_named_area_before_its_county_and_the_tibetan_says_its_name_is_chinese(app, client, tourism):
    """A tourist at Hailuogou must read Hailuogou, not only Luding county. The area has no sourced Tibetan
    name, so the Chinese stands in and the preview lists it as a missing term."""
    register()
    response = client.post("/api/v1/alerts", json=crowding({"named_areas": ["hailuogou"]}), headers=tourism[1])
    assert response.status_code == 201, response.get_json()
    alert = db.session.get(Alert, response.get_json()["id"])
    assert alert.named_places == [{"code": "hailuogou", "zh": "海螺沟", "bo": None}]

    texts = client.post("/api/v1/preview", json=crowding({"named_areas": ["hailuogou"]}),
                        headers=tourism[1]).get_json()["texts"]
    for channel in ("sms", "cell_broadcast"):
        assert "海螺沟（泸定县）" in texts[channel]["zh"]["text"]
        assert "海螺沟 (ལྕགས་ཟམ་རྫོང)" in texts[channel]["bo"]["text"]
        assert "海螺沟" in texts[channel]["bo"]["missing_terms"]
        assert "海螺沟" not in texts[channel]["zh"]["missing_terms"]


def test_a_registered_tibetan_name_is_used_and_not_missing(app, client, tourism):
    # A sourced name stands in here: Luding's toponym from the regions data (data/regions/SOURCES.md).
    register(name_bo=TIBETAN_NAME)
    texts = client.post("/api/v1/preview", json=crowding({"named_areas": ["hailuogou"]}),
                        headers=tourism[1]).get_json()["texts"]
    assert f"{TIBETAN_NAME} (ལྕགས་ཟམ་རྫོང)" in texts["sms"]["bo"]["text"]
    assert "海螺沟" not in texts["sms"]["bo"]["text"] and "海螺沟" not in texts["sms"]["bo"]["missing_terms"]


def test_an_alert_without_named_areas_names_its_counties_only(app, client, tourism):
    texts = client.post("/api/v1/preview", json=crowding({"counties": [LUDING]}), headers=tourism[1]).get_json()["texts"]
    assert "泸定县" in texts["sms"]["zh"]["text"] and "（泸定县）" not in texts["sms"]["zh"]["text"]
