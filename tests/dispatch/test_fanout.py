"""The fan-out against the real Redis and database: every target once, in priority order, nothing lost."""
from __future__ import annotations

from sqlalchemy import Text, cast, exists, func, select

from tests.support.dispatch import new_alert, publish_now, statuses, work
from tests.support.gateways import ORDER_KEY, CountingAdapter, sent_counts
from warning_service.channels.base import Outcome, SendResult
from warning_service.channels.catalog import names
from warning_service.channels.gateways import ADAPTERS
from warning_service.dispatch.jobs import send_batch
from warning_service.dispatch.plan import PlanCursor, plan_step
from warning_service.dispatch.queueing import enqueue_plan
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import (
    Alert,
    AlertState,
    BeidouTerminal,
    BroadcastEndpoint,
    CapStatus,
    CbcOperator,
    County,
    Delivery,
    DeliveryAttempt,
    Level,
    MsgType,
    Recipient,
)

ALL_COUNTIES = None  # all 31


def counties(codes=ALL_COUNTIES) -> tuple[str, ...]:
    return tuple(codes or db.session.scalars(select(County.code)).all())


def expected_targets(codes, exercise: bool) -> dict[str, set[int]]:
    """Who should be reached, computed straight from the tables, independently of dispatch/targets.py."""
    people = select(Recipient.id).where(Recipient.county_code.in_(codes), Recipient.active.is_(True),
                                        cast(Recipient.channels, Text).like('%"sms"%'))
    if exercise:
        people = people.where(Recipient.exercise.is_(True))
    owned = exists().where(Recipient.beidou_terminal_id == BeidouTerminal.id)
    return {
        "sms": set(db.session.scalars(people)),
        "broadcast": set(db.session.scalars(select(BroadcastEndpoint.id).where(
            BroadcastEndpoint.county_code.in_(codes), BroadcastEndpoint.exercise.is_(exercise)))),
        "beidou": set(db.session.scalars(select(BeidouTerminal.id).where(
            BeidouTerminal.county_code.in_(codes), BeidouTerminal.exercise.is_(exercise),
            BeidouTerminal.is_group.is_(True) | ~owned))),
        "cell_broadcast": set(db.session.scalars(select(CbcOperator.id).where(
            CbcOperator.active.is_(True), CbcOperator.exercise.is_(exercise)))),
    }


def planned_targets(alert_id: int) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {channel: set() for channel in names()}
    for channel, target in db.session.execute(select(Delivery.channel, Delivery.target_id).where(Delivery.alert_id == alert_id)):
        found[channel].add(target)
    return found


def delivery_ids(alert_id: int) -> set[int]:
    return set(db.session.scalars(select(Delivery.id).where(Delivery.alert_id == alert_id)))


def test_one_click_reaches_every_target_exactly_once(app, demo_targets, counting):
    codes = ("513301", "513322", "513221")
    alert = publish_now(new_alert(codes))
    work(app)
    expected = expected_targets(codes, exercise=False)
    assert all(expected.values()), "the demo data should give every channel targets here"
    assert planned_targets(alert.id) == expected
    total = sum(len(ids) for ids in expected.values())
    assert statuses(alert.id) == {"sent": total}
    sent = sent_counts(counting)
    assert set(sent) == delivery_ids(alert.id) and set(sent.values()) == {1}
    db.session.expire_all()
    stored = db.session.get(Alert, alert.id)
    assert stored.state == AlertState.PUBLISHED and stored.published_at is not None


def test_publishing_again_writes_and_sends_nothing_new(app, demo_targets, counting):
    alert = publish_now(new_alert())
    work(app)
    before = (delivery_ids(alert.id), sent_counts(counting))
    enqueue_plan(redis_client(), db.session.get(Alert, alert.id))
    work(app)
    assert (delivery_ids(alert.id), sent_counts(counting)) == before


