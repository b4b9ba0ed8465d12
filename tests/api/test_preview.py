"""POST /api/v1/preview: the texts and reach of an alert, read as intake reads it, with nothing stored."""
from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.support.cap_builder import cap_time, cap_xml, info_xml
from warning_service.demo_data import DEMO_AGENCIES
from warning_service.extensions import db
from warning_service.models import Agency, Alert, AuditEvent, BeidouTerminal, BroadcastEndpoint, Recipient
from warning_service.security.api_keys import add_key

XML = {"Content-Type": "application/cap+xml"}
KANGDING, LUDING = "513301", "513322"
TIBETAN_LETTER = re.compile(r"[\u0f40-\u0f6c\u0f90-\u0fbc]")
PLACE_CHANNELS = ("sms", "broadcast", "beidou", "cell_broadcast")


def red_earthquake(status: str = "Actual", sender: str = "seismic.demo@ews.example") -> bytes:
    """"A red earthquake alert for 康定市 and 泸定县". The catalogue gives `earthquake` no colour levels
    (a report carries a magnitude), so intake refuses level "red" for it; the nearest message it accepts is
    an earthquake of magnitude 6.8 with CAP severity Extreme, which is what red stands for."""
    return cap_xml(
        "CENC-PREVIEW-1",
        info_xml(category="Geo", event="地震", severity="Extreme", geocodes=(KANGDING, LUDING), area_desc="康定市 泸定县",
                 parameters=(("magnitude", "6.8"), ("depth_km", "16"))),
        sender=sender, status=status,
    )


def preview(client, headers, body, content_type="application/cap+xml"):
    return client.post("/api/v1/preview", data=body, headers={**headers, "Content-Type": content_type})


def stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Alert)),
            db.session.scalar(select(func.count()).select_from(AuditEvent)))


def seed_demo(app, recipients: int = 500) -> dict[str, str]:
    """Seed the demo; the headers of a new key of its earthquake agency (which holds seismic.demo@ews.example)."""
    result = app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", str(recipients)])
    assert result.exit_code == 0, result.output
    seismic = db.session.scalar(select(Agency).where(Agency.name == DEMO_AGENCIES[0].name))
    key = add_key(db.session, seismic)
    db.session.commit()
    return {"Authorization": f"Bearer {key}"}


def expected_reach(counties: tuple[str, ...], exercise: bool) -> dict[str, dict[str, int]]:
    """The targets.py rules, applied in Python to every row: a check on the grouped queries."""
    recipients = db.session.scalars(select(Recipient)).all()
    owned_cards = {r.beidou_terminal_id for r in recipients if r.beidou_terminal_id is not None}
    sms = Counter(r.county_code for r in recipients
                  if r.active and "sms" in r.channels and (r.exercise or not exercise))
    broadcast = Counter(e.county_code for e in db.session.scalars(select(BroadcastEndpoint))
                        if e.active and e.exercise == exercise)
    beidou = Counter(t.county_code for t in db.session.scalars(select(BeidouTerminal))
                     if t.active and t.exercise == exercise and (t.is_group or t.id not in owned_cards))
    return {code: {"sms": sms[code], "broadcast": broadcast[code], "beidou": beidou[code]} for code in counties}


