"""Twilio's status callbacks: signed, never moving a delivery backwards; and the whole loop with the Twilio peer."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from peers.twilio_peer import TwilioPeer
from tests.support.dispatch import new_alert, publish_now, work
from tests.support.twilio_callbacks import PUBLIC_URL, SID, TOKEN, post_receipt, receipt, sent_delivery, state
from warning_service.channels import receipts
from warning_service.channels.receipts import apply_early_receipts
from warning_service.channels.sms.twilio import STATUS_CALLBACK_PATH
from warning_service.extensions import db
from warning_service.models import Delivery, DeliveryAttempt, DeliveryStatus, EarlyReceipt, Recipient

OTHER_SID = "SM" + "b2" * 16


def test_a_signed_delivered_receipt_settles_the_delivery(twilio_app, client):
    delivery_id = sent_delivery(SID)
    response = post_receipt(client, receipt(SID, "delivered"))
    assert response.status_code == 200
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.delivered_at is not None
    assert [(a.outcome, a.gateway_id, a.attempt) for a in attempts] == [("delivered", SID, 1)]


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_a_missing_or_wrong_signature_is_refused(twilio_app, client, signature):
    delivery_id = sent_delivery(SID)
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    response = client.post(STATUS_CALLBACK_PATH, data=receipt(SID, "delivered"), headers=headers)
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.SENT and attempts == []


def test_a_receipt_signed_with_another_token_is_forged(twilio_app, client):
    delivery_id = sent_delivery(SID)
    assert post_receipt(client, receipt(SID, "delivered"), token="not-our-token").status_code == 403
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.SENT and attempts == []


def test_a_replayed_receipt_with_a_changed_parameter_is_refused(twilio_app, client):
    delivery_id = sent_delivery(SID)
    response = post_receipt(client, receipt(SID, "failed", ErrorCode="30003"), signed=receipt(SID, "delivered"))
    assert response.status_code == 403
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.SENT and attempts == []


def test_the_signature_covers_the_public_url_not_the_one_behind_the_proxy(twilio_app, client):
    delivery_id = sent_delivery(SID)
    local_url = "http://localhost" + STATUS_CALLBACK_PATH  # what this process sees
    assert post_receipt(client, receipt(SID, "delivered"), url=local_url).status_code == 403
    assert state(delivery_id)[0].status == DeliveryStatus.SENT
    assert post_receipt(client, receipt(SID, "delivered")).status_code == 200
    assert state(delivery_id)[0].status == DeliveryStatus.DELIVERED


def test_the_query_string_is_part_of_the_signed_url(twilio_app, client):
    delivery_id = sent_delivery(SID)
    params = receipt(SID, "delivered")
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + "?batch=7", params)
    headers = {"X-Twilio-Signature": signature}
    assert client.post(STATUS_CALLBACK_PATH, data=params, headers=headers).status_code == 403
    assert client.post(STATUS_CALLBACK_PATH + "?batch=7", data=params, headers=headers).status_code == 200
    assert state(delivery_id)[0].status == DeliveryStatus.DELIVERED


def test_late_and_repeated_receipts_change_nothing_and_are_answered(twilio_app, client):
    delivery_id = sent_delivery(SID)
    for status in ("delivered", "sent", "delivered", "failed"):
        assert post_receipt(client, receipt(SID, status)).status_code == 200
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [a.outcome for a in attempts] == ["delivered"]


def test_a_failure_receipt_records_twilios_error_code(twilio_app, client):
    delivered_id, failed_id = sent_delivery(SID, target_id=1), sent_delivery(OTHER_SID, target_id=2)
    assert post_receipt(client, receipt(OTHER_SID, "failed", ErrorCode="30003")).status_code == 200
    failed, attempts = state(failed_id)
    assert (failed.status, failed.gateway_code, failed.delivered_at) == (DeliveryStatus.FAILED, "30003", None)
    assert [(a.outcome, a.code) for a in attempts] == [("failed", "30003")]
    untouched, attempts = state(delivered_id)
    assert untouched.status == DeliveryStatus.SENT and attempts == []


def test_a_sent_receipt_changes_nothing_even_on_a_delivery_being_sent_again(twilio_app, client):
    """'sent' (and queued, accepted, sending) say what the job records itself. On a delivery being sent again
    (its earlier attempt's SID still on it) it must not move it, or its job could not record its own result."""
    delivery_id = sent_delivery(SID, status=DeliveryStatus.SENDING)
    for status in ("queued", "sending", "sent"):
        assert post_receipt(client, receipt(SID, status)).status_code == 200
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.SENDING and attempts == []


def test_a_receipt_before_its_sid_is_recorded_is_kept_and_applied_then(twilio_app, client):
    """A fast gateway can call back before the sending job has recorded the SID."""
    delivery_id = sent_delivery(SID)
    assert post_receipt(client, receipt(OTHER_SID, "delivered")).status_code == 200
    assert post_receipt(client, receipt(OTHER_SID, "sent")).status_code == 200  # late and out of order
    assert state(delivery_id)[0].status == DeliveryStatus.SENT  # nothing else moved
    kept = db.session.get(EarlyReceipt, OTHER_SID)
    assert kept is not None and kept.status == DeliveryStatus.DELIVERED

    later = sent_delivery(OTHER_SID)  # what the job records once its batch is done
    assert apply_early_receipts(db.session, [OTHER_SID]) == 1
    db.session.commit()
    assert state(later)[0].status == DeliveryStatus.DELIVERED
    assert db.session.get(EarlyReceipt, OTHER_SID) is None


# --- the whole loop: fan-out -> Twilio peer -> signed callbacks -> this app ----------------------------


@pytest.fixture
def twilio_peer(app, served_app, monkeypatch) -> Iterator[TwilioPeer]:
    """SMS through the Twilio adapter to the peer; the sender is rebuilt with these settings."""
    with TwilioPeer(callback_delay=0.0) as peer:  # callbacks race the job recording the SIDs
        for setting, value in {"SMS_GATEWAY": "twilio", "TWILIO_ACCOUNT_SID": peer.account_sid,
                               "TWILIO_AUTH_TOKEN": peer.auth_token, "TWILIO_FROM": "+15005550006",
                               "TWILIO_API_BASE_URL": peer.base_url, "TWILIO_MAX_MPS": 50.0}.items():
            monkeypatch.setitem(app.config, setting, value)
        app.extensions.pop("sender", None)
        yield peer
        app.extensions.pop("sender", None)


def test_receipts_from_the_twilio_peer_settle_a_real_fan_out(app, twilio_peer, monkeypatch):
    result = app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", "60"])
    assert result.exit_code == 0, result.output
    people = db.session.scalars(select(Recipient).where(Recipient.county_code == "513301").order_by(Recipient.id)).all()
    assert len(people) >= 3, "the demo should give Kangding a few recipients"
    phones = [person.phone for person in people]  # jobs end the session: keep no ORM objects past work()
    failing, lost, bilingual = phones[:3]
    # Two texts, two SIDs (the first one's receipts count): with one segment allowed, the two
    # languages cannot share one message.
    people[2].languages = "bo,zh"
    db.session.commit()
    monkeypatch.setitem(app.config, "SMS_MAX_SEGMENTS", 1)
    twilio_peer.outcomes.update({failing: ("failed", "30003"), lost: ("undelivered", "30005")})

    alert = publish_now(new_alert(("513301",)))
    work(app)
    received = twilio_peer.received()
    assert sorted(r.address for r in received) == sorted(phones + [bilingual])
    # Sent, then the outcome, for each recipient's first text (the one whose SID counts); each answered once
    # the app had committed it. The bilingual recipient's second text asked for none.
    callbacks = twilio_peer.wait_for_callbacks(2 * len(phones))
    assert len(callbacks) == 2 * len(phones) and {c.answered for c in callbacks} == {200}
    [second] = [r for r in received if r.address == bilingual][1:]
    assert second.extra["status_callback"] is None
    assert second.extra["sid"] not in {c.params["MessageSid"] for c in callbacks}

    deliveries = {phone: delivery for delivery, phone in db.session.execute(
        select(Delivery, Recipient.phone).join(Recipient, Recipient.id == Delivery.target_id)
        .where(Delivery.alert_id == alert.id, Delivery.channel == "sms"))}
    assert (deliveries[failing].status, deliveries[failing].gateway_code) == (DeliveryStatus.FAILED, "30003")
    assert (deliveries[lost].status, deliveries[lost].gateway_code) == (DeliveryStatus.UNDELIVERED, "30005")
    others = [d for phone, d in deliveries.items() if phone not in (failing, lost)]
    assert {d.status for d in others} == {DeliveryStatus.DELIVERED} and all(d.delivered_at for d in others)
    first_sid = next(r.extra["sid"] for r in received if r.address == bilingual)
    assert deliveries[bilingual].gateway_id == first_sid
    for delivery in deliveries.values():
        attempts = db.session.scalars(select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == delivery.id)
                                      .order_by(DeliveryAttempt.id)).all()
        assert attempts == ["accepted", delivery.status.value]


