"""POST /webhooks/cbc/<code>/status: a CBC's signed status callbacks, verified over the raw body, idempotent,
never moving a broadcast backwards, and applied to the delivery once the sending job has recorded it."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from sqlalchemy import select

from tests.support.dispatch import new_alert
from warning_service.channels.cell_broadcast.callbacks import catch_up
from warning_service.extensions import db
from warning_service.models import CbcBroadcast, CbcOperator, CbcState, Delivery, DeliveryStatus, utcnow

SECRET = "cbc-callback-secret-" + "ab" * 8


@pytest.fixture
def sent(app) -> tuple[int, int]:
    """A cell broadcast delivery the cmcc CBC accepted (and cucc, another operator): (alert id, delivery id)."""
    alert = new_alert()
    operators = [CbcOperator(code=code, name=code, url=f"http://127.0.0.1:1/{code}", token="t", callback_secret=SECRET)
                 for code in ("cmcc", "cucc")]
    db.session.add_all(operators)
    db.session.flush()
    deliveries = [Delivery(alert_id=alert.id, channel="cell_broadcast", target_id=operator.id,
                           county_code="513301", status=DeliveryStatus.SENT, gateway_id=f"{operator.code}-000001",
                           sent_at=utcnow()) for operator in operators]
    db.session.add_all(deliveries)
    db.session.commit()
    return alert.id, deliveries[0].id


def body(alert_id: int, state: str, cells: int = 37, failed_cells: int = 3, code: str = "cmcc") -> bytes:
    return json.dumps({"cbc_message_id": f"{code}-000001", "identifier": f"EWS-{alert_id}-{code}", "state": state,
                       "cells": cells, "failed_cells": failed_cells}).encode()


def post(client, raw: bytes, code: str = "cmcc", secret: str = SECRET, signature: str | None = None):
    signature = signature if signature is not None else hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post(f"/webhooks/cbc/{code}/status", data=raw, headers={
        "Content-Type": "application/json; charset=utf-8", "X-CBC-Signature": signature})


def broadcast(delivery_id: int) -> tuple[Delivery, CbcBroadcast | None]:
    db.session.expire_all()
    return db.session.get(Delivery, delivery_id), db.session.get(CbcBroadcast, delivery_id)


def test_a_signed_callback_records_the_state_and_the_cells(client, sent):
    alert_id, delivery_id = sent
    assert post(client, body(alert_id, "broadcasting", cells=18, failed_cells=0)).status_code == 200
    delivery, row = broadcast(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.delivered_at is not None
    assert (row.state, row.cells, row.failed_cells, row.alert_id) == (CbcState.BROADCASTING, 18, 0, alert_id)
    assert row.broadcasting_at is not None and row.completed_at is None
    assert post(client, body(alert_id, "completed")).status_code == 200
    _, row = broadcast(delivery_id)
    assert (row.state, row.cells, row.failed_cells) == (CbcState.COMPLETED, 37, 3) and row.completed_at


def test_a_replayed_callback_changes_nothing(client, sent):
    alert_id, delivery_id = sent
    raw = body(alert_id, "completed")
    assert post(client, raw).status_code == 200
    first = broadcast(delivery_id)[1].updated_at
    assert post(client, raw).status_code == 200
    assert broadcast(delivery_id)[1].updated_at == first


def test_a_state_never_moves_backwards(client, sent):
    alert_id, delivery_id = sent
    for state in ("completed", "broadcasting", "failed"):
        assert post(client, body(alert_id, state, cells=40 if state == "completed" else 1)).status_code == 200
    delivery, row = broadcast(delivery_id)
    assert (row.state, row.cells, delivery.status) == (CbcState.COMPLETED, 40, DeliveryStatus.DELIVERED)
    assert post(client, body(alert_id, "cancelled", cells=0, failed_cells=0)).status_code == 200
    _, row = broadcast(delivery_id)
    assert (row.state, row.cells, row.failed_cells) == (CbcState.CANCELLED, 40, 3)  # the cells last reported
    assert row.cancelled_at is not None


def test_failed_in_every_cell_is_undelivered(client, sent):
    alert_id, delivery_id = sent
    assert post(client, body(alert_id, "failed", cells=0, failed_cells=12)).status_code == 200
    assert broadcast(delivery_id)[0].status == DeliveryStatus.UNDELIVERED


@pytest.mark.parametrize("forge", ["another secret", "no signature", "the signature of another body",
                                   "an operator with no such code"])
def test_a_forged_callback_is_refused_and_changes_nothing(client, sent, forge):
    alert_id, delivery_id = sent
    raw = body(alert_id, "completed")
    response = {
        "another secret": lambda: post(client, raw, secret="guessed"),
        "no signature": lambda: post(client, raw, signature=""),
        "the signature of another body": lambda: post(client, raw, signature=hmac.new(
            SECRET.encode(), body(alert_id, "failed"), hashlib.sha256).hexdigest()),
        "an operator with no such code": lambda: post(client, raw, code="ctcc"),
    }[forge]()
    assert response.status_code == 403
    delivery, row = broadcast(delivery_id)
    assert row is None and delivery.status == DeliveryStatus.SENT


def test_a_signed_callback_about_another_operators_message_is_not_found(client, sent):
    alert_id, _ = sent
    assert post(client, body(alert_id, "completed", code="cucc"), code="cmcc").status_code == 404
    assert post(client, body(alert_id + 1, "completed")).status_code == 404
    assert db.session.scalar(select(CbcBroadcast)) is None


@pytest.mark.parametrize("raw", [b"not json", b'{"state": "completed"}', b"[]",
                                 json.dumps({"cbc_message_id": "x", "identifier": "EWS-1-cmcc", "state": "lost",
                                             "cells": 1, "failed_cells": 0}).encode(),
                                 json.dumps({"cbc_message_id": "x", "identifier": "EWS-1-cmcc", "state": "completed",
                                             "cells": -1, "failed_cells": 0}).encode()])
def test_a_signed_but_malformed_callback_is_a_bad_request(client, sent, raw):
    assert post(client, raw).status_code == 400


def test_a_body_too_big_is_refused_before_it_is_read(client, sent):
    assert post(client, b"{" + b" " * 5000 + b"}").status_code == 413


def test_a_callback_before_the_job_recorded_the_delivery_is_applied_once_it_has(client, sent):
    alert_id, delivery_id = sent
    db.session.get(Delivery, delivery_id).status = DeliveryStatus.SENDING
    db.session.commit()
    assert post(client, body(alert_id, "broadcasting")).status_code == 200
    delivery, row = broadcast(delivery_id)
    assert row.state == CbcState.BROADCASTING and delivery.status == DeliveryStatus.SENDING  # the job's to record
    delivery.status = DeliveryStatus.SENT
    db.session.commit()
    assert catch_up(db.session) == 1  # the reconciler's pass
    assert broadcast(delivery_id)[0].status == DeliveryStatus.DELIVERED