def test_a_job_run_twice_sends_nothing_twice(app, demo_targets, counting):
    alert = db.session.get(Alert, new_alert(counties()).id)
    alert.move_to(AlertState.PUBLISHING)
    db.session.commit()
    ids: list[int] = []
    cursor: PlanCursor | None = PlanCursor()
    while cursor is not None:
        step = plan_step(db.session, alert, cursor, 20_000)
        ids += step.new_ids
        cursor = step.next
    first, second = send_batch(ids), send_batch(ids)
    assert first["claimed"] == len(ids) > 0 and second["claimed"] == 0
    assert set(sent_counts(counting).values()) == {1}
    attempts = db.session.scalar(select(func.count()).select_from(DeliveryAttempt))
    assert attempts == len(ids)


def test_cancel_stops_the_rest_and_notifies_only_those_reached(app, demo_targets, counting, monkeypatch):
    monkeypatch.setitem(app.config, "FANOUT_BATCH_SIZE", 25)
    alert = publish_now(new_alert(counties()))
    work(app, max_jobs=4)  # the plan and three batches
    reached = {row for row in db.session.execute(
        select(Delivery.channel, Delivery.target_id).where(Delivery.alert_id == alert.id, Delivery.status == "sent"))}
    assert 0 < len(reached) < len(delivery_ids(alert.id))

    cancel = new_alert(counties(), msg_type=MsgType.CANCEL, references=[alert.cap_reference])
    publish_now(cancel)
    db.session.expire_all()
    assert db.session.get(Alert, alert.id).state == AlertState.CANCELLED
    sent_before = sum(sent_counts(counting).values())
    work(app)

    after = statuses(alert.id)
    assert after["sent"] == len(reached)
    assert after["cancelled"] == len(delivery_ids(alert.id)) - len(reached)
    notice = {row for row in db.session.execute(
        select(Delivery.channel, Delivery.target_id).where(Delivery.alert_id == cancel.id))}
    assert notice == reached
    assert sum(sent_counts(counting).values()) == sent_before + len(reached)  # only the notices went out


def test_an_exercise_reaches_only_exercise_targets(app, demo_targets, counting):
    codes = counties()
    alert = publish_now(new_alert(codes, status=CapStatus.EXERCISE))
    work(app)
    expected = expected_targets(codes, exercise=True)
    assert expected["sms"] and expected["broadcast"]
    assert planned_targets(alert.id) == expected
    public = db.session.scalar(select(func.count()).select_from(Recipient).where(Recipient.exercise.is_(False)))
    assert public > 0  # there were members of the public, and none was reached


def test_a_critical_alert_overtakes_a_running_low_one(app, demo_targets, counting, monkeypatch):
    monkeypatch.setitem(app.config, "FANOUT_BATCH_SIZE", 20)
    low = publish_now(new_alert(counties(), hazard="gale", level=Level.BLUE))
    work(app, max_jobs=3)  # the low fan-out is under way
    critical = publish_now(new_alert(("513322", "513301"), hazard="earthquake_early_warning", level=None))
    work(app)

    order = [int(alert_id) for alert_id in counting.lrange(ORDER_KEY, 0, -1)]
    critical_positions = [i for i, alert_id in enumerate(order) if alert_id == critical.id]
    low_positions = [i for i, alert_id in enumerate(order) if alert_id == low.id]
    assert critical_positions and low_positions
    assert critical_positions == list(range(critical_positions[0], critical_positions[-1] + 1)), \
        "once started, the critical alert is sent before any further low-priority message"
    assert critical_positions[0] < low_positions[-1] and low_positions[0] < critical_positions[0]
    assert statuses(low.id) == {"sent": len(delivery_ids(low.id))}


