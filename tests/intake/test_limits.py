"""Bounded work per message: every count limit refuses with a 413 naming the limit and the count, a
message at the limit passes, CAP XML and JSON alike; the de-duplication of areas stays correct and
compares areas a linear number of times (counted, not timed)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.support.cap_builder import REFERENCE, area_xml, message_xml
from warning_service.cap.message import AreaBlock
from warning_service.hazards import catalogue
from warning_service.intake.cap_json import parse_alert_json
from warning_service.intake.cap_xml import parse_cap_xml
from warning_service.intake.errors import IntakeError
from warning_service.intake.interpret import interpret
from warning_service.intake.limits import DEFAULT_LIMITS

SMALL = replace(DEFAULT_LIMITS, areas=3, polygon_points=6, alert_points=10, geocodes=4, references=2, circles=2)
KANGDING_POLYGON = ["30.0,101.9", "30.0,102.0", "30.1,102.0", "30.1,101.9", "30.0,101.9"]  # 5 points, closed


def message_json(**changes) -> bytes:
    body = {"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"counties": ["513301"]}}
    body.update(changes)
    return json.dumps(body).encode()


def refused(parse, *phrases: str) -> IntakeError:
    with pytest.raises(IntakeError) as caught:
        parse()
    error = caught.value
    assert error.status == 413, error
    text = error.detail + " " + " ".join(f"{item.location} {item.message}" for item in error.errors)
    for phrase in phrases:
        assert phrase in text, text
    return error


# --- CAP XML ---------------------------------------------------------------------

def test_5000_areas_are_refused_at_the_default_limit_before_anything_is_read():
    body = message_xml(*[area_xml()] * 5_000)
    refused(lambda: parse_cap_xml(body), f"at most {DEFAULT_LIMITS.areas:,} areas", "this message has 5,000")


def test_a_200000_point_polygon_is_refused_at_the_default_limit_naming_the_polygon():
    polygon = " ".join(["30.0,101.9"] * 200_000)
    error = refused(lambda: parse_cap_xml(message_xml(area_xml(polygons=(polygon,)))),
                    f"at most {DEFAULT_LIMITS.polygon_points:,} points", "200,000")
    assert error.errors[0].location == "/alert/info[1]/area[1]/polygon[1]"


def test_points_are_counted_before_they_are_read():
    """An oversized polygon of garbage is refused for its size (413), not read point by point (422)."""
    polygon = " ".join(["not-a-point"] * 7)
    refused(lambda: parse_cap_xml(message_xml(area_xml(polygons=(polygon,))), SMALL), "at most 6 points")


@pytest.mark.parametrize(("limit", "over", "phrase"), [
    ("areas", lambda: message_xml(*[area_xml()] * 4), "at most 3 areas; this message has 4"),
    ("areas", lambda: message_xml(*[area_xml()] * 2, infos=2), "at most 3 areas; this message has 4"),
    ("polygon_points", lambda: message_xml(area_xml(polygons=(" ".join(KANGDING_POLYGON + ["30.0,101.9"] * 2),))),
     "at most 6 points in one polygon; this polygon has 7"),
    ("alert_points", lambda: message_xml(area_xml(polygons=(" ".join(KANGDING_POLYGON),) * 3)),
     "at most 10 polygon points per alert; this message has 15"),
    ("geocodes", lambda: message_xml(area_xml(geocodes=("513301",) * 5)), "at most 4 geocodes; this message has 5"),
    ("circles", lambda: message_xml(area_xml(circles=("30.05,101.96 10",) * 3)), "at most 2 circles; this message has 3"),
    ("references", lambda: message_xml(area_xml(), references=3), "at most 2 references; this message has 3"),
])
def test_each_xml_limit_refuses_one_over_it(limit, over, phrase):
    refused(lambda: parse_cap_xml(over(), SMALL), phrase)


@pytest.mark.parametrize("at_limit", [
    lambda: message_xml(*[area_xml()] * 3),
    lambda: message_xml(area_xml(polygons=(" ".join(KANGDING_POLYGON[:-1] + ["30.05,101.95", "30.0,101.9"]),))),
    lambda: message_xml(area_xml(polygons=(" ".join(KANGDING_POLYGON),) * 2)),
    lambda: message_xml(area_xml(geocodes=("513301",) * 4)),
    lambda: message_xml(area_xml(circles=("30.05,101.96 10",) * 2)),
    lambda: message_xml(area_xml(), references=2),
], ids=["areas", "polygon_points", "alert_points", "geocodes", "circles", "references"])
def test_an_xml_message_at_every_limit_is_read(at_limit):
    message = parse_cap_xml(at_limit(), SMALL)
    assert message.infos and message.infos[0].areas


# --- JSON ------------------------------------------------------------------------

def test_a_200000_point_json_polygon_is_refused_at_the_default_limit():
    body = message_json(area={"polygon": [[30.0, 101.9]] * 200_000})
    refused(lambda: parse_alert_json(body, "weather.demo@ews.example"),
            f"at most {DEFAULT_LIMITS.polygon_points:,} points in one polygon; this polygon has 200,000")


@pytest.mark.parametrize(("over", "phrase", "location"), [
    (message_json(area={"polygon": [[30.0, 101.9]] * 7}), "at most 6 points in one polygon; this polygon has 7",
     "area.polygon"),
    (message_json(area={"counties": ["513301"] * 5}), "at most 4 geocodes; this message has 5", "area.counties"),
    (message_json(msg_type="Update", references=[REFERENCE.format(index) for index in range(3)]),
     "at most 2 references; this message has 3", "references"),
])
def test_each_json_limit_refuses_one_over_it(over, phrase, location):
    error = refused(lambda: parse_alert_json(over, "weather.demo@ews.example", SMALL), phrase)
    assert error.errors[0].location == location


def test_the_json_points_of_an_alert_are_limited_too():
    limits = replace(SMALL, polygon_points=20)
    body = message_json(area={"polygon": [[30.0, 101.9]] * 11})
    refused(lambda: parse_alert_json(body, "weather.demo@ews.example", limits),
            "at most 10 polygon points per alert; this message has 11")


def test_a_json_message_at_every_limit_is_read():
    body = message_json(msg_type="Update", references=[REFERENCE.format(index) for index in range(2)],
                        area={"counties": ["513301"] * 4, "polygon": [[30.0, 101.9]] * 6})
    message = parse_alert_json(body, "weather.demo@ews.example", SMALL)
    assert len(message.references) == 2 and len(message.infos[0].areas[0].polygons[0]) == 6


def test_a_json_value_of_the_wrong_type_is_left_to_the_form_not_counted():
    """The count never guesses: a polygon that is not a list gets the form's own 422."""
    with pytest.raises(IntakeError) as caught:
        parse_alert_json(message_json(area={"polygon": "30,101"}), "weather.demo@ews.example", SMALL)
    assert caught.value.status == 422


