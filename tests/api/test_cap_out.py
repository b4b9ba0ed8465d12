"""GET /api/v1/alerts/<id>/cap and /api/v1/public/alerts/<id>/cap: the service's own CAP 1.2 message."""
from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from tests.support.api import SEISMIC_SENDER, XML, valid_cap
from tests.support.cap_builder import cap_time, cap_xml, info_xml
from warning_service.extensions import db
from warning_service.models import Alert, AlertState

CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
NS = {"cap": CAP12}


def post_earthquake(client, key, identifier="EQ-CAP-1", status="Actual") -> int:
    body = cap_xml(identifier, info_xml(category="Geo", event="地震", severity="Extreme", geocodes=("513301", "513322"),
                                        parameters=(("magnitude", "6.8"),)), sender=SEISMIC_SENDER, status=status)
    response = client.post("/api/v1/alerts", data=body, headers={**key, **XML})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def post_rainstorm(client, key) -> int:
    payload = {"status": "Actual", "hazard": "rainstorm", "level": "orange", "area": {"counties": ["513221", "513222"]},
               "onset": cap_time(), "expires": cap_time(timedelta(hours=6)),
               "parameters": {"rain_mm": 80, "phone": "12379"}, "headline": {"zh": "汶川县、理县暴雨橙色预警"}}
    response = client.post("/api/v1/alerts", json=payload, headers=key)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def texts(info: etree._Element, path: str) -> list[str]:
    return [element.text for element in info.findall(path, NS)]


def test_cap_of_a_stored_alert_is_valid_and_bilingual(client, seismic, schema):
    _, key = seismic
    alert_id = post_earthquake(client, key)
    root = valid_cap(client.get(f"/api/v1/alerts/{alert_id}/cap", headers=key), schema)

    stored = db.session.get(Alert, alert_id)
    assert root.findtext("cap:identifier", namespaces=NS) == "EQ-CAP-1"
    assert root.findtext("cap:sender", namespaces=NS) == SEISMIC_SENDER
    assert root.findtext("cap:status", namespaces=NS) == "Actual"
    assert root.findtext("cap:msgType", namespaces=NS) == "Alert"
    sent = root.findtext("cap:sent", namespaces=NS)
    assert datetime.fromisoformat(sent) == stored.sent and sent.endswith("+08:00")  # Beijing time, same instant

    infos = root.findall("cap:info", NS)
    assert [info.findtext("cap:language", namespaces=NS) for info in infos] == ["bo-CN", "zh-CN"]
    bo, zh = infos
    assert bo.findtext("cap:event", namespaces=NS) == "ས་ཡོམ" and zh.findtext("cap:event", namespaces=NS) == "地震"
    for info in infos:
        assert info.findtext("cap:severity", namespaces=NS) == "Extreme"  # as stored
        assert texts(info, "cap:eventCode/cap:value") == ["earthquake"]
        assert texts(info, "cap:area/cap:geocode/cap:valueName") == ["GB/T 2260", "GB/T 2260"]
        assert texts(info, "cap:area/cap:geocode/cap:value") == ["513301", "513322"]
        assert info.findtext("cap:senderName", namespaces=NS) == "四川省地震局"
    assert zh.findtext("cap:area/cap:areaDesc", namespaces=NS) == "康定市、泸定县"
    assert bo.findtext("cap:area/cap:areaDesc", namespaces=NS) == "དར་མདོ་གྲོང་ཁྱེར་དང་ལྕགས་ཟམ་རྫོང"
    assert "6.8" in zh.findtext("cap:description", namespaces=NS)
    assert zh.findtext("cap:headline", namespaces=NS) == "康定市、泸定县地震信息"


def test_severity_is_derived_from_the_level_and_the_level_is_a_parameter(client, weather, schema):
    _, key = weather
    alert_id = post_rainstorm(client, key)
    root = valid_cap(client.get(f"/api/v1/alerts/{alert_id}/cap", headers=key), schema)
    for info in root.findall("cap:info", NS):
        assert info.findtext("cap:severity", namespaces=NS) == "Severe"  # orange; the JSON form has no severity
        assert info.findtext("cap:urgency", namespaces=NS) == "Unknown"
        assert info.findtext("cap:category", namespaces=NS) == "Met"
        parameters = dict(zip(texts(info, "cap:parameter/cap:valueName"), texts(info, "cap:parameter/cap:value")))
        assert parameters == {"rain_mm": "80", "phone": "12379", "EWS-LEVEL": "orange"}
        assert info.findtext("cap:onset", namespaces=NS).endswith("+08:00")
    zh = root.findall("cap:info", NS)[1]
    assert zh.findtext("cap:headline", namespaces=NS).startswith("汶川县、理县暴雨橙色预警")
    assert zh.findtext("cap:instruction", namespaces=NS)