def test_transient_failures_retry_and_invalid_numbers_fail_over_to_beidou(app, demo_targets, counting, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "flaky")
    monkeypatch.setitem(app.config, "RETRY_BASE_SECONDS", 0.0)
    alert = publish_now(new_alert(counties()))
    work(app)
    assert statuses(alert.id).get("pending"), "first attempts failed transiently and wait for their retry"
    reconcile(db.session, redis_client(), app.config, stale_after=0)
    work(app)

    sms = db.session.execute(
        select(Delivery, Recipient).join(Recipient, Recipient.id == Delivery.target_id)
        .where(Delivery.alert_id == alert.id, Delivery.channel == "sms")
    ).all()
    invalid = [(d, r) for d, r in sms if r.phone.endswith("0")]
    assert invalid and len(invalid) < len(sms)
    for delivery, recipient in sms:
        if recipient.phone.endswith("0"):
            assert (delivery.status.value, delivery.gateway_code) == ("failed", "21211")
        else:
            assert delivery.status.value == "sent" and delivery.attempts == 2
    with_card = [(d, r) for d, r in invalid if r.beidou_terminal_id]
    assert with_card, "the demo data gives some recipients a BeiDou card"
    failovers = {d.failover_of_id: d for d in db.session.scalars(
        select(Delivery).where(Delivery.alert_id == alert.id, Delivery.failover_of_id.is_not(None)))}
    assert set(failovers) == {d.id for d, _ in with_card}
    for delivery, recipient in with_card:
        replacement = failovers[delivery.id]
        assert (replacement.channel, replacement.target_id, replacement.status.value) == (
            "beidou", recipient.beidou_terminal_id, "sent")
    outcomes = [row for row in db.session.scalars(
        select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == sms[0][0].id).order_by(DeliveryAttempt.id))]
    assert outcomes[0] in ("transient", "permanent")


def test_redis_emptied_mid_fanout_loses_nothing(app, demo_targets, counting, monkeypatch):
    monkeypatch.setitem(app.config, "FANOUT_BATCH_SIZE", 25)
    alert = publish_now(new_alert(counties()))
    work(app, max_jobs=3)  # part planned, part sent
    lost_plan = publish_now(new_alert(("513201",), hazard="snowstorm"))  # its whole plan is lost too
    _empty_queues(counting)

    report = reconcile(db.session, redis_client(), app.config)  # queues empty: nothing pending can be queued
    assert report.requeued > 0 and report.plans == 2
    work(app)
    for alert_id in (alert.id, lost_plan.id):
        assert statuses(alert_id) == {"sent": len(delivery_ids(alert_id))}
    assert set(sent_counts(counting).values()) == {1}


def _empty_queues(connection) -> None:
    """What a Redis restart without persistence does to RQ, keeping the counting gateway's records."""
    for key in connection.scan_iter("rq:*"):
        connection.delete(key)


class RaisingAdapter(CountingAdapter):
    name = "raising"

    def send_batch(self, messages):
        raise ConnectionError("gateway library blew up")


class SloppyAdapter(CountingAdapter):
    """Answers for ids it was not given, twice for some, and not at all for others."""

    name = "sloppy"

    def send_batch(self, messages):
        results = super().send_batch(messages)
        return [results[0], results[0]] + results[2:] + [SendResult(999_999, Outcome.ACCEPTED)]


def test_a_misbehaving_adapter_loses_nothing(app, demo_targets, counting, monkeypatch):
    ADAPTERS.update({RaisingAdapter.name: RaisingAdapter, SloppyAdapter.name: SloppyAdapter})
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "raising")
    monkeypatch.setitem(app.config, "BROADCAST_GATEWAY", "sloppy")
    alert = publish_now(new_alert(("513301", "513322")))
    work(app)
    sms = db.session.scalars(select(Delivery).where(Delivery.alert_id == alert.id, Delivery.channel == "sms")).all()
    assert sms and all(d.status.value == "pending" and d.gateway_code == "adapter-error" for d in sms)
    broadcast = db.session.scalars(
        select(Delivery).where(Delivery.alert_id == alert.id, Delivery.channel == "broadcast")).all()
    assert len(broadcast) >= 2
    assert sorted(d.status.value for d in broadcast) == ["pending"] + ["sent"] * (len(broadcast) - 1)
    assert {d.gateway_code for d in broadcast if d.status.value == "pending"} == {"no-result"}
