"""A paced channel (BeiDou: one send per card interval) keeps the card's pace during a large fan-out: a send
the card deferred is queued again at the front of its alert's queue once due, not behind the SMS batches queued
since (docs/BENCHMARKS.md, "Time to reach"); a rate-limited SMS waits its turn; priorities stay as they were."""
from __future__ import annotations

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select, update

from tests.support.dispatch import AlertRef, new_alert, publish_now, work
from tests.support.gateways import CountingAdapter, sent_counts
from warning_service.channels import catalog
from warning_service.channels.base import Capabilities
from warning_service.channels.gateways import ADAPTERS
from warning_service.dispatch.failover import fail_over
from warning_service.dispatch.queueing import queue_name
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import QUEUE_NAMES, db, redis_client
from warning_service.models import Alert, AlertState, CapStatus, Delivery, DeliveryStatus, Recipient, utcnow

CARD = "test-card"
BATCH = 10  # small batches: the alert's SMS make many jobs behind the card's


class PacedCard(CountingAdapter):
    """A terminal whose card allows one send an hour: after the first, every send is deferred until the
    test frees the card."""

    name = "paced-card"

    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch=100, rate_per_second=1 / 3600, rate_key=CARD, burst=1)


@pytest.fixture
def paced_card(app, demo_targets, counting, monkeypatch) -> Redis:
    monkeypatch.setitem(ADAPTERS, PacedCard.name, PacedCard)
    monkeypatch.setitem(app.config, "BEIDOU_GATEWAY", PacedCard.name)
    monkeypatch.setitem(app.config, "FANOUT_BATCH_SIZE", BATCH)
    return counting


def planned_with_the_card_busy(app, status: CapStatus) -> AlertRef:
    """Publish an alert and work job by job until its plan is done and the card has had each of its rows: it
    sent one message and deferred the rest, and the SMS batches wait on the queue."""
    alert = publish_now(new_alert(("513301", "513322"), status=status))
    for _ in range(100):
        if planned_and_the_card_tried(alert):
            break
        work(app, max_jobs=1)
    assert planned_and_the_card_tried(alert)
    return alert


def planned_and_the_card_tried(alert: AlertRef) -> bool:
    """Sent, or deferred (a deferral sets when it may go again): no row of the card is still on its first job."""
    untried = select(Delivery.id).where(Delivery.alert_id == alert.id, Delivery.channel == "beidou",
                                        Delivery.status != DeliveryStatus.SENT, Delivery.next_attempt_at.is_(None))
    done = (db.session.scalar(select(Alert.state).where(Alert.id == alert.id)) == AlertState.PUBLISHED
            and not db.session.scalar(select(untried.exists())))
    db.session.commit()
    return done


def channel_ids(alert: AlertRef, channel: str, status: DeliveryStatus | None = None) -> set[int]:
    query = select(Delivery.id).where(Delivery.alert_id == alert.id, Delivery.channel == channel)
    return set(db.session.scalars(query if status is None else query.where(Delivery.status == status)))


def free_the_card(connection: Redis) -> None:
    """The card's interval has passed: its bucket is full again and its deferred sends are due."""
    connection.delete(f"ews:rate:{CARD}")
    db.session.execute(update(Delivery).where(Delivery.channel == "beidou", Delivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=utcnow()))
    db.session.commit()


def queued_ids(name: str) -> list[list[int]]:
    """The delivery ids of each job on the queue, first to run first."""
    return [job.args[0] for job in Queue(name, connection=redis_client()).get_jobs()]


def test_a_deferred_card_send_goes_next_not_after_the_sms_batches(app, paced_card):
    alert = planned_with_the_card_busy(app, CapStatus.ACTUAL)
    beidou, sms = channel_ids(alert, "beidou"), channel_ids(alert, "sms")
    sent_before = sent_counts(paced_card)
    assert len(beidou & set(sent_before)) == 1, "the card sent its first message at once"
    deferred = channel_ids(alert, "beidou", DeliveryStatus.PENDING)
    assert len(deferred) >= 1
    name = queue_name(db.session.get(Alert, alert.id))
    waiting = queued_ids(name)
    assert len(waiting) >= 3 and all(set(job) <= sms for job in waiting), "SMS batches wait on the queue"

    free_the_card(paced_card)
    reconcile(db.session, redis_client(), app.config)
    assert set(queued_ids(name)[0]) == deferred, "the card's sends are the next job"

    work(app, max_jobs=1)
    sent = sent_counts(paced_card)
    assert len(beidou & set(sent)) == 2, "the card sent its next message as soon as it was free"
    assert sms & set(sent) == sms & set(sent_before), "no SMS batch went in between"
    assert all(times == 1 for times in sent.values()), "nothing was sent twice"


def test_a_rate_limited_sms_waits_its_turn_behind_the_batches_already_queued(app, paced_card):
    alert = planned_with_the_card_busy(app, CapStatus.ACTUAL)
    name = queue_name(db.session.get(Alert, alert.id))
    first_batch = queued_ids(name)[0]
    deferred_sms = first_batch[0]
    db.session.execute(update(Delivery).where(Delivery.id == deferred_sms)  # as its bucket deferred it
                       .values(enqueued_at=None, next_attempt_at=utcnow()))
    db.session.commit()

    reconcile(db.session, redis_client(), app.config)
    assert queued_ids(name)[0] == first_batch
    assert queued_ids(name)[-1] == [deferred_sms], "at the back: SMS deferrals never crowd out the queue"


def test_an_exercise_card_send_goes_first_on_the_low_queue_only(app, paced_card, monkeypatch):
    """Ahead of its own alert's batches, never ahead of a real warning's: exercises stay on low."""
    monkeypatch.setitem(app.config, "FANOUT_BATCH_SIZE", 1)  # a job each for the exercise's few SMS
    exercise = planned_with_the_card_busy(app, CapStatus.EXERCISE)
    deferred = channel_ids(exercise, "beidou", DeliveryStatus.PENDING)
    assert deferred and len(queued_ids("low")) >= 2

    free_the_card(paced_card)
    reconcile(db.session, redis_client(), app.config)

    assert set(queued_ids("low")[0]) == deferred
    assert all(not queued_ids(name) for name in QUEUE_NAMES if name != "low")


def test_a_failed_sms_goes_to_the_card_ahead_of_the_sms_batches(app, paced_card):
    """A failover onto the card (a recipient's household card) is the card's to pace, not the queue's."""
    alert = planned_with_the_card_busy(app, CapStatus.ACTUAL)
    name = queue_name(db.session.get(Alert, alert.id))
    queued_sms = [delivery_id for job in queued_ids(name) for delivery_id in job]
    with_a_card = db.session.scalar(
        select(Delivery.id).join(Recipient, Recipient.id == Delivery.target_id)
        .where(Delivery.id.in_(queued_sms), Recipient.beidou_terminal_id.is_not(None)).order_by(Delivery.id.desc()))
    assert with_a_card is not None, "the demo gives some recipients a card"

    fail_over(db.session, redis_client(), db.session.get(Alert, alert.id), catalog.channel("sms"), [with_a_card], BATCH)

    on_the_card = db.session.scalar(select(Delivery.id).where(Delivery.failover_of_id == with_a_card))
    assert queued_ids(name)[0] == [on_the_card]
    assert [delivery_id for job in queued_ids(name)[1:] for delivery_id in job] == queued_sms
