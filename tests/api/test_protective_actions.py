"""Protective actions chosen by code (issue 18, item 3): agencies name them in the JSON form (`actions`) or as
CAP ACTION_CODE parameters, every channel's "what to do" carries them, an unknown or not offered code is a 422
naming it, the hazards list offers them per level, and our own CAP repeats them. Without approved Tibetan the
Chinese of each action stands in and is listed as missing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from tests.support.cap_builder import cap_time, cap_xml, info_xml
from tests.support.text import TIBETAN
from warning_service.extensions import db
from warning_service.models import Alert

KANGDING = "513301"
CHOSEN = ["move_to_high_ground", "do_not_wade"]
CHOSEN_ZH = ["立即向高处转移", "不要涉水过河"]
CAP_NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


@pytest.fixture
def hydrology(make_agency):
    """A hydrology service that issues flash floods (its alerts wait for a duty officer)."""
    return make_agency("四川省水文水资源勘测中心", "hydrology", ["flash_flood"])


def flash_flood(**fields) -> dict:
    return {"status": "Actual", "hazard": "flash_flood", "level": "red", "area": {"counties": [KANGDING]},
            "expires": cap_time(timedelta(hours=6)), **fields}


def test_the_hazards_list_offers_each_levels_actions_by_code(client):
    hazards = {hazard["code"]: hazard for hazard in client.get("/api/v1/hazards").get_json()}
    red = hazards["flash_flood"]["actions"]["red"]
    assert [action["code"] for action in red][:2] == CHOSEN
    assert red[0] == {"code": "move_to_high_ground", "zh": "立即向高处转移", "en": "Move to higher ground now",
                      "bo": None}
    assert {action["code"] for action in hazards["earthquake"]["actions"]["default"]} >= {"open_ground"}


def test_chosen_actions_are_what_to_do_in_every_channel_and_missing_in_tibetan(client, hydrology):
    response = client.post("/api/v1/preview", json=flash_flood(actions=CHOSEN), headers=hydrology[1])
    assert response.status_code == 200, response.get_json()
    texts = response.get_json()["texts"]
    default = "立即向高处转移，不要涉水过河"   # the level's default sentence, not sent when actions are chosen
    for channel in ("sms", "broadcast", "beidou", "cell_broadcast", "instruction"):
        zh, bo = texts[channel]["zh"], texts[channel]["bo"]
        assert all(action in zh["text"] for action in CHOSEN_ZH), channel
        assert default not in zh["text"] and default not in bo["text"]
        assert set(CHOSEN_ZH) <= set(bo["missing_terms"]) and "防御指引" not in bo["missing_terms"]
        assert any(CHOSEN_ZH[0] in section for section in bo["chinese_sections"])


def test_an_unknown_or_not_offered_code_is_a_422_naming_it(client, hydrology):
    for actions, named in [(["move_to_high_ground", "fly_away"], "unknown protective action 'fly_away'"),
                           (["report_fire"], "protective action 'report_fire' is not one of the flash_flood red")]:
        for path in ("/api/v1/preview", "/api/v1/alerts"):
            response = client.post(path, json=flash_flood(actions=actions), headers=hydrology[1])
            assert response.status_code == 422, response.get_json()
            assert any(error["location"] == "actions" and named in error["message"]
                       for error in response.get_json()["errors"])
    for bad in ("move_to_high_ground", [3]):
        response = client.post("/api/v1/preview", json=flash_flood(actions=bad), headers=hydrology[1])
        assert response.status_code == 422 and "actions" in str(response.get_json())
    assert db.session.scalar(select(Alert)) is None


def test_cap_action_code_parameters_are_kept_and_sent_back_in_our_cap(client, hydrology):
    body = cap_xml("HYD-ACTIONS-1", info_xml(
        category="Met", event="山洪红色预警", severity="Extreme", geocodes=(KANGDING,), area_desc="康定市",
        parameters=(("ACTION_CODE", "move_to_high_ground"), ("ACTION_CODE", "do_not_wade"))),
        sender="hydrology.demo@ews.example")
    response = client.post("/api/v1/alerts", data=body,
                           headers={**hydrology[1], "Content-Type": "application/cap+xml"})
    assert response.status_code in (201, 202), response.get_data(as_text=True)
    alert = db.session.scalar(select(Alert))
    assert alert.parameters["ACTION_CODE"] == "move_to_high_ground do_not_wade"
    cap = etree.fromstring(client.get(f"/api/v1/alerts/{alert.id}/cap", headers=hydrology[1]).data)
    zh_info = cap.find("cap:info", CAP_NS)
    codes = [parameter.findtext("cap:value", namespaces=CAP_NS) for parameter in zh_info.findall("cap:parameter", CAP_NS)
             if parameter.findtext("cap:valueName", namespaces=CAP_NS) == "ACTION_CODE"]
    assert codes == CHOSEN
    assert all(action in zh_info.findtext("cap:instruction", namespaces=CAP_NS) for action in CHOSEN_ZH)


def test_the_preview_marks_tibetan_free_text_as_the_senders_and_not_reviewed(client, hydrology):
    typed = flash_flood(instruction={"zh": "请注意。", "bo": TIBETAN})
    body = client.post("/api/v1/preview", json=typed, headers=hydrology[1]).get_json()
    assert body["tibetan_free_text"] == {"fields": ["instruction"], "written_by": "四川省水文水资源勘测中心",
                                         "reviewed": False, "label_zh": "由四川省水文水资源勘测中心撰写，未经审校"}
    assert TIBETAN in body["texts"]["sms"]["bo"]["text"]
    chinese_only = client.post("/api/v1/preview", json=flash_flood(), headers=hydrology[1]).get_json()
    assert chinese_only["tibetan_free_text"] is None
