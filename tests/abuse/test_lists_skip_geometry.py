"""Pages that list alerts never read an alert's area, its <info> blocks or the original message:
four alerts with 200,000-point polygons made the inbox poll take 4 s (issue 13). Proven from the SQL
each page sends (no timing): no statement names those columns, while an alert's own page does."""
from __future__ import annotations

import re
from datetime import timedelta

from flask import g

from tests.support.console import sign_in, waiting_alert
from tests.support.sql import statements
from warning_service.extensions import db
from warning_service.models import Alert, AlertState, utcnow

BULKY_COLUMNS = re.compile(r"\balerts\.(area|infos|original)\b")
POLYGON = [[30.0 + index / 1e6, 101.9] for index in range(2_000)]


def bulky_alerts(agency_id: int) -> tuple[int, int]:
    """One alert waiting for review and one published Actual alert of the agency, both with a large polygon."""
    waiting_id, published_id = waiting_alert(), waiting_alert()
    for alert_id in (waiting_id, published_id):
        alert = db.session.get(Alert, alert_id)
        alert.area = {"polygons": [POLYGON], "counties": ["513301", "513322"]}
        alert.infos = [{"language": "zh-CN", "areas": [{"polygons": [POLYGON]}]}]
        alert.original = b"<alert>" + b"30.0,101.9 " * 2_000 + b"</alert>"
        alert.agency_id = agency_id
    published = db.session.get(Alert, published_id)
    published.state, published.published_at = AlertState.PUBLISHED, utcnow() - timedelta(minutes=5)
    db.session.commit()
    return waiting_id, published_id


def reads_bulky_columns(client, path: str, **headers: str) -> bool:
    """Whether serving `path` read a bulky column. The test's session and signed-in user are dropped
    first, so the page loads its alerts itself, as a new request does."""
    db.session.remove()
    g.pop("_login_user", None)
    with statements() as sent:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    assert sent, f"{path} sent no SQL"
    return any(BULKY_COLUMNS.search(statement) for statement in sent)


def test_alert_lists_never_load_polygons_infos_or_the_original(app, client, people, weather):
    agency, key = weather
    waiting_id, published_id = bulky_alerts(agency.id)
    sign_in(client, "auditor")

    for path in ("/", "/inbox/rows", "/reports/period"):
        assert not reads_bulky_columns(client, path), path
    for path in ("/api/v1/alerts", "/api/v1/feed.atom"):
        assert not reads_bulky_columns(client, path, **key), path

    assert reads_bulky_columns(client, f"/alerts/{waiting_id}"), "the detector must see an alert's own page read them"


def test_the_lists_still_show_what_they_listed(app, client, people, weather):
    agency, key = weather
    waiting_id, published_id = bulky_alerts(agency.id)
    sign_in(client, "auditor")

    rows = client.get("/inbox/rows").get_data(as_text=True)
    assert f">{waiting_id}</a>" in rows and f">{published_id}</a>" in rows and "康定市" in rows
    assert f"#{published_id}" in client.get("/reports/period").get_data(as_text=True)
    listed = client.get("/api/v1/alerts", headers=key).get_json()
    assert {item["id"] for item in listed["items"]} == {waiting_id, published_id}
