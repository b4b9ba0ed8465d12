"""Cell broadcast through the fan-out: published alerts reach each operator's CBC peer once, through RQ and the
real adapter; Updates and Cancels name what each operator got; failover; exercises to exercise CBCs only;
status callbacks back through the webhook into progress. On SQLite and PostgreSQL."""
from __future__ import annotations

import time

import pytest
from rq import Queue
from sqlalchemy import event, select

from peers.cbc_peer import CbcPeer
from tests.support.cbc import SECRET, TOKEN, register_cbc
from tests.support.console import make_user
from tests.support.dispatch import AlertRef, new_alert, publish_now, statuses, work
from warning_service.audit.report import operator_progress
from warning_service.channels.catalog import plan_order
from warning_service.channels.cell_broadcast.cap import CbcAdapter
from warning_service.dispatch import jobs
from warning_service.dispatch.plan import PlanCursor, plan_step
from warning_service.dispatch.publish import publish
from warning_service.dispatch.queueing import enqueue_plan, queue_name
from warning_service.dispatch.reconcile import reconcile
from warning_service.dispatch.review import cancel
from warning_service.extensions import db, redis_client
from warning_service.models import (
    Alert,
    CapStatus,
    CbcOperator,
    CbcState,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Level,
    MsgType,
    Role,
)


def cbc_deliveries(alert_id: int) -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).where(Delivery.alert_id == alert_id,
                                                          Delivery.channel == "cell_broadcast")))


