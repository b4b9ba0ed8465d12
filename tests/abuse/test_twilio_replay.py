"""Forged and replayed Twilio status callbacks: any sequence of them, valid or not, moves a delivery
only forward, at most once per status, and a forged one changes nothing."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from tests.support.twilio_callbacks import SID, TOKEN, post_receipt, receipt, sent_delivery, state
from warning_service.extensions import db
from warning_service.models import DeliveryAttempt, DeliveryStatus
from warning_service.web.webhooks import ON_THE_WAY, RECEIPTS

RANK = {DeliveryStatus.SENT: 0, DeliveryStatus.DELIVERED: 1, DeliveryStatus.UNDELIVERED: 1, DeliveryStatus.FAILED: 1}
callbacks = st.lists(st.tuples(st.sampled_from(sorted(RECEIPTS) + sorted(ON_THE_WAY) + ["read", "", "DELIVERED"]),
                               st.sampled_from(["valid", "other-token", "tampered", "unsigned"])),
                     min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=callbacks)
def test_any_sequence_of_callbacks_only_moves_forward(twilio_app, client, sequence):
    delivery_id = sent_delivery(SID + str(len(sequence)))
    sid = SID + str(len(sequence))
    expected = DeliveryStatus.SENT
    try:
        for reported, kind in sequence:
            params = receipt(sid, reported)
            if kind == "valid":
                response = post_receipt(client, params)
                status = RECEIPTS.get(reported)
                if status is not None and RANK[expected] == 0 and RANK[status] == 1:
                    expected = status
            elif kind == "other-token":
                response = post_receipt(client, params, token="forged-" + TOKEN)
            elif kind == "tampered":
                response = post_receipt(client, {**params, "MessageStatus": "delivered" if reported != "delivered" else "failed"},
                                        signed=params)
            else:
                response = client.post("/webhooks/twilio/status", data=params)
            assert response.status_code == (200 if kind == "valid" else 403)
        delivery, attempts = state(delivery_id)
        assert delivery.status == expected
        assert len(attempts) == (0 if expected == DeliveryStatus.SENT else 1), "moved once, never back"
    finally:
        db.session.execute(delete(DeliveryAttempt))
        db.session.commit()


def test_a_valid_callback_replayed_a_hundred_times_settles_once(twilio_app, client):
    delivery_id = sent_delivery(SID)
    for _ in range(100):
        assert post_receipt(client, receipt(SID, "delivered")).status_code == 200
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED and len(attempts) == 1
    for status in ("sent", "queued", "undelivered", "failed"):
        assert post_receipt(client, receipt(SID, status)).status_code == 200
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED and len(attempts) == 1
