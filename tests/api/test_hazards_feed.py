"""The public side of /api/v1: the hazard catalogue and the Atom feed of published warnings."""
from __future__ import annotations

from datetime import datetime, timedelta

from lxml import etree

from tests.support.api import SEISMIC_SENDER, XML, valid_cap
from tests.support.cap_builder import cap_time, cap_xml, info_xml
from warning_service.extensions import db
from warning_service.hazards import catalogue
from warning_service.models import Alert, AlertState

ATOM = "http://www.w3.org/2005/Atom"
NS = {"atom": ATOM}


def test_hazards_lists_the_whole_catalogue_without_a_key(client):
    response = client.get("/api/v1/hazards")
    assert response.status_code == 200
    hazards = response.get_json()
    assert len(hazards) == 26
    assert [h["code"] for h in hazards] == [hazard.code for hazard in catalogue()]
    keys = {"code", "names", "bo_status", "levels", "cap_category", "cap_events", "oasis_event_codes",
            "national_event_codes", "agency_kinds"}
    for hazard in hazards:
        assert keys <= set(hazard), hazard["code"]
        assert hazard["names"]["zh"] and hazard["names"]["en"] and "bo" in hazard["names"]
        assert (hazard["bo_status"] == "sourced") == bool(hazard["names"]["bo"])
    by_code = {h["code"]: h for h in hazards}
    assert by_code["earthquake"]["levels"] == [] and by_code["earthquake"]["names"]["bo"] == "ས་ཡོམ"
    assert by_code["rainstorm"]["levels"] == ["red", "orange", "yellow", "blue"]
    assert by_code["rainstorm"]["national_event_codes"] == ["11B03"]
    assert by_code["geohazard_risk"]["agency_kinds"] == ["geology", "weather"]


def test_hazards_list_their_parameters_with_units_and_ranges(client):
    by_code = {h["code"]: h for h in client.get("/api/v1/hazards").get_json()}
    earthquake = {p["name"]: p for p in by_code["earthquake"]["parameters"]}
    assert list(earthquake) == ["magnitude", "depth_km", "latitude", "longitude"]
    assert earthquake["magnitude"] == {"name": "magnitude", "unit": "", "minimum": 0, "maximum": 10}
    assert earthquake["depth_km"]["unit"] == "km" and earthquake["depth_km"]["maximum"] == 700
    assert by_code["rainstorm"]["parameters"] == [{"name": "rain_mm", "unit": "mm", "minimum": 0, "maximum": 2000}]
    assert by_code["gale"]["parameters"] == []
    assert all(h["validity_hours"] == catalogue().get(h["code"]).validity_hours for h in by_code.values())


def post(client, key, identifier: str, sent: timedelta, *, status: str = "Actual", event: str = "地震") -> int:
    body = cap_xml(identifier, info_xml(category="Geo", event=event, severity="Severe", geocodes=("513322",)),
                   sender=SEISMIC_SENDER, status=status, sent=cap_time(sent))
    response = client.post("/api/v1/alerts", data=body, headers={**key, **XML})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_feed_lists_published_actual_alerts_newest_first_with_valid_cap_links(client, seismic, weather, schema):
    _, key = seismic
    oldest = post(client, key, "EQ-FEED-1", timedelta(minutes=-30))
    newest = post(client, key, "EQ-FEED-3", timedelta(minutes=-5))
    middle = post(client, key, "EQ-FEED-2", timedelta(minutes=-10))
    post(client, key, "EQ-DRILL", timedelta(minutes=-1), status="Exercise")  # published, but a drill
    client.post("/api/v1/alerts", headers=weather[1], json={                  # waits for review
        "status": "Actual", "hazard": "rainstorm", "level": "red", "area": {"counties": ["513301"]},
        "expires": cap_time(timedelta(hours=3))})
    done = db.session.get(Alert, middle)
    done.move_to(AlertState.PUBLISHED)
    db.session.commit()

    response = client.get("/api/v1/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    assert response.get_data().startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    feed = etree.fromstring(response.get_data())
    assert feed.tag == f"{{{ATOM}}}feed"
    for required in ("atom:id", "atom:title", "atom:updated", "atom:author/atom:name"):
        assert feed.findtext(required, namespaces=NS), required
    assert feed.find("atom:link[@rel='self']", NS).get("href").endswith("/api/v1/feed.atom")

    entries = feed.findall("atom:entry", NS)
    alerts = [db.session.get(Alert, alert_id) for alert_id in (newest, middle, oldest)]
    assert len(entries) == 3
    ids = [entry.findtext("atom:id", namespaces=NS) for entry in entries]
    assert all(entry_id.startswith("urn:uuid:") for entry_id in ids) and len(set(ids)) == 3
    updated = [datetime.fromisoformat(entry.findtext("atom:updated", namespaces=NS)) for entry in entries]
    assert updated == sorted(updated, reverse=True) == [alert.sent for alert in alerts]
    for entry, alert in zip(entries, alerts):
        assert entry.findtext("atom:title", namespaces=NS) == "泸定县地震信息"
        assert entry.findtext("atom:summary", namespaces=NS)
        link = entry.find("atom:link[@rel='alternate']", NS)
        assert link.get("type") == "application/cap+xml"
        assert f"/api/v1/public/alerts/{alert.id}/cap" in link.get("href")
        cap = valid_cap(client.get(link.get("href")), schema)  # public: no key
        assert cap.findtext("{urn:oasis:names:tc:emergency:cap:1.2}identifier") == alert.identifier

    # the entry id is derived from CAP's key (sender, identifier), so it is stable
    assert etree.fromstring(client.get("/api/v1/feed.atom").get_data()).findtext("atom:entry/atom:id", namespaces=NS) == ids[0]


def test_an_empty_feed_is_still_a_valid_feed(client):
    feed = etree.fromstring(client.get("/api/v1/feed.atom").get_data())
    assert feed.tag == f"{{{ATOM}}}feed" and feed.findall("atom:entry", NS) == []
    assert feed.findtext("atom:updated", namespaces=NS)
