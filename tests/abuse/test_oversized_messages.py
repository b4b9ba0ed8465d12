"""Messages built to make the intake work without end (issue 13): thousands of areas, a polygon of
200,000 points, a preview of 15,000 areas. Each is refused with a 413 problem that names the limit,
on POST /api/v1/alerts and /preview alike, and nothing is stored; the limits are the settings'."""
from __future__ import annotations

import json

import pytest

from tests.support.api import assert_refused_4xx, post, post_json
from tests.support.cap_builder import area_xml, message_xml
from warning_service.intake.limits import DEFAULT_LIMITS

XML = {"Content-Type": "application/cap+xml"}
JSON = {"Content-Type": "application/json"}


def assert_too_large(response, *phrases: str) -> None:
    assert_refused_4xx(response, 413)
    problem = response.get_json()
    text = problem["detail"] + " " + " ".join(item["message"] for item in problem.get("errors", []))
    for phrase in phrases:
        assert phrase in text, problem


def preview(client, headers, body: bytes, content_type: dict[str, str] = XML):
    return client.post("/api/v1/preview", data=body, headers={**headers, **content_type})


OVERSIZED_XML = {
    "5000-areas": (message_xml(*[area_xml()] * 5_000), f"at most {DEFAULT_LIMITS.areas:,} areas", "has 5,000"),
    "15000-areas": (message_xml(*[area_xml()] * 15_000), f"at most {DEFAULT_LIMITS.areas:,} areas", "has 15,000"),
    "200000-point-polygon": (message_xml(area_xml(polygons=(" ".join(["30.0,101.9"] * 200_000),))),
                             f"at most {DEFAULT_LIMITS.polygon_points:,} points in one polygon", "has 200,000"),
    "6000-geocodes": (message_xml(area_xml(geocodes=("513301",) * 6_000)),
                      f"at most {DEFAULT_LIMITS.geocodes:,} geocodes", "has 6,000"),
    "500-circles": (message_xml(area_xml(circles=("30.05,101.96 1",) * 500)),
                    f"at most {DEFAULT_LIMITS.circles:,} circles", "has 500"),
    "1000-references": (message_xml(area_xml(), references=1_000),
                        f"at most {DEFAULT_LIMITS.references:,} references", "has 1,000"),
}


@pytest.mark.parametrize("case", list(OVERSIZED_XML.values()), ids=list(OVERSIZED_XML))
def test_oversized_cap_xml_is_refused_naming_the_limit(client, weather, case):
    body, *phrases = case
    assert_too_large(post(client, weather[1], body), *phrases)
    assert_too_large(preview(client, weather[1], body), *phrases)


def test_oversized_json_is_refused_naming_the_limit(client, weather):
    polygon = {"status": "Actual", "hazard": "rainstorm", "level": "blue",
               "area": {"polygon": [[30.0, 101.9]] * 200_000}}
    counties = {**polygon, "area": {"counties": ["513301"] * 6_000}}
    assert_too_large(post_json(client, weather[1], polygon), "points in one polygon", "has 200,000")
    assert_too_large(preview(client, weather[1], json.dumps(polygon).encode(), JSON), "has 200,000")
    assert_too_large(post_json(client, weather[1], counties), f"at most {DEFAULT_LIMITS.geocodes:,} geocodes")


def test_the_limits_are_the_settings_and_a_message_at_them_is_accepted(app, client, weather, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ALERT_AREAS", 3)
    monkeypatch.setitem(app.config, "MAX_POLYGON_POINTS", 5)

    assert_too_large(post(client, weather[1], message_xml(*[area_xml()] * 4)), "at most 3 areas; this message has 4")
    assert_too_large(preview(client, weather[1], message_xml(*[area_xml()] * 4)), "at most 3 areas")
    ring = "30.0,101.9 30.0,102.0 30.1,102.0 30.1,101.9 30.0,101.9"
    at_limit = message_xml(area_xml(), area_xml(geocodes=("513322",)), area_xml(geocodes=(), polygons=(ring,)))

    assert preview(client, weather[1], at_limit).status_code == 200
    response = post(client, weather[1], at_limit)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["state"] == "pending_review"
