"""The Twilio adapter under the fan-out, on each database: the account's rate (TWILIO_MAX_MPS, the
shared bucket of the fan-out, no Twilio special case) bounds what reaches Twilio however many creates
the in-flight bound would let go, and every status callback the peer makes is applied."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from peers.twilio_peer import TwilioPeer
from tests.support.dispatch import new_alert, publish_now, statuses, work
from warning_service.channels.sms.twilio import SEGMENTS
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import Delivery, DeliveryStatus, Recipient

COUNTY = "513301"
RATE = 10.0  # segments a second, and a bucket of 10


@pytest.fixture
def twilio(app, served_app, monkeypatch):
    with TwilioPeer(callback_delay=0.05, latency=0.05, callback_workers=4) as peer:
        for setting, value in {"SMS_GATEWAY": "twilio", "TWILIO_ACCOUNT_SID": peer.account_sid,
                               "TWILIO_AUTH_TOKEN": peer.auth_token, "TWILIO_FROM": "+15005550006",
                               "TWILIO_API_BASE_URL": peer.base_url, "TWILIO_MAX_MPS": RATE,
                               "TWILIO_MAX_IN_FLIGHT": 50}.items():
            monkeypatch.setitem(app.config, setting, value)
        app.extensions.pop("sender", None)
        yield peer
        app.extensions.pop("sender", None)  # its adapter closes its loop and connections as it goes


def test_the_accounts_rate_bounds_what_reaches_twilio_and_every_callback_is_applied(app, twilio):
    db.session.add_all([Recipient(phone=f"+861990000{index:04d}", languages="zh", county_code=COUNTY,
                                  channels=["sms"]) for index in range(1, 13)])
    db.session.commit()
    alert = publish_now(new_alert(counties=(COUNTY,)))
    started = time.monotonic()
    work(app)
    assert statuses(alert.id).get("pending"), "what the bucket could not cover waits; it is not sent"
    while statuses(alert.id).get("pending") and time.monotonic() < started + 60:
        time.sleep(0.2)
        reconcile(db.session, redis_client(), app.config, stale_after=0)
        work(app)
    elapsed = time.monotonic() - started

    received = twilio.received()
    segments = sum(SEGMENTS.measure(text).parts for message in received for text in message.texts)
    assert len(received) == 12 and segments >= 12
    assert segments <= RATE + RATE * elapsed, "never more than the bucket plus the rate, in Twilio's segments"
    assert twilio.stats.throttled == 0

    callbacks = twilio.wait_for_callbacks(2 * 12)
    assert len(callbacks) == 24 and {callback.answered for callback in callbacks} == {200}
    db.session.expire_all()
    rows = db.session.scalars(select(Delivery).where(Delivery.alert_id == alert.id, Delivery.channel == "sms")).all()
    assert [row.status for row in rows] == [DeliveryStatus.DELIVERED] * 12
    assert {row.gateway_id for row in rows} == {message.extra["sid"] for message in received}