# --- de-duplication ----------------------------------------------------------------

def draft_of(body: bytes):
    return interpret(parse_cap_xml(body), catalogue())


def test_repeated_areas_are_kept_once_in_their_first_order():
    kangding = area_xml(geocodes=("513301",), description="康定市")
    luding = area_xml(geocodes=("513322",), description="泸定县")
    same_name_other_place = area_xml(geocodes=("513323",), description="康定市")
    draft = draft_of(message_xml(kangding, luding, kangding, same_name_other_place, infos=2))

    assert draft.area["descriptions"] == ["康定市", "泸定县", "康定市"]
    assert draft.area["geocodes"] == [["GB/T 2260", "513301"], ["GB/T 2260", "513322"], ["GB/T 2260", "513323"]]
    assert draft.county_codes == ["513301", "513322", "513323"]


def test_areas_differing_only_in_a_polygon_point_are_both_kept():
    near = area_xml(geocodes=(), polygons=(" ".join(KANGDING_POLYGON),))
    moved = area_xml(geocodes=(), polygons=(" ".join(KANGDING_POLYGON).replace("30.1,102.0", "30.2,102.0"),))
    draft = draft_of(message_xml(near, moved, near))

    assert len(draft.area["polygons"]) == 2


def test_de_duplication_compares_areas_a_linear_number_of_times(monkeypatch):
    """Counted, not timed: comparing each area with every one kept before it made 5,000 areas take seconds."""
    comparisons = 0
    compare = AreaBlock.__eq__

    def counted(self, other):
        nonlocal comparisons
        comparisons += 1
        return compare(self, other)

    monkeypatch.setattr(AreaBlock, "__eq__", counted)
    areas = [area_xml(geocodes=("513301",), description=f"区域 {index}") for index in range(400)]
    draft = draft_of(message_xml(*areas, infos=2))

    assert len(draft.area["descriptions"]) == 400
    assert comparisons <= 2 * 800
