"""Every kind of bad input gets its 4xx with a reason, and nothing is stored."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.api import good_body, post, stored
from tests.support.cap_builder import cap_time, cap_xml, info_xml
from warning_service.extensions import db
from warning_service.intake.cap_xml import MAX_REPORTED
from warning_service.models import Alert, ApiKey, utcnow

PROBLEM = "application/problem+json"


def assert_refused(response, status: int, *phrases: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == PROBLEM
    problem = response.get_json()
    assert problem["status"] == status and problem["detail"]
    text = (problem["detail"] + " " + " ".join(e["message"] + " " + e["location"] for e in problem.get("errors", []))).lower()
    for phrase in phrases:
        assert phrase.lower() in text, problem
    assert stored() == (0, 0), "a refused message must leave nothing behind"
    return problem


def test_400_malformed_xml(client, weather):
    assert_refused(post(client, weather[1], b"<alert><unclosed>"), 400)


def test_400_malformed_json(client, weather):
    assert_refused(post(client, weather[1], b"{not json", "application/json"), 400)


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>',
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&d;</identifier></alert>',
    b'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://127.0.0.1:9/cap.dtd">'
    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"/>',
], ids=["xxe", "billion-laughs", "external-dtd"])
def test_hostile_xml_is_refused_unexpanded(client, weather, document):
    problem = assert_refused(post(client, weather[1], document), 400)
    assert "root:" not in problem["detail"]  # /etc/passwd never read into the answer


def test_401_without_key(client):
    response = post(client, {}, good_body())
    assert_refused(response, 401, "bearer")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_401_unknown_key(client, weather):
    assert_refused(post(client, {"Authorization": "Bearer ews_000000000000_nope"}, good_body()), 401, "unknown")


def test_401_revoked_key(client, weather):
    agency, key = weather
    for api_key in db.session.scalars(select(ApiKey).where(ApiKey.agency_id == agency.id)):
        api_key.revoked_at = utcnow()
    db.session.commit()
    assert_refused(post(client, key, good_body()), 401, "revoked")


def test_403_hazard_the_agency_may_not_issue(client, weather):
    body = cap_xml("B-EQ", info_xml(category="Geo", event="地震", severity="Severe", geocodes=("513301",)))
    assert_refused(post(client, weather[1], body), 403, "earthquake")


def test_403_another_agencys_alert(client, weather, make_agency):
    _, other_key = make_agency("另一个机构", "other")
    created = post(client, weather[1], good_body())
    assert created.status_code == 201
    response = client.get(f"/api/v1/alerts/{created.get_json()['id']}", headers=other_key)
    assert response.status_code == 403 and response.mimetype == PROBLEM
    cancel = cap_xml("B-C", sender="weather.demo@ews.example", msg_type="Cancel",
                     references=f"weather.demo@ews.example,B-1,{cap_time()}")
    refused = post(client, other_key, cancel)
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 1


def test_404_unknown_alert(client, weather):
    response = client.get("/api/v1/alerts/999", headers=weather[1])
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_413_body_over_the_limit(client, weather):
    huge = good_body().replace(b"</alert>", b"<!--" + b"x" * (10 * 1024 * 1024) + b"--></alert>")
    assert_refused(post(client, weather[1], huge), 413)


def test_415_wrong_content_type(client, weather):
    assert_refused(post(client, weather[1], good_body(), "text/plain"), 415, "cap")


def test_422_unknown_hazard(client, weather):
    assert_refused(post(client, weather[1], good_body(event="Alien invasion")), 422, "hazard catalogue")


def test_422_unknown_hazard_in_json(client, weather):
    body = {"status": "Actual", "hazard": "volcano", "level": "red", "area": {"counties": ["513301"]}}
    assert_refused(client.post("/api/v1/alerts", json=body, headers=weather[1]), 422, "volcano")


def test_422_area_outside_the_region(client, weather):
    body = cap_xml("B-OUT", info_xml(geocodes=("510104",), area_desc="成都市锦江区"))
    assert_refused(post(client, weather[1], body), 422, "outside")


def test_422_polygon_not_closed(client, weather):
    body = cap_xml("B-P1", info_xml(polygon="30.0,101.9 30.1,102.0 30.0,102.1 29.9,102.0"))
    assert_refused(post(client, weather[1], body), 422, "polygon")


def test_422_polygon_under_four_points(client, weather):
    body = cap_xml("B-P2", info_xml(polygon="30.0,101.9 30.1,102.0 30.0,101.9"))
    assert_refused(post(client, weather[1], body), 422, "polygon")


def test_422_latitude_out_of_range(client, weather):
    body = {"status": "Actual", "hazard": "rainstorm", "level": "blue",
            "area": {"circle": {"lat": 95.0, "lon": 102.0, "radius_km": 10}}}
    assert_refused(client.post("/api/v1/alerts", json=body, headers=weather[1]), 422)


def test_422_sent_without_time_zone(client, weather):
    body = cap_xml("B-TZ", info_xml(geocodes=("513301",)), sent="2026-11-24T10:00:00")
    assert_refused(post(client, weather[1], body), 422)


def test_422_expires_before_onset(client, weather):
    body = {"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"counties": ["513301"]},
            "onset": cap_time(timedelta(hours=2)), "expires": cap_time(timedelta(hours=1))}
    assert_refused(client.post("/api/v1/alerts", json=body, headers=weather[1]), 422, "expires")


def test_422_update_of_an_unknown_alert(client, weather):
    body = cap_xml("B-U", info_xml(geocodes=("513301",)), msg_type="Update",
                   references=f"weather.demo@ews.example,NEVER-SENT,{cap_time()}")
    assert_refused(post(client, weather[1], body), 422, "NEVER-SENT")


@pytest.mark.parametrize("content_type", ["application/cap+xml", "application/json"])
def test_422_many_unknown_references_give_a_short_answer(app, client, weather, content_type):
    """The first MAX_REPORTED unknown references are named, the rest counted: never a flood (as many as
    MAX_ALERT_REFERENCES allows; more are refused before any is looked up)."""
    count = app.config["MAX_ALERT_REFERENCES"]
    assert count > MAX_REPORTED
    references = [f"weather.demo@ews.example,NEVER-{index},{cap_time()}" for index in range(count)]
    if content_type == "application/json":
        body = json.dumps({"status": "Actual", "msg_type": "Cancel", "references": references}).encode()
    else:
        body = cap_xml("B-MANY", msg_type="Cancel", references=" ".join(references))
    problem = assert_refused(post(client, weather[1], body, content_type), 422, "NEVER-0", f"of {len(references)}")
    assert len(problem["errors"]) == MAX_REPORTED
    assert problem["errors"][-1]["location"] == f"references[{MAX_REPORTED - 1}]"
    assert f"NEVER-{MAX_REPORTED}," not in json.dumps(problem)


def test_422_exercise_cannot_cancel_an_actual_alert(client, weather):
    assert post(client, weather[1], good_body("REAL-1")).status_code == 201
    before = stored()
    cancel = cap_xml("EX-C", status="Exercise", msg_type="Cancel",
                     references=f"weather.demo@ews.example,REAL-1,{cap_time()}")
    response = post(client, weather[1], cancel)
    assert response.status_code == 422
    assert stored() == before