def settled_callbacks(alert_id: int, count: int, state: CbcState = CbcState.COMPLETED, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        progress = operator_progress(db.session, alert_id)
        if sum(row.state == state for row in progress) >= count:
            return progress
        time.sleep(0.05)
    pytest.fail(f"no {count} {state.value} callbacks for alert {alert_id}: {operator_progress(db.session, alert_id)}")


def test_a_published_alert_reaches_every_operator_once_and_its_cells_come_back(app, cbcs):
    alert = publish_now(new_alert(level=Level.RED))
    work(app)
    rows = cbc_deliveries(alert.id)
    assert len(rows) == 3 and {row.status for row in rows} <= {DeliveryStatus.SENT, DeliveryStatus.DELIVERED}
    for code, peer in cbcs.items():
        [received] = peer.received()
        assert received.extra["identifier"] == f"EWS-{alert.id}-{code}" and received.extra["msg_type"] == "Alert"
        assert received.extra["message_identifiers"] == {"zh-CN": 4370, "bo-CN": 4383}
        assert sum(map(len, received.extra["polygons"])) <= 60
    assert {row.gateway_id for row in rows} == {peer.received()[0].extra["cbc_message_id"] for peer in cbcs.values()}
    progress = settled_callbacks(alert.id, 3)
    assert [(row.code, row.cells, row.failed_cells) for row in progress] == [(code, 80, 0) for code in sorted(cbcs)]
    assert all(row.accepted_at is not None for row in progress)
    assert {row.status for row in cbc_deliveries(alert.id)} == {DeliveryStatus.DELIVERED}
    assert statuses(alert.id)["delivered"] == 3


def test_an_update_and_a_cancel_name_what_each_operator_got(app, cbcs):
    original = publish_now(new_alert())
    work(app)
    late = CbcPeer("ctcc2", TOKEN, SECRET)  # registered after the original went out
    with late:
        register_cbc("ctcc2", late)
        update = publish_now(new_alert(msg_type=MsgType.UPDATE, references=(original.cap_reference,)))
        work(app)
        for code, peer in cbcs.items():
            assert peer.received()[1].extra["msg_type"] == "Update"
            assert peer.received()[1].extra["references"] == [("console@ews.garze-ngawa.example",
                                                               f"EWS-{original.id}-{code}")]
        [fresh] = late.received()
        assert (fresh.extra["msg_type"], fresh.extra["references"]) == ("Alert", [])
        officer = make_user("officer-c", Role.DUTY_OFFICER)
        cancellation = cancel(db.session, db.session.get(Alert, update.id), officer, app.config, confirmed=True)
        db.session.commit()
        enqueue_plan(redis_client(), cancellation)
        work(app)
        for code, peer in cbcs.items():
            cancel_message = peer.received()[2].extra
            assert cancel_message["msg_type"] == "Cancel"
            assert [identifier for _, identifier in cancel_message["references"]] == [
                f"EWS-{original.id}-{code}", f"EWS-{update.id}-{code}"]
        assert [message.extra["msg_type"] for message in late.received()] == ["Alert", "Cancel"]
        assert late.received()[1].extra["references"] == [("console@ews.garze-ngawa.example", f"EWS-{update.id}-ctcc2")]
        assert all(not peer.refusals() for peer in (*cbcs.values(), late))
    settled_callbacks(update.id, 3, CbcState.CANCELLED)  # ctcc2 makes no callbacks


def test_a_failing_primary_goes_to_the_failover_at_once(app, cbcs):
    cbcs["cmcc"].fail("5xx", "primary")
    cbcs["cucc"].fail("timeout", "primary")
    alert = publish_now(new_alert())
    started = time.monotonic()
    work(app)
    assert time.monotonic() - started < 8  # a timeout, then the failover: no back-off in between
    fronts = {code: [message.extra["front"] for message in peer.received()] for code, peer in cbcs.items()}
    assert fronts == {"cmcc": ["failover"], "cucc": ["failover"], "ctcc": ["primary"]}
    assert {row.status for row in cbc_deliveries(alert.id)} <= {DeliveryStatus.SENT, DeliveryStatus.DELIVERED}


def test_both_urls_down_is_retried_then_refusals_are_final(app, cbcs):
    cbcs["cmcc"].fail("refuse")
    alert = publish_now(new_alert())
    work(app)
    by_operator = {db.session.get(CbcOperator, row.target_id).code: row for row in cbc_deliveries(alert.id)}
    assert by_operator["cmcc"].status == DeliveryStatus.PENDING and by_operator["cmcc"].next_attempt_at is not None
    assert "primary: connection" in by_operator["cmcc"].gateway_text


def test_exercises_go_to_exercise_cbcs_only(app, cbcs):
    with CbcPeer("drill", TOKEN, SECRET, exercise=True) as drill:
        register_cbc("drill", drill, exercise=True)
        alert = publish_now(new_alert(status=CapStatus.EXERCISE))
        work(app)
        [received] = drill.received()
        assert received.extra["status"] == "Exercise" and received.extra["message_identifiers"]["zh-CN"] == 4381
    assert all(peer.received() == [] for peer in cbcs.values())
    assert len(cbc_deliveries(alert.id)) == 1


def test_earthquake_early_warning_goes_first_on_the_critical_queue(app, cbcs):
    alert = new_alert(hazard="earthquake_early_warning", level=None)
    assert queue_name(db.session.get(Alert, alert.id)) == "critical"
    assert plan_order()[0].name == "cell_broadcast"
    publish_now(alert)
    work(app)
    assert all(peer.received()[0].extra["message_identifiers"] == {"zh-CN": 4352, "bo-CN": 4352}
               for peer in cbcs.values())


def test_nothing_is_read_back_between_the_last_commit_and_the_posts_to_the_cbcs(app, cbcs, monkeypatch):
    """Seconds matter on the earthquake path: the alert committed before sending is not loaded again
    before the CBCs are posted to (docs/BENCHMARKS.md, issue 16)."""
    seen: list[str] = []
    send_batch = CbcAdapter.send_batch

    def sending(self, messages):
        seen.append("SEND")
        return send_batch(self, messages)

    def statement(connection, cursor, text, *args) -> None:
        seen.append(text.split()[0].upper())

    def committed(connection) -> None:
        seen.append("COMMIT")

    monkeypatch.setattr(CbcAdapter, "send_batch", sending)
    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", committed)
    try:
        publish_now(new_alert(hazard="earthquake_early_warning", level=None))
        work(app)
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", committed)
    assert seen.count("SEND") == 1 and seen[seen.index("SEND") - 1] == "COMMIT", seen
    assert all(len(peer.received()) == 1 for peer in cbcs.values())


def earthquake_published() -> AlertRef:
    """An earthquake early warning published, its plan on the critical queue."""
    return publish_now(new_alert(hazard="earthquake_early_warning", level=None))


def by_operator(alert_id: int) -> dict[str, Delivery]:
    return {db.session.get(CbcOperator, row.target_id).code: row for row in cbc_deliveries(alert_id)}


def accepted_attempts(alert_id: int) -> list[int]:
    """The delivery id of each accepted attempt of the alert's cell broadcasts: one each when none went twice."""
    return sorted(db.session.scalars(
        select(DeliveryAttempt.delivery_id).join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.alert_id == alert_id, Delivery.channel == "cell_broadcast", DeliveryAttempt.outcome == "accepted")))