def test_preview_of_a_red_earthquake_alert(app, client):
    seismic = seed_demo(app)
    before = stored()
    response = preview(client, seismic, red_earthquake())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()

    assert body["hazard"]["code"] == "earthquake" and body["hazard"]["names"]["zh"] == "地震"
    assert body["level"] is None  # no colour level: see red_earthquake()
    assert [(c["code"], c["name_zh"]) for c in body["counties"]] == [(KANGDING, "康定市"), (LUDING, "泸定县")]
    assert all(TIBETAN_LETTER.search(c["name_bo"]) for c in body["counties"])
    assert set(body["texts"]) == {"sms", "broadcast", "beidou", "cell_broadcast", "headline", "description",
                                  "instruction"}
    for channel in PLACE_CHANNELS:
        zh, bo = body["texts"][channel]["zh"], body["texts"][channel]["bo"]
        for text in (zh, bo):
            assert text["text"] and text["measure"]["fits"] is True, (channel, text)
            assert set(text["measure"]) == {"units", "parts", "encoding", "fits", "describe"}
            assert "over budget" not in text["warnings"]
        assert "康定市" in zh["text"] and "6.8" in zh["text"]
        assert TIBETAN_LETTER.search(bo["text"]), bo["text"]
        # nothing is reviewed yet (review.toml), so every Tibetan text says so
        assert "unreviewed Tibetan" in bo["warnings"] and bo["reviewed"] is False
    assert body["texts"]["sms"]["zh"]["measure"]["encoding"] == "UCS-2"
    cbs = body["texts"]["cell_broadcast"]["bo"]["measure"]  # 41 UTF-16 units a CBS page, 15 pages at most
    assert cbs["encoding"] == "CBS" and cbs["units"] <= 615 and cbs["parts"] == -(-cbs["units"] // 41)
    # every phone in the area through each operator's CBC, not counted per county
    assert [operator["code"] for operator in body["cell_broadcast"]["operators"]] == ["cmcc", "ctcc", "cucc"]

    assert body["reach"] == expected_reach((KANGDING, LUDING), exercise=False)
    assert body["reach"][KANGDING]["sms"] > 0 and body["reach"][KANGDING]["broadcast"] == 1
    assert stored() == before  # the seed's audit event only: no alert, no event of the preview
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def test_exercise_preview_counts_only_exercise_targets_and_shows_the_banner(app, client):
    seismic = seed_demo(app)
    body = preview(client, seismic, red_earthquake("Exercise")).get_json()
    assert body["status"] == "Exercise"
    assert body["reach"] == expected_reach((KANGDING, LUDING), exercise=True)
    assert body["cell_broadcast"]["operators"] == []  # the demo's CBCs are real ones: no exercise reaches them
    assert body["reach"][KANGDING]["broadcast"] == 1  # the prefecture seat's exercise platform
    for channel in PLACE_CHANNELS:
        assert body["texts"][channel]["zh"]["text"].startswith("【演练】")
        assert body["texts"][channel]["bo"]["text"].startswith("【སྦྱོང་བརྡར】")


def test_json_preview_with_a_colour_level(client, weather):
    payload = {"status": "Actual", "hazard": "rainstorm", "level": "orange", "area": {"counties": [KANGDING]},
               "expires": cap_time(timedelta(hours=6)), "parameters": {"phone": "12379"}}
    response = client.post("/api/v1/preview", json=payload, headers=weather[1])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["level"] == "orange" and body["hazard"]["names"]["bo"] == "དྲག་ཆར"
    assert body["texts"]["sms"]["zh"]["text"].startswith("康定市暴雨橙色预警")
    assert body["reach"] == {KANGDING: {"sms": 0, "broadcast": 0, "beidou": 0}}  # no targets seeded
    assert stored() == (0, 0)


def test_a_cancel_without_hazard_previews_what_it_cancels(client, seismic, weather):
    _, key = seismic
    posted = client.post("/api/v1/alerts", data=red_earthquake(), headers={**key, **XML})
    assert posted.status_code == 201
    detail = client.get(f"/api/v1/alerts/{posted.get_json()['id']}", headers=key).get_json()
    reference = f"{detail['sender']},{detail['identifier']},{detail['sent']}"
    cancel = {"status": "Actual", "msg_type": "Cancel", "references": [reference]}

    body = client.post("/api/v1/preview", json=cancel, headers=key).get_json()
    assert body["msg_type"] == "Cancel" and body["hazard"]["code"] == "earthquake"
    assert [c["code"] for c in body["counties"]] == [KANGDING, LUDING]
    assert body["texts"]["sms"]["zh"]["text"].startswith("【取消】")
    assert body["reach"] == {code: {"sms": 0, "broadcast": 0, "beidou": 0} for code in (KANGDING, LUDING)}  # nothing sent yet
    # another agency may not preview a cancel of it
    assert client.post("/api/v1/preview", json=cancel, headers=weather[1]).status_code == 403


@pytest.mark.parametrize("payload", [
    {"status": "Actual", "hazard": "earthquake", "level": "red", "area": {"counties": [KANGDING]}},
    {"status": "Actual", "hazard": "no_such_hazard", "area": {"counties": [KANGDING]}},
    {"status": "Actual", "hazard": "earthquake", "area": {"counties": ["110101"]}},
], ids=["level-on-a-hazard-without-levels", "unknown-hazard", "outside-the-region"])
def test_bad_body_gets_the_same_422_as_intake(client, seismic, payload):
    previewed = client.post("/api/v1/preview", json=payload, headers=seismic[1])
    posted = client.post("/api/v1/alerts", json=payload, headers=seismic[1])
    assert previewed.status_code == posted.status_code == 422
    assert previewed.mimetype == "application/problem+json"
    assert previewed.get_json() == posted.get_json()
    assert stored() == (0, 0)


def test_malformed_body_gets_the_same_400_as_intake(client, seismic):
    previewed = preview(client, seismic[1], b"<alert><unclosed>")
    assert previewed.status_code == 400
    assert previewed.get_json() == client.post("/api/v1/alerts", data=b"<alert><unclosed>",
                                               headers={**seismic[1], **XML}).get_json()


def test_a_hazard_the_agency_may_not_issue_is_403(client, weather):
    response = preview(client, weather[1], red_earthquake(sender="weather.demo@ews.example"))
    assert response.status_code == 403
    assert "may not issue 'earthquake'" in response.get_json()["detail"]
    assert stored() == (0, 0)


def test_no_key_is_401(client):
    response = preview(client, {}, red_earthquake())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_content_type_is_415(client, seismic):
    assert preview(client, seismic[1], b"x", content_type="text/plain").status_code == 415