def test_a_receipt_meeting_the_job_committing_right_after_its_look_is_applied(app, monkeypatch):
    """The receipt finds no delivery with its id; the sending job commits the row with that id just
    then, and looks for early receipts before the receipt is kept. The receipt's own look after keeping
    it must find the row and move it."""
    delivery_id = sent_delivery(None, status=DeliveryStatus.SENDING)  # the job has not recorded the SID yet
    real_look = receipts._move_and_look

    def look_while_the_job_commits(session, gateway_id, status, code, at):
        found = real_look(session, gateway_id, status, code, at)
        session.commit()
        with db.engine.begin() as job:
            job.execute(update(Delivery).where(Delivery.id == delivery_id)
                        .values(status=DeliveryStatus.SENT, gateway_id="SMrace"))
        assert apply_early_receipts(db.session, ["SMrace"]) == 0  # the job's look: nothing kept yet
        return found

    monkeypatch.setattr(receipts, "_move_and_look", look_while_the_job_commits)
    assert receipts.apply_receipt(db.session, "SMrace", DeliveryStatus.DELIVERED, None)
    delivery, _ = state(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED and db.session.get(EarlyReceipt, "SMrace") is None


@pytest.mark.backend("postgresql")  # SQLite lets one writer at a time: the first look holds it until its receipt is kept
def test_two_receipts_of_one_id_ahead_of_their_job_are_both_kept(app, monkeypatch):
    """Twilio posts a text's callbacks side by side: 'sent' and 'delivered' can both find no delivery yet and
    keep an early receipt at the same moment. Neither fails, and the most final one is kept."""
    real_look = receipts._move_and_look
    both_looked = threading.Barrier(2, timeout=10)

    def look_side_by_side(session, gateway_id, status, code, at):
        found = real_look(session, gateway_id, status, code, at)
        both_looked.wait()
        return found

    monkeypatch.setattr(receipts, "_move_and_look", look_side_by_side)
    failures: list[BaseException] = []
    engine = db.engine  # the threads have no app context

    def receive(status: DeliveryStatus) -> None:
        with Session(engine) as session:
            try:
                receipts.apply_receipt(session, OTHER_SID, status, None)
            except BaseException as exc:  # noqa: BLE001 - the test reports it
                failures.append(exc)

    threads = [threading.Thread(target=receive, args=(status,)) for status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    db.session.expire_all()
    assert db.session.get(EarlyReceipt, OTHER_SID).status == DeliveryStatus.DELIVERED


@pytest.mark.backend("sqlite")  # PostgreSQL does both in one statement, one snapshot: the test above
def test_a_receipt_meeting_the_job_committing_between_its_two_looks_is_applied(app, monkeypatch):
    """SQLite moves and looks in two statements: the receipt finds no row to move; before it checks whether
    the id is known, the sending job commits the row with that id. The receipt must then move it, not take
    it as already settled. (PostgreSQL does both in one statement, one snapshot: the test above.)"""
    delivery_id = sent_delivery(None, status=DeliveryStatus.SENDING)  # the job has not recorded the SID yet
    real_move = receipts._move
    calls: list[int] = []

    def move_while_the_job_commits(session, gateway_id, status, code, at):
        moved = real_move(session, gateway_id, status, code, at)
        if not calls:
            calls.append(1)
            session.commit()
            with db.engine.begin() as job:  # the job's own transaction
                job.execute(update(Delivery).where(Delivery.id == delivery_id)
                            .values(status=DeliveryStatus.SENT, gateway_id="SMrace"))
        return moved

    monkeypatch.setattr(receipts, "_move", move_while_the_job_commits)
    assert receipts.apply_receipt(db.session, "SMrace", DeliveryStatus.DELIVERED, None)
    delivery, _ = state(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED and db.session.get(EarlyReceipt, "SMrace") is None


def test_a_callback_is_one_statement_on_postgresql_and_sent_is_none(twilio_app, client):
    """Twilio calls back at the sending rate (two callbacks a text): 'sent' needs no statement, and an outcome
    is one on PostgreSQL, whether it moves the delivery (and writes its attempt row) or finds it there already."""
    delivery_id = sent_delivery(SID)
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        counts = []
        for status in ("sent", "delivered", "delivered"):
            statements.clear()
            assert post_receipt(client, receipt(SID, status)).status_code == 200
            counts.append(len(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert counts == ([0, 1, 1] if db.engine.dialect.name == "postgresql" else [0, 2, 3]), statements
    delivery, attempts = state(delivery_id)
    assert delivery.status == DeliveryStatus.DELIVERED and [a.outcome for a in attempts] == ["delivered"]
