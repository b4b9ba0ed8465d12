"""Each way a gateway peer fails ends as the right delivery state, through the whole fan-out.

The real adapters (Twilio, county broadcast over HTTP, BeiDou over a socket) talk
to their peers; an alert is published and worked off as in service. A transient
failure leaves the delivery pending for a later attempt with the gateway's code;
a permanent one fails it with the gateway's reason and moves SMS to the person's
BeiDou card; a recipient's phone that Twilio accepted but the carrier did not
deliver ends `undelivered` with the carrier's code.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from peers.beidou_peer import BeidouPeer
from peers.broadcast_peer import BroadcastPeer
from peers.twilio_peer import TwilioPeer
from tests.support.dispatch import new_alert, publish_now, work
from warning_service.channels.sms.twilio import TwilioSmsAdapter
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import (
    BeidouTerminal,
    BroadcastEndpoint,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Recipient,
    utcnow,
)

COUNTY = "513301"
PLATFORM_SECRET = "platform-secret-" + "3c" * 12
PHONE = "+8619900001234"
PHONE_WITH_CARD = "+8619900005678"
HOUSEHOLD_CARD = "0247601"
REFUSED_CARD = "0999999"  # the simulator's no-permission address


@pytest.fixture
def peers(app, monkeypatch, served_app):
    """The three peers, the app's gateways aimed at them, and targets in one county."""
    with TwilioPeer(callback_delay=0.05) as twilio, BroadcastPeer({COUNTY: PLATFORM_SECRET}) as broadcast, \
            BeidouPeer(interval=0.05) as beidou:
        for name, value in {
            "SMS_GATEWAY": "twilio", "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token, "TWILIO_FROM": "+8610690000000",
            "TWILIO_API_BASE_URL": twilio.base_url, "TWILIO_MAX_MPS": 100.0,
            "BROADCAST_GATEWAY": "http", "BROADCAST_TIMEOUT_SECONDS": 1.0,
            "BEIDOU_GATEWAY": "serial", "BEIDOU_SERIAL_URL": beidou.url,
            "RETRY_BASE_SECONDS": 30, "DELIVERY_MAX_ATTEMPTS": 3,
        }.items():
            monkeypatch.setitem(app.config, name, value)
        monkeypatch.setattr(TwilioSmsAdapter, "patience", 0.3)  # a Twilio that throttles every create, given up soon
        app.extensions.pop("sender", None)
        card = BeidouTerminal(card_address=HOUSEHOLD_CARD, county_code=COUNTY, name="牧户终端", is_group=False)
        db.session.add_all([
            card,
            BroadcastEndpoint(county_code=COUNTY, name="康定市应急广播平台", url=broadcast.url(COUNTY),
                              secret=PLATFORM_SECRET),
            Recipient(phone=PHONE, languages="zh", county_code=COUNTY, channels=["sms"]),
        ])
        db.session.flush()
        db.session.add(Recipient(phone=PHONE_WITH_CARD, languages="bo,zh", county_code=COUNTY, channels=["sms"],
                                 beidou_terminal_id=card.id))
        db.session.commit()
        yield twilio, broadcast, beidou
        app.extensions.pop("sender", None)


def deliveries(alert_id: int, channel: str) -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).where(Delivery.alert_id == alert_id, Delivery.channel == channel)
                                   .order_by(Delivery.id)))


def attempts(delivery: Delivery) -> list[DeliveryAttempt]:
    return list(db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
                                   .order_by(DeliveryAttempt.attempt)))