def test_the_plan_job_sends_the_cbc_chunk_it_wrote_without_queueing_a_batch(app, cbcs):
    """The hop through the queue, planned -> batch started, was the earthquake path's largest wait under a
    fan-out (docs/BENCHMARKS.md, issue 16): the first plan job claims and sends the CBCs' deliveries itself."""
    alert = earthquake_published()
    work(app, max_jobs=1)  # the first plan step, and nothing else
    assert {row.status for row in cbc_deliveries(alert.id)} <= {DeliveryStatus.SENT, DeliveryStatus.DELIVERED}
    assert all(len(peer.received()) == 1 for peer in cbcs.values())
    waiting = Queue("critical", connection=redis_client()).jobs
    assert waiting and all(not job.func_name.endswith("send_batch") or
                           not {row.id for row in cbc_deliveries(alert.id)} & set(job.args[0]) for job in waiting)
    assert any(job.func_name.endswith("plan_alert") for job in waiting), "the other channels are planned as before"
    work(app)
    assert all(len(peer.received()) == 1 for peer in cbcs.values())
    assert statuses(alert.id).get("pending", 0) == 0
    assert len(accepted_attempts(alert.id)) == 3 == len(set(accepted_attempts(alert.id)))


def test_a_cbc_failing_the_plan_jobs_send_is_recorded_and_retried(app, cbcs, monkeypatch):
    monkeypatch.setitem(app.config, "RETRY_BASE_SECONDS", 0.0)
    cbcs["cmcc"].fail("refuse")  # both of its URLs
    alert = earthquake_published()
    work(app, max_jobs=1)
    rows = by_operator(alert.id)
    assert rows["cmcc"].status == DeliveryStatus.PENDING
    assert {rows["cucc"].status, rows["ctcc"].status} <= {DeliveryStatus.SENT, DeliveryStatus.DELIVERED}
    assert rows["cmcc"].next_attempt_at is not None and "primary: connection" in rows["cmcc"].gateway_text
    outcomes = db.session.scalars(select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == rows["cmcc"].id))
    assert list(outcomes) == ["transient"]
    cbcs["cmcc"].fail("none")
    monkeypatch.setitem(app.config, "CELL_BROADCAST_LINK_CHECK_SECONDS", 0)
    report = reconcile(db.session, redis_client(), app.config, stale_after=0)
    assert report.requeued == 1
    work(app)
    assert by_operator(alert.id)["cmcc"].status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    assert [len(peer.received()) for peer in cbcs.values()] == [1, 1, 1]
    assert len(accepted_attempts(alert.id)) == 3 == len(set(accepted_attempts(alert.id)))


def test_the_cbc_chunk_of_a_plan_job_that_died_after_planning_goes_once_by_the_reconciler(app, cbcs, monkeypatch):
    monkeypatch.setitem(app.config, "CELL_BROADCAST_LINK_CHECK_SECONDS", 0)
    alert = db.session.get(Alert, new_alert(hazard="earthquake_early_warning", level=None).id)
    publish(db.session, alert, actor=None)
    db.session.commit()
    step = plan_step(db.session, alert, PlanCursor(), 20_000)  # committed by a job that died before sending
    assert step.channel.name == "cell_broadcast" and len(step.new_ids) == 3
    busy = float(app.config["PENDING_TIMEOUT_SECONDS"])  # as while other jobs run: queued rows are not stale yet
    assert reconcile(db.session, redis_client(), app.config, stale_after=busy).requeued == 3
    assert reconcile(db.session, redis_client(), app.config, stale_after=busy).requeued == 0
    work(app)
    enqueue_plan(redis_client(), db.session.get(Alert, alert.id))  # the plan restarted: nothing new to send
    work(app)
    assert [len(peer.received()) for peer in cbcs.values()] == [1, 1, 1]
    assert sorted(accepted_attempts(alert.id)) == sorted(step.new_ids)


def test_a_reconciler_pass_between_planning_and_sending_sends_nothing_twice(app, cbcs, monkeypatch):
    """Rows the plan job is about to send are not on a queue, so a reconciler pass in that moment queues
    a batch of them too: the claim lets one of the two send each row."""
    monkeypatch.setitem(app.config, "CELL_BROADCAST_LINK_CHECK_SECONDS", 0)
    requeued: list[int] = []
    enqueue_step = jobs.enqueue_step

    def then_a_reconciler_pass(*args, **kwargs):
        queued = enqueue_step(*args, **kwargs)
        requeued.append(reconcile(db.session, redis_client(), app.config).requeued)
        return queued

    monkeypatch.setattr(jobs, "enqueue_step", then_a_reconciler_pass)
    alert = earthquake_published()
    work(app)
    assert requeued[0] == 3
    assert [len(peer.received()) for peer in cbcs.values()] == [1, 1, 1]
    assert len(accepted_attempts(alert.id)) == 3 == len(set(accepted_attempts(alert.id)))
