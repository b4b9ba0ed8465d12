"""The agency API in tests: posting CAP and JSON, what a refusal must look like, and the service's CAP out."""
from __future__ import annotations

import json

from lxml import etree
from sqlalchemy import func, select

from tests.support.cap_builder import cap_xml, info_xml
from warning_service.extensions import db
from warning_service.models import Alert, AuditEvent, Delivery

XML = {"Content-Type": "application/cap+xml"}
LUDING_SEAT = "29.914,102.234"  # near 泸定县 seat
SEISMIC_SENDER = "seismic.demo@ews.example"


def post(client, headers, body, content_type="application/cap+xml"):
    return client.post("/api/v1/alerts", data=body, headers={**headers, "Content-Type": content_type})


def post_xml(client, headers, body):
    return client.post("/api/v1/alerts", data=body, headers={**headers, **XML})


def post_json(client, headers, body: object):
    return post(client, headers, json.dumps(body).encode(), "application/json")


def good_body(identifier="B-1", **info) -> bytes:
    return cap_xml(identifier, info_xml(geocodes=("513301",), **info))


def stored() -> tuple[int, int]:
    """(alerts, audit events) in the database."""
    alerts = db.session.scalar(select(func.count()).select_from(Alert))
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    return alerts, events


def nothing_stored() -> tuple[int, int, int]:
    return (*stored(), db.session.scalar(select(func.count()).select_from(Delivery)))


def assert_refused_4xx(response, *statuses: int) -> None:
    """A problem+json 4xx (one of `statuses`, when given), and nothing left behind."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    assert nothing_stored() == (0, 0, 0), "a refused message must leave nothing behind"


def valid_cap(response, schema: etree.XMLSchema) -> etree._Element:
    """The response is a CAP 1.2 document, UTF-8 with a declaration, valid against the bundled schema."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/cap+xml"
    data = response.get_data()
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(data)
    assert schema.validate(root), schema.error_log
    return root
