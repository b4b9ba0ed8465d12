"""parse_alert_json: the JSON form maps onto AlertMessage, and every problem is reported at once."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.cap_builder import SENDER, minimal, parse
from warning_service.cap.message import AreaBlock, Circle, Reference
from warning_service.intake.cap_json import parse_alert_json
from warning_service.intake.errors import IntakeError

CHINA = timezone(timedelta(hours=8))


def refused(data: Any) -> IntakeError:
    raw = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    with pytest.raises(IntakeError) as caught:
        parse_alert_json(raw, SENDER)
    return caught.value


def locations(error: IntakeError) -> list[str]:
    return [item.location for item in error.errors]


def test_every_field_maps_onto_the_message():
    body = {
        "identifier": "SC-EQ-2024-0001",
        "sender": "cenc@example.cn",
        "sent": "2024-05-01T14:30:05+08:00",
        "status": "Exercise",
        "msg_type": "Update",
        "scope": "Public",
        "references": ["cenc@example.cn,SC-EQ-2024-0000,2024-05-01T14:00:00+08:00"],
        "note": "演练",
        "hazard": "earthquake",
        "level": "orange",
        "area": {
            "counties": ["513301", "513322", "513301100000"],
            "polygon": [[30.0, 101.0], [30.0, 102.0], [31, 102], [30.0, 101.0]],
            "circle": {"lat": 30.05, "lon": 101.96, "radius_km": 50},
        },
        "onset": "2024-05-01T14:29:58+08:00",
        "expires": "2024-05-01T10:30:00Z",
        "parameters": {"magnitude": 5.8, "depth_km": 10, "felt": True, "source": "CENC"},
        "headline": {"zh": "康定市发生5.8级地震", "bo": "དར་རྩེ་མདོར་ས་ཡོམ་བྱུང་།"},
        "description": {"zh": "震源深度10千米。"},
        "instruction": {"bo": "  ཉེན་ཁ་ལས་གཡོལ།  "},
    }

    message = parse(body)

    assert (message.identifier, message.sender, message.status, message.msg_type, message.scope) == (
        "SC-EQ-2024-0001", "cenc@example.cn", "Exercise", "Update", "Public")
    assert message.format == "json"
    assert message.sent == datetime(2024, 5, 1, 14, 30, 5, tzinfo=CHINA)
    assert message.note == "演练"
    assert message.references == [Reference("cenc@example.cn", "SC-EQ-2024-0000", "2024-05-01T14:00:00+08:00")]
    zh, bo = message.infos
    assert (zh.language, bo.language) == ("zh-CN", "bo-CN")
    assert (zh.headline, zh.description, zh.instruction) == ("康定市发生5.8级地震", "震源深度10千米。", None)
    assert (bo.headline, bo.description, bo.instruction) == ("དར་རྩེ་མདོར་ས་ཡོམ་བྱུང་།", None, "ཉེན་ཁ་ལས་གཡོལ།")
    expected_area = AreaBlock(
        polygons=[[(30.0, 101.0), (30.0, 102.0), (31.0, 102.0), (30.0, 101.0)]],
        circles=[Circle(lat=30.05, lon=101.96, radius_km=50.0)],
        geocodes=[("GB/T 2260", "513301"), ("GB/T 2260", "513322"), ("GB/T 2260", "513301100000")],
    )
    for block in (zh, bo):
        assert block.event == "earthquake"
        assert block.event_codes == [("EWS-HAZARD", "earthquake")]
        assert block.parameters == [
            ("EWS-LEVEL", "orange"), ("magnitude", "5.8"), ("depth_km", "10"), ("felt", "true"), ("source", "CENC")]
        assert block.onset == datetime(2024, 5, 1, 14, 29, 58, tzinfo=CHINA)
        assert block.expires == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
        assert block.areas == [expected_area]
        assert block.categories == []
        assert (block.urgency, block.severity, block.certainty) == ("", "", "")
    assert zh.areas[0] is not bo.areas[0]


def test_defaults_fill_the_optional_fields():
    before = datetime.now(UTC).replace(microsecond=0)

    message = parse(minimal())

    assert message.sender == SENDER
    assert message.msg_type == "Alert"
    assert message.scope == "Public"
    assert message.sent.tzinfo is not None
    assert before <= message.sent <= datetime.now(UTC)
    assert message.references == []
    [block] = message.infos
    assert block.language == "zh-CN"
    assert block.parameters == []
    assert block.headline is None


def test_identifier_is_generated_when_absent_and_unique():
    identifiers = {parse(minimal()).identifier for _ in range(50)}

    assert len(identifiers) == 50
    assert all(identifier and "," not in identifier and " " not in identifier for identifier in identifiers)


def test_tibetan_only_texts_give_one_bo_info():
    message = parse(minimal(headline={"bo": "ས་ཡོམ།"}))

    assert [block.language for block in message.infos] == ["bo-CN"]


def test_missing_status_is_422_there_is_no_default():
    body = minimal()
    del body["status"]

    error = refused(body)

    assert error.status == 422
    assert locations(error) == ["status"]


def test_all_problems_are_reported_together():
    body = {
        "status": "Real",
        "msg_type": "Update",
        "level": "purple",
        "hazard": 12,
        "area": {"counties": ["5133", 513301], "polygon": [[30, 101], [30, 102], [31, 102], [30, "101"], [True, 1]],
                 "circle": {"lat": 30, "lon": 101}},
        "onset": "2024-05-01T14:29:58",
        "expires": "tomorrow",
        "headline": {"zh": "预警", "en": "Warning", "bo": ""},
        "parameters": {"magnitude": [5.8]},
    }

    error = refused(body)

    assert error.status == 422
    assert set(locations(error)) == {
        "status", "level", "hazard", "references",
        "area.counties[0]", "area.counties[1]", "area.polygon[3]", "area.polygon[4]", "area.circle.radius_km",
        "onset", "expires", "headline.en", "headline.bo", "parameters.magnitude",
    }
    assert "area.polygon[3]" in error.detail


def test_a_flood_of_problems_is_cut_to_fifty():
    error = refused(minimal(area={"polygon": [["x", "y"]] * 10_000}))

    assert len(error.errors) == 50
    assert "50 of 10000" in error.detail


@pytest.mark.parametrize("name", ["onset", "expires", "sent"])
def test_date_without_zone_is_422_at_its_field(name):
    error = refused(minimal(**{name: "2024-05-01T14:29:58"}))

    assert error.status == 422
    assert locations(error) == [name]
    assert "time zone" in error.errors[0].message


@pytest.mark.parametrize("value", ["2024-05-01", "1 May 2024 14:00 +0800", "2024-13-01T00:00:00+08:00", 1714545000])
def test_unreadable_date_is_422(value):
    assert locations(refused(minimal(onset=value))) == ["onset"]


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"<alert/>", id="xml"),
    pytest.param(b'{"status": "Actual",}', id="trailing-comma"),
    pytest.param(b'{"status": "Act\xffual"}', id="bad-utf8"),
    pytest.param(b'["status", "Actual"]', id="array"),
    pytest.param(b'"Actual"', id="string"),
    pytest.param(b'{"status": "Actual", "status": "Test"}', id="duplicate-key"),
    pytest.param(b'{"area": {"circle": {"lat": NaN}}}', id="nan"),
    pytest.param(b'{"note": "a\\u0000b"}', id="nul"),
    pytest.param(b'{"note": "\\ud800"}', id="lone-surrogate"),
    pytest.param(b"[" * 50_000 + b"]" * 50_000, id="deep-nesting"),
])
def test_a_body_that_is_not_a_json_object_is_400(data):
    error = refused(data)

    assert error.status == 400
    assert error.title == "Malformed message"


def test_invalid_json_detail_gives_line_and_column():
    assert "line 2, column" in refused(b'{\n "status" "Actual"}').detail


def test_a_utf8_bom_is_tolerated():
    assert parse_alert_json(b"\xef\xbb\xbf" + json.dumps(minimal()).encode(), SENDER).status == "Actual"


@pytest.mark.parametrize("msg_type", ["Update", "Cancel"])
@pytest.mark.parametrize("references", [None, []])
def test_update_or_cancel_without_references_is_422(msg_type, references):
    body = minimal(msg_type=msg_type)
    if references is not None:
        body["references"] = references

    error = refused(body)

    assert locations(error) == ["references"]


@pytest.mark.parametrize("reference", ["cenc,SC-1", "cenc,SC-1,2024-05-01T14:00:00+08:00,x", "cenc, SC-1,2024", 7])
def test_malformed_reference_is_422_at_its_index(reference):
    body = minimal(msg_type="Update", references=["cenc,SC-0,2024-05-01T14:00:00+08:00", reference])

    assert locations(refused(body)) == ["references[1]"]


def test_cancel_needs_neither_hazard_nor_area():
    body = {"status": "Actual", "msg_type": "Cancel", "references": ["cenc,SC-1,2024-05-01T14:00:00+08:00"]}

    message = parse(body)

    assert message.msg_type == "Cancel"
    [block] = message.infos
    assert (block.event, block.event_codes, block.areas) == ("", [], [])


@pytest.mark.parametrize("missing", ["hazard", "area"])
def test_alert_needs_hazard_and_area(missing):
    body = minimal()
    del body[missing]

    assert locations(refused(body)) == [missing]


def test_unknown_fields_are_422_and_named():
    error = refused(minimal(severity="Extreme", language="zh"))

    assert error.status == 422
    assert locations(error) == ["language", "severity"]
    assert "language" in error.detail and "severity" in error.detail


@pytest.mark.parametrize("area, location", [
    ({}, "area"),
    ({"county": ["513301"]}, ["area.county", "area"]),
    ({"counties": []}, "area.counties"),
    ({"counties": "513301"}, "area.counties"),
    ({"counties": ["51330"]}, "area.counties[0]"),
    ({"counties": ["5133011"]}, "area.counties[0]"),
    ({"counties": ["51330１"]}, "area.counties[0]"),
    ({"polygon": {"lat": 30}}, "area.polygon"),
    ({"polygon": [[30, 101], [30, 102, 0]]}, "area.polygon[1]"),
    ({"polygon": [[30, 101], [30]]}, "area.polygon[1]"),
    ({"polygon": [[30, 101], [False, 102]]}, "area.polygon[1]"),
    ({"polygon": [[30, 101], [10 ** 400, 102]]}, "area.polygon[1]"),
    ({"circle": [30, 101, 5]}, "area.circle"),
    ({"circle": {"lat": 30, "lon": 101, "radius_km": "5"}}, "area.circle.radius_km"),
    ({"circle": {"lat": 30, "lon": 101, "radius_km": 5, "unit": "km"}}, "area.circle.unit"),
    ("513301", "area"),
])
def test_area_type_errors_name_their_path(area, location):
    expected = location if isinstance(location, list) else [location]

    assert locations(refused(minimal(area=area))) == expected


def test_polygon_geometry_is_left_to_the_geometry_check():
    message = parse(minimal(area={"polygon": [[95.0, 400.0], [30, 101]]}))

    assert message.infos[0].areas[0].polygons == [[(95.0, 400.0), (30.0, 101.0)]]


@pytest.mark.parametrize("name, value", [
    ("status", "actual"), ("msg_type", "Ack"), ("scope", "Everyone"), ("level", "Red"),
    ("identifier", "SC EQ 1"), ("identifier", "SC,EQ,1"), ("identifier", ""), ("sender", 42),
    ("note", ["x"]), ("parameters", ["magnitude", 5]), ("headline", "预警"),
    ("parameters", {"EWS-LEVEL": "red"}), ("parameters", {"magnitude": None}),
])
def test_wrong_types_and_values_are_422_at_their_field(name, value):
    error = refused(minimal(**{name: value}))

    assert error.status == 422
    assert locations(error)[0].startswith(name)


@pytest.mark.parametrize("status", ["Actual", "Exercise", "Test", "System", "Draft"])
def test_every_cap_status_is_accepted(status):
    assert parse(minimal(status=status)).status == status


storable_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | storable_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(storable_text, children, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(["status", "msg_type", "hazard", "area", "onset", "references", "parameters",
                               "headline", "level", "identifier", "polygon"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(field_names, json_values, max_size=8))
def test_any_json_object_gives_a_message_or_a_422(body):
    try:
        message = parse(body)
    except IntakeError as error:
        assert error.status == 422
        assert error.errors
    else:
        assert message.status in ("Actual", "Exercise", "System", "Test", "Draft")