def retry_now(app) -> None:
    """Make the back-off pass at once, then do what the worker's reconciler does."""
    db.session.execute(update(Delivery).where(Delivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    reconcile(db.session, redis_client(), app.config, stale_after=0)
    work(app)


def until(app, done, rounds: int = 40) -> None:
    """Work off what is due, as the worker and its reconciler do, until `done()`.

    A card sends one message per interval, so its rows come due one at a time.
    """
    work(app)
    for _ in range(rounds):
        if done():
            return
        time.sleep(0.05)
        reconcile(db.session, redis_client(), app.config, stale_after=0)
        work(app)
    assert done()


@pytest.mark.parametrize(("mode", "code"), [("5xx", "20500"), ("429", "20429"), ("drop", "connection")])
def test_twilio_failures_are_retried_with_twilios_code_then_go(app, peers, mode, code):
    twilio, _, _ = peers
    twilio.fail(mode)
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    sms = deliveries(alert.id, "sms")
    assert len(sms) == 2 and all(row.status == DeliveryStatus.PENDING for row in sms)
    for row in sms:
        assert row.attempts == 1 and row.next_attempt_at > utcnow() and row.gateway_code == code
        [attempt] = attempts(row)
        assert (attempt.outcome, attempt.code) == ("transient", code)
    assert deliveries(alert.id, "beidou") == []  # a transient failure is no reason to fail over

    twilio.fail("none")
    retry_now(app)
    twilio.wait_for_callbacks(4)
    sms = deliveries(alert.id, "sms")
    assert [row.status for row in sms] == [DeliveryStatus.DELIVERED] * 2
    assert all([a.outcome for a in attempts(row)][:2] == ["transient", "accepted"] for row in sms)


def test_retries_that_run_out_fail_with_the_last_reason(app, peers, monkeypatch):
    twilio, _, _ = peers
    monkeypatch.setitem(app.config, "DELIVERY_MAX_ATTEMPTS", 2)
    app.extensions.pop("sender", None)
    twilio.fail("429")
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    retry_now(app)
    sms = deliveries(alert.id, "sms")
    assert [(row.status, row.attempts, row.gateway_code) for row in sms] == [(DeliveryStatus.FAILED, 2, "20429")] * 2


def test_a_number_twilio_refuses_fails_for_good_and_moves_to_the_persons_card(app, peers):
    twilio, _, beidou = peers
    twilio.invalid_suffix = "234"  # PHONE ends so; PHONE_WITH_CARD too once changed below
    db.session.execute(update(Recipient).where(Recipient.phone == PHONE_WITH_CARD).values(phone="+8619900005234"))
    db.session.commit()
    alert = publish_now(new_alert(counties=(COUNTY,)))
    assert deliveries(alert.id, "beidou") == []  # the household card is kept for failover
    work(app)
    sms = deliveries(alert.id, "sms")
    assert [(row.status, row.gateway_code) for row in sms] == [(DeliveryStatus.FAILED, "21211")] * 2
    assert all("not a valid phone number" in row.gateway_text for row in sms)
    [moved] = deliveries(alert.id, "beidou")
    owner = db.session.scalar(select(Recipient).where(Recipient.phone == "+8619900005234"))
    assert moved.failover_of_id == next(row.id for row in sms if row.target_id == owner.id)
    assert moved.status == DeliveryStatus.SENT
    assert [received.address for received in beidou.received()] == [HOUSEHOLD_CARD]


def test_a_message_the_carrier_did_not_deliver_ends_undelivered_with_its_code(app, peers):
    twilio, _, _ = peers
    twilio.outcomes[PHONE] = ("undelivered", "30005")
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    twilio.wait_for_callbacks(4)
    by_phone = {db.session.get(Recipient, row.target_id).phone: row for row in deliveries(alert.id, "sms")}
    assert (by_phone[PHONE].status, by_phone[PHONE].gateway_code) == (DeliveryStatus.UNDELIVERED, "30005")
    assert by_phone[PHONE_WITH_CARD].status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(("mode", "code"), [("down", "503"), ("5xx", "500"), ("timeout", "timeout")])
def test_a_broadcast_platform_that_fails_is_retried(app, peers, mode, code):
    _, broadcast, _ = peers
    broadcast.fail(mode)
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    [row] = deliveries(alert.id, "broadcast")
    assert (row.status, row.attempts, row.gateway_code) == (DeliveryStatus.PENDING, 1, code)
    broadcast.fail("none")
    retry_now(app)
    [row] = deliveries(alert.id, "broadcast")
    assert (row.status, row.gateway_code) == (DeliveryStatus.SENT, "1")
    assert len(broadcast.received()) == 1


def test_a_platform_that_cannot_verify_the_signature_fails_with_its_receipt(app, peers):
    _, broadcast, _ = peers
    broadcast.secrets[COUNTY] = "the platform holds another key"
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    [row] = deliveries(alert.id, "broadcast")
    assert (row.status, row.gateway_code) == (DeliveryStatus.FAILED, "4")
    assert broadcast.received() == []


def test_a_card_without_permission_fails_for_good_and_a_card_fault_is_retried(app, peers):
    _, _, beidou = peers
    db.session.add_all([
        BeidouTerminal(card_address=REFUSED_CARD, county_code=COUNTY, name="村组广播", is_group=True),
        BeidouTerminal(card_address="1933442", county_code=COUNTY, name="村组广播 2", is_group=True),
    ])
    db.session.commit()
    beidou.refused = frozenset({REFUSED_CARD})
    alert = publish_now(new_alert(counties=(COUNTY,)))
    until(app, lambda: all(row.status != DeliveryStatus.PENDING for row in deliveries(alert.id, "beidou")))
    by_card = {db.session.get(BeidouTerminal, row.target_id).card_address: row
               for row in deliveries(alert.id, "beidou")}
    assert by_card[REFUSED_CARD].status == DeliveryStatus.FAILED
    assert by_card[REFUSED_CARD].gateway_code == "6"  # the card's reason: no permission
    assert by_card["1933442"].status == DeliveryStatus.SENT

    beidou.fail("5xx")
    second = publish_now(new_alert(counties=(COUNTY,)))

    def group_card() -> Delivery:
        return next(row for row in deliveries(second.id, "beidou")
                    if db.session.get(BeidouTerminal, row.target_id).card_address == "1933442")

    until(app, lambda: group_card().attempts == 1)
    assert (group_card().status, group_card().gateway_code) == (DeliveryStatus.PENDING, "4")  # power not locked
    beidou.fail("none")
    retry_now(app)
    until(app, lambda: group_card().status == DeliveryStatus.SENT)


def test_sms_that_lags_too_long_also_goes_to_the_persons_card(app, peers):
    twilio, _, beidou = peers
    twilio.fail("429")  # the county's SMS is stuck behind a throttling gateway
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    assert deliveries(alert.id, "beidou") == []
    lag = app.config["SMS_FAILOVER_AFTER_SECONDS"]
    assert reconcile(db.session, redis_client(), app.config).failed_over == 0  # not late yet

    later = utcnow() + timedelta(seconds=lag + 1)
    assert reconcile(db.session, redis_client(), app.config, now=later).failed_over == 1
    assert reconcile(db.session, redis_client(), app.config, now=later).failed_over == 0  # once only
    work(app)
    [moved] = deliveries(alert.id, "beidou")
    owner = db.session.scalar(select(Recipient).where(Recipient.phone == PHONE_WITH_CARD))
    sms = {row.target_id: row for row in deliveries(alert.id, "sms")}
    assert moved.failover_of_id == sms[owner.id].id and moved.status == DeliveryStatus.SENT
    assert [received.address for received in beidou.received()] == [HOUSEHOLD_CARD]
    assert all(row.status == DeliveryStatus.PENDING for row in sms.values())  # SMS still tries


def test_lag_failover_can_be_turned_off(app, peers, monkeypatch):
    twilio, _, _ = peers
    monkeypatch.setitem(app.config, "SMS_FAILOVER_AFTER_SECONDS", 0)
    twilio.fail("429")
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    later = utcnow() + timedelta(hours=1)
    assert reconcile(db.session, redis_client(), app.config, now=later).failed_over == 0
    assert deliveries(alert.id, "beidou") == []
