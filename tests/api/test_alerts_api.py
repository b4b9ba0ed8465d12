"""The agency API end to end: CAP and JSON in, alerts stored, updated and cancelled as CAP intends."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from rq import Queue
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.support.api import LUDING_SEAT, post_xml
from tests.support.cap_builder import cap_time, cap_xml, info_xml
from tests.support.sql import COMMIT, statements
from warning_service.audit.ledger import verify
from warning_service.extensions import db, redis_client
from warning_service.hazards import catalogue
from warning_service.models import Alert, AuditEvent


def alert_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Alert))


def test_weather_warning_with_county_geocodes_waits_for_review(client, weather):
    _, key = weather
    body = cap_xml("SC-RAIN-001", info_xml(event="暴雨橙色预警", geocodes=("513301", "513322"), area_desc="康定市 泸定县"))
    response = post_xml(client, key, body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["state"] == "pending_review"
    assert created["identifier"] == "SC-RAIN-001" and created["sender"] == "weather.demo@ews.example"
    assert response.headers["Location"].endswith(f"/api/v1/alerts/{created['id']}")

    detail = client.get(f"/api/v1/alerts/{created['id']}", headers=key).get_json()
    assert detail["hazard"] == "rainstorm" and detail["level"] == "orange"
    assert detail["counties"] == ["513301", "513322"]
    stored = db.session.get(Alert, created["id"])
    assert stored.original == body  # kept verbatim
    assert stored.original_format == "cap1.2"


def test_same_sender_and_identifier_again_answers_200_with_the_same_alert(client, weather):
    _, key = weather
    body = cap_xml("SC-RAIN-002", info_xml(geocodes=("513301",)))
    first = post_xml(client, key, body)
    again = post_xml(client, key, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert alert_count() == 1


def test_earthquake_early_warning_with_circle_publishes_at_once(client, seismic):
    _, key = seismic
    body = cap_xml(
        "CENC-EEW-20260905-001",
        info_xml(category="Geo", event="地震预警", severity="Extreme", circle=f"{LUDING_SEAT} 40",
                 parameters=(("magnitude", "6.8"), ("depth_km", "16")), area_desc="泸定县及周边"),
        sender="seismic.demo@ews.example",
    )
    response = post_xml(client, key, body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["state"] == "publishing"
    detail = client.get(f"/api/v1/alerts/{response.get_json()['id']}", headers=key).get_json()
    assert detail["hazard"] == "earthquake_early_warning"
    assert "513322" in detail["counties"]
    assert detail["parameters"]["magnitude"] == "6.8"
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["alert.receive", "alert.publish"]


def test_an_earthquake_warning_is_stored_and_queued_without_a_round_trip_to_spare(client, seismic):
    """Seconds matter on the earthquake path (docs/BENCHMARKS.md, issue 16): the agency's CAP senders come
    with its key, not in a query of their own, and nothing is read back between the commit and the plan's
    job on the critical queue."""
    _, key = seismic
    with statements(commits=True) as sent:
        response = post_xml(client, key, cap_xml("CENC-EEW-QUICK", info_xml(
            category="Geo", event="地震预警", severity="Extreme", geocodes=("513322",),
            parameters=(("magnitude", "6.1"), ("depth_km", "12"))), sender="seismic.demo@ews.example"))
    assert response.status_code == 201, response.get_json()
    assert sent[-1] == COMMIT and sent.count(COMMIT) == 1, sent
    assert not any(statement.startswith("SELECT agency_senders") for statement in sent), sent
    waiting = Queue("critical", connection=redis_client()).jobs
    assert [(job.func_name.rsplit(".", 1)[-1], list(job.args)) for job in waiting] == [
        ("plan_alert", [response.get_json()["id"], None])]


def test_a_post_sends_five_statements_and_one_commit(client, weather):
    """Intake at 300 alerts/s (docs/BENCHMARKS.md, issue 17, item 4): the key with its agency and senders in
    one query; no look for the (sender, identifier) before the INSERT (the unique constraint refuses a
    second one); the counties written by their codes, not loaded first; the ledger's turn and head in one
    round trip on PostgreSQL (SQLite: its write lock, then the head), its entry; the commit, and nothing
    read back after it."""
    _, key = weather
    assert post_xml(client, key, cap_xml("SC-RAIN-KEY-USED", info_xml(geocodes=("513301",)))).status_code == 201
    with statements(commits=True) as sent:  # the key's last use was written by the first post, not again
        response = post_xml(client, key, cap_xml("SC-RAIN-FIVE", info_xml(geocodes=("513301", "513322"))))
    assert response.status_code == 201, response.get_json()
    ledger_turn = (["SELECT audit_ledger_turn("] if db.engine.dialect.name == "postgresql"
                   else ["UPDATE audit_events SET id = id ", "SELECT audit_events.hash "])
    expected = ["SELECT api_keys.", "INSERT INTO alerts ", "INSERT INTO alert_counties ", *ledger_turn,
                "INSERT INTO audit_events ", COMMIT]
    assert len(sent) == len(expected) and all(map(str.startswith, sent, expected)), sent
    assert "agency_senders" in sent[0]
    detail = client.get(f"/api/v1/alerts/{response.get_json()['id']}", headers=key).get_json()
    assert detail["counties"] == ["513301", "513322"]


def test_a_replay_is_answered_with_the_first_alert_and_leaves_one_ledger_entry(client, weather):
    """The unique constraint catches the second INSERT; the transaction is rolled back, so neither a second
    alert nor a second ledger entry is left, and the ledger still verifies."""
    _, key = weather
    body = cap_xml("SC-RAIN-TWICE", info_xml(geocodes=("513301",)))
    first = post_xml(client, key, body)
    again = post_xml(client, key, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "alerts")).all()
    assert actions == ["alert.receive"]
    assert verify(db.session)[1] is None
    assert post_xml(client, key, cap_xml("SC-RAIN-AFTER", info_xml(geocodes=("513301",)))).status_code == 201


def test_a_replay_intake_would_now_refuse_still_answers_with_the_alert_it_created(client, weather):
    """A message replayed after it expired (or changed to a hazard the agency may not issue) is refused on
    its way to the INSERT; the (sender, identifier) is looked up then, and answers with the first alert.
    The same message under a new identifier is refused."""
    _, key = weather
    first = post_xml(client, key, cap_xml("SC-RAIN-OLD", info_xml(geocodes=("513301",))))
    assert first.status_code == 201, first.get_json()
    expired = info_xml(geocodes=("513301",), expires_in=timedelta(hours=-1))
    not_its_hazard = info_xml(category="Geo", event="地震预警", severity="Extreme", geocodes=("513301",),
                              parameters=(("magnitude", "6.1"), ("depth_km", "12")))
    for info in (expired, not_its_hazard):
        again = post_xml(client, key, cap_xml("SC-RAIN-OLD", info))
        assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"], again.get_json()
    assert post_xml(client, key, cap_xml("SC-RAIN-NEW", expired)).status_code == 422
    assert post_xml(client, key, cap_xml("SC-RAIN-NEW", not_its_hazard)).status_code == 403
    assert alert_count() == 1


def test_bilingual_message_keeps_both_info_blocks(client, weather):
    _, key = weather
    body = cap_xml(
        "SC-SNOW-003",
        info_xml(language="zh-CN", event="暴雪黄色预警", severity="Moderate", headline="甘孜县暴雪黄色预警", geocodes=("513328",)),
        info_xml(language="bo-CN", event="暴雪黄色预警", severity="Moderate", headline="ཉེན་བརྡ", geocodes=("513328",)),
    )
    response = post_xml(client, key, body)
    assert response.status_code == 201, response.get_json()
    detail = client.get(f"/api/v1/alerts/{response.get_json()['id']}", headers=key).get_json()
    assert detail["info_count"] == 2
    assert detail["headline"] == {"zh": "甘孜县暴雪黄色预警", "bo": "ཉེན་བརྡ"}
    assert detail["hazard"] == "snowstorm" and detail["level"] == "yellow"


def _reference(client, key, alert_id) -> str:
    detail = client.get(f"/api/v1/alerts/{alert_id}", headers=key).get_json()
    return f"{detail['sender']},{detail['identifier']},{detail['sent']}"


def test_update_and_cancel_from_an_auto_publishing_agency(client, seismic):
    _, key = seismic
    sender = "seismic.demo@ews.example"
    original = post_xml(client, key, cap_xml(
        "EQ-1", info_xml(category="Geo", event="地震", severity="Severe", geocodes=("513322",)), sender=sender))
    assert original.status_code == 201, original.get_json()
    first_id = original.get_json()["id"]

    update = post_xml(client, key, cap_xml(
        "EQ-1-U1", info_xml(category="Geo", event="地震", severity="Extreme", geocodes=("513322", "513301")),
        sender=sender, msg_type="Update", references=_reference(client, key, first_id)))
    assert update.status_code == 201, update.get_json()
    update_id = update.get_json()["id"]
    first = client.get(f"/api/v1/alerts/{first_id}", headers=key).get_json()
    assert first["state"] == "superseded" and first["superseded_by"] == update_id

    cancel = post_xml(client, key, cap_xml(
        "EQ-1-C1", sender=sender, msg_type="Cancel", references=_reference(client, key, update_id)))
    assert cancel.status_code == 201, cancel.get_json()
    cancelled = client.get(f"/api/v1/alerts/{update_id}", headers=key).get_json()
    assert cancelled["state"] == "cancelled"
    cancel_detail = client.get(f"/api/v1/alerts/{cancel.get_json()['id']}", headers=key).get_json()
    assert cancel_detail["counties"] == ["513301", "513322"]  # a Cancel without <info> covers what it cancels


def test_update_waiting_for_review_leaves_the_warning_in_force(client, weather):
    _, key = weather
    first = post_xml(client, key, cap_xml("R-1", info_xml(geocodes=("513301",))))
    update = post_xml(client, key, cap_xml("R-1-U", info_xml(event="暴雨红色预警", severity="Extreme", geocodes=("513301",)),
                                           msg_type="Update", references=_reference(client, key, first.get_json()["id"])))
    assert update.status_code == 201 and update.get_json()["state"] == "pending_review"
    assert client.get(f"/api/v1/alerts/{first.get_json()['id']}", headers=key).get_json()["state"] == "pending_review"


def test_json_alert(client, weather):
    _, key = weather
    payload = {
        "status": "Exercise",
        "hazard": "rainstorm",
        "level": "yellow",
        "area": {"counties": ["513221", "513222"]},
        "onset": cap_time(),
        "expires": cap_time(timedelta(hours=3)),
        "headline": {"zh": "汶川县、理县暴雨黄色预警（演练）"},
        "parameters": {"rain_mm_24h": 60},
    }
    response = client.post("/api/v1/alerts", json=payload, headers=key)
    assert response.status_code == 201, response.get_json()
    detail = client.get(f"/api/v1/alerts/{response.get_json()['id']}", headers=key).get_json()
    assert detail["status"] == "Exercise" and detail["level"] == "yellow"
    assert detail["counties"] == ["513221", "513222"]
    assert detail["sender"] == "weather.demo@ews.example"
    assert detail["identifier"]  # generated


def test_listing_is_paged_filtered_and_per_agency(client, weather, make_agency):
    _, key = weather
    _, other_key = make_agency("其他机构", "other", sender="other@x")
    for number in range(3):
        assert post_xml(client, key, cap_xml(f"L-{number}", info_xml(geocodes=("513301",)))).status_code == 201
    assert post_xml(client, other_key, cap_xml("L-other", info_xml(geocodes=("513301",)), sender="other@x")).status_code == 201

    page = client.get("/api/v1/alerts?per_page=2&page=1", headers=key).get_json()
    assert page["total"] == 3 and [item["identifier"] for item in page["items"]] == ["L-2", "L-1"]
    second = client.get("/api/v1/alerts?per_page=2&page=2", headers=key).get_json()
    assert [item["identifier"] for item in second["items"]] == ["L-0"]
    assert client.get("/api/v1/alerts?state=published", headers=key).get_json()["total"] == 0
    assert client.get("/api/v1/alerts?state=pending_review", headers=key).get_json()["total"] == 3
    since = client.get("/api/v1/alerts", query_string={"since": cap_time(timedelta(minutes=5))}, headers=key)
    assert since.get_json()["total"] == 0
    assert client.get("/api/v1/alerts?state=bogus", headers=key).status_code == 400
    assert client.get("/api/v1/alerts?since=yesterday", headers=key).status_code == 400
    assert client.get("/api/v1/alerts?page=0", headers=key).status_code == 400


def test_openapi_names_exactly_the_api_routes(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule[len("/api/v1"):].replace("<int:alert_id>", "{alert_id}")
            served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served
    json.dumps(document)  # serialisable as is


def test_healthz_reports_database_and_redis_and_which_server_of_each(app, client):
    body = client.get("/healthz").get_json()
    database, redis = make_url(app.config["SQLALCHEMY_DATABASE_URI"]), urlsplit(app.config["REDIS_URL"])
    database_node = f"{database.host}:{database.port or 5432}" if database.host else "sqlite"
    assert body == {"status": "ok", "checks": {"database": {"ok": True, "node": database_node},
                                               "redis": {"ok": True, "node": f"{redis.hostname}:{redis.port}"}}}


def test_actual_alert_without_expires_gets_the_hazards_default_and_says_so(client, weather):
    _, key = weather
    payload = {"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"counties": ["513301"]}}
    before = datetime.now(UTC).replace(microsecond=0)
    response = client.post("/api/v1/alerts", json=payload, headers=key)
    after = datetime.now(UTC)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    hours = catalogue().get("rainstorm").validity_hours
    validity = timedelta(hours=hours)
    expires = datetime.fromisoformat(client.get(f"/api/v1/alerts/{created['id']}", headers=key).get_json()["expires"])
    assert before + validity <= expires <= after + validity
    assert created["notes"] == [f"expires was not given: set to {expires.isoformat()}, "
                                f"the rainstorm default of {hours} h"]


def test_default_expiry_counts_from_a_future_onset_and_leaves_exercises_alone(client, weather):
    _, key = weather
    onset = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    actual = {"status": "Actual", "hazard": "rainstorm", "level": "blue", "area": {"counties": ["513301"]},
              "onset": onset.isoformat()}
    created = client.post("/api/v1/alerts", json=actual, headers=key).get_json()
    detail = client.get(f"/api/v1/alerts/{created['id']}", headers=key).get_json()
    validity = timedelta(hours=catalogue().get("rainstorm").validity_hours)
    assert datetime.fromisoformat(detail["expires"]) == onset + validity

    exercise = client.post("/api/v1/alerts", json={**actual, "status": "Exercise"}, headers=key)
    assert exercise.status_code == 201 and "notes" not in exercise.get_json()
    assert client.get(f"/api/v1/alerts/{exercise.get_json()['id']}", headers=key).get_json()["expires"] is None