def test_cap_of_an_update_carries_its_references(client, seismic, schema):
    _, key = seismic
    first = post_earthquake(client, key)
    detail = client.get(f"/api/v1/alerts/{first}", headers=key).get_json()
    reference = f"{detail['sender']},{detail['identifier']},{detail['sent']}"
    cancel = client.post("/api/v1/alerts", json={"status": "Actual", "msg_type": "Cancel", "references": [reference]},
                         headers=key)
    assert cancel.status_code == 201, cancel.get_json()
    root = valid_cap(client.get(f"/api/v1/alerts/{cancel.get_json()['id']}/cap", headers=key), schema)
    assert root.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert root.findtext("cap:references", namespaces=NS) == reference
    assert root.find("cap:info/cap:instruction", NS) is None  # a Cancel gives no action


def test_another_agencys_alert_is_403_and_an_unknown_one_404(client, seismic, weather):
    alert_id = post_earthquake(client, seismic[1])
    refused = client.get(f"/api/v1/alerts/{alert_id}/cap", headers=weather[1])
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.get("/api/v1/alerts/999999/cap", headers=weather[1]).status_code == 404
    assert client.get(f"/api/v1/alerts/{alert_id}/cap").status_code == 401


def test_public_cap_only_for_published_actual_alerts(client, seismic, weather, schema):
    published = post_earthquake(client, seismic[1], "EQ-PUBLIC")        # auto-publish: publishing
    exercise = post_earthquake(client, seismic[1], "EQ-DRILL", status="Exercise")
    pending = post_rainstorm(client, weather[1])                          # waits for a duty officer
    assert db.session.get(Alert, pending).state == AlertState.PENDING_REVIEW
    assert db.session.get(Alert, exercise).state == AlertState.PUBLISHING

    public = valid_cap(client.get(f"/api/v1/public/alerts/{published}/cap"), schema)
    assert public.findtext("cap:identifier", namespaces=NS) == "EQ-PUBLIC"
    alert = db.session.get(Alert, published)
    alert.move_to(AlertState.PUBLISHED)
    db.session.commit()
    valid_cap(client.get(f"/api/v1/public/alerts/{published}/cap"), schema)

    for hidden in (pending, exercise, 999999):
        response = client.get(f"/api/v1/public/alerts/{hidden}/cap")
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
    # the agency still sees its own through the authenticated route
    assert client.get(f"/api/v1/alerts/{pending}/cap", headers=weather[1]).status_code == 200


def test_cap_keeps_the_agencys_headline_and_description_where_it_gave_them(client, weather, schema):
    _, key = weather
    payload = {"status": "Actual", "hazard": "rainstorm", "level": "yellow", "area": {"counties": ["513301"]},
               "expires": cap_time(timedelta(hours=6)),
               "headline": {"zh": "康定市暴雨黄色预警（气象台原文）"},
               "description": {"zh": "预计未来6小时康定市降雨量将达50毫米以上。"}}
    response = client.post("/api/v1/alerts", json=payload, headers=key)
    assert response.status_code == 201, response.get_json()
    root = valid_cap(client.get(f"/api/v1/alerts/{response.get_json()['id']}/cap", headers=key), schema)
    bo, zh = root.findall("cap:info", NS)
    assert zh.findtext("cap:headline", namespaces=NS) == payload["headline"]["zh"]
    assert zh.findtext("cap:description", namespaces=NS) == payload["description"]["zh"]
    # No Tibetan given: the Tibetan block keeps the rendered texts.
    assert bo.findtext("cap:headline", namespaces=NS) not in ("", None, payload["headline"]["zh"])
    assert bo.findtext("cap:description", namespaces=NS) != payload["description"]["zh"]
