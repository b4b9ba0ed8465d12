"""An agency speaks only as itself: agency A posting in agency B's CAP <sender> (XML or JSON, Alert, Update,
Cancel, preview) is refused with 403 naming A's senders, stores nothing, and cannot claim B's
(sender, identifier) pairs, not even one A took before senders were registered."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.api import post_xml
from tests.support.cap_builder import cap_time, cap_xml, info_xml
from warning_service.extensions import db
from warning_service.models import Alert, AlertState, AuditEvent, CapStatus, MsgType

WEATHER_SENDER = "weather.demo@ews.example"  # the `weather` fixture's: agency B, the victim
INTRUDER_SENDER = "tourism.demo@ews.example"


@pytest.fixture
def intruder(make_agency):
    """Agency A: may issue rainstorm warnings too, under its own sender."""
    return make_agency("某旅游公司", "tourism", ["rainstorm"], sender=INTRUDER_SENDER)


def stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Alert)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def assert_refused_as_spoofing(response, sender: str = WEATHER_SENDER) -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert INTRUDER_SENDER in problem["detail"] and sender in problem["detail"]
    assert problem["errors"][0]["location"] in ("sender", "/alert/sender")


def rainstorm_json(**fields) -> dict:
    return {"status": "Actual", "hazard": "rainstorm", "level": "yellow", "area": {"counties": ["513301"]},
            "expires": cap_time(timedelta(hours=6)), "headline": {"zh": "康定市暴雨黄色预警"},
            **fields}


@pytest.mark.parametrize("route", ["/api/v1/alerts", "/api/v1/preview"])
def test_xml_in_another_agencys_sender_is_403(client, weather, intruder, route):
    before = stored()
    body = cap_xml("B-XML-1", info_xml(geocodes=("513301",)), sender=WEATHER_SENDER)
    response = client.post(route, data=body, headers={**intruder[1], "Content-Type": "application/cap+xml"})
    assert_refused_as_spoofing(response)
    assert stored() == before


@pytest.mark.parametrize("route", ["/api/v1/alerts", "/api/v1/preview"])
def test_json_cannot_choose_a_foreign_sender(client, weather, intruder, route):
    before = stored()
    response = client.post(route, json=rainstorm_json(identifier="B-JSON-1", sender=WEATHER_SENDER),
                           headers=intruder[1])
    assert_refused_as_spoofing(response)
    assert stored() == before


def test_json_without_sender_takes_the_agencys_first_and_may_name_another_of_its_own(client, make_agency):
    agency, key = make_agency("阿坝州气象台", "weather", ["rainstorm"], sender="aba.met@ews.example")
    agency.cap_senders.append("aba.met.backup@ews.example")
    db.session.commit()
    first = client.post("/api/v1/alerts", json=rainstorm_json(identifier="J-1"), headers=key)
    second = client.post("/api/v1/alerts", json=rainstorm_json(identifier="J-2", sender="aba.met.backup@ews.example"),
                         headers=key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.get_json()["sender"], second.get_json()["sender"]) == ("aba.met@ews.example",
                                                                         "aba.met.backup@ews.example")


@pytest.mark.parametrize("msg_type", ["Update", "Cancel"])
def test_update_and_cancel_in_another_agencys_sender_are_403(client, weather, intruder, msg_type):
    real = post_xml(client, weather[1], cap_xml("B-REAL-1", info_xml(geocodes=("513301",))))
    assert real.status_code == 201
    original = db.session.get(Alert, real.get_json()["id"])
    before = stored()
    forged = cap_xml(f"B-FORGED-{msg_type}", info_xml(geocodes=("513301",)) if msg_type == "Update" else "",
                     sender=WEATHER_SENDER, msg_type=msg_type, references=original.cap_reference)
    assert_refused_as_spoofing(post_xml(client, intruder[1], forged))
    assert stored() == before
    db.session.expire_all()
    assert db.session.get(Alert, original.id).state == AlertState.PENDING_REVIEW


def test_the_victims_real_warning_goes_through_after_the_intruder_tried_its_pair(client, weather, intruder):
    claimed = cap_xml("SC-RAIN-NEXT", info_xml(geocodes=("513301",)), sender=WEATHER_SENDER)
    assert_refused_as_spoofing(post_xml(client, intruder[1], claimed))
    assert client.post("/api/v1/alerts", json=rainstorm_json(identifier="SC-RAIN-NEXT", sender=WEATHER_SENDER),
                       headers=intruder[1]).status_code == 403
    real = post_xml(client, weather[1], cap_xml("SC-RAIN-NEXT", info_xml(geocodes=("513301",))))
    assert real.status_code == 201, real.get_json()
    alert = db.session.get(Alert, real.get_json()["id"])
    assert (alert.sender, alert.agency_id) == (WEATHER_SENDER, weather[0].id)


def test_a_pair_taken_before_senders_were_registered_does_not_block_the_owner(client, weather, intruder):
    """Before this fix A could store an alert in B's sender; such a row stays, and B's own pair still works."""
    squatted = Alert(identifier="SC-RAIN-OLD", sender=WEATHER_SENDER, sent=weather[0].created_at,
                     status=CapStatus.ACTUAL, msg_type=MsgType.ALERT, original=b"<alert/>", original_format="cap1.2",
                     state=AlertState.REJECTED, agency_id=intruder[0].id)
    db.session.add(squatted)
    db.session.commit()
    real = post_xml(client, weather[1], cap_xml("SC-RAIN-OLD", info_xml(geocodes=("513301",))))
    assert real.status_code == 201, real.get_json()
    assert real.get_json()["id"] != squatted.id
    again = post_xml(client, weather[1], cap_xml("SC-RAIN-OLD", info_xml(geocodes=("513301",))))
    assert (again.status_code, again.get_json()["id"]) == (200, real.get_json()["id"])
    # B's Cancel names its own alert, not the squatter's
    cancel = post_xml(client, weather[1], cap_xml("SC-RAIN-OLD-C", "", msg_type="Cancel",
                                                  references=db.session.get(Alert, real.get_json()["id"]).cap_reference))
    assert cancel.status_code == 201, cancel.get_json()
