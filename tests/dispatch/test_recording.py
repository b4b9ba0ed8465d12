"""What the engine's speed (issue 17, item 3) rests on, each held to the outcome it must keep: a batch's
results and their attempt rows written by one statement on PostgreSQL, their commit not waiting for the disk
(and a crash that loses it costing a second send, never a warning), and statistics that let the planner
walk the recipients in id order."""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.support.dispatch import new_alert, publish_now, statuses, work
from tests.support.gateways import sent_counts
from tests.support.sql import statements
from warning_service.channels import catalog
from warning_service.dispatch import send
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import Delivery, DeliveryAttempt, Recipient, utcnow


def attempts_by_delivery(alert_id: int) -> dict[int, list[tuple[int, str, str | None]]]:
    rows = db.session.execute(
        select(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt, DeliveryAttempt.outcome, DeliveryAttempt.gateway_id)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id).where(Delivery.alert_id == alert_id)
        .order_by(DeliveryAttempt.id))
    found: dict[int, list[tuple[int, str, str | None]]] = defaultdict(list)
    for delivery_id, attempt, outcome, gateway_id in rows:
        found[delivery_id].append((attempt, outcome, gateway_id))
    return found


@pytest.mark.parametrize("gateway", ["null", "counting"])  # results with nothing of their own, and with gateway ids
def test_each_settled_delivery_has_one_attempt_row_matching_it(app, demo_targets, counting, monkeypatch, gateway):
    for setting in ("SMS_GATEWAY", "BROADCAST_GATEWAY", "BEIDOU_GATEWAY", "CELL_BROADCAST_GATEWAY"):
        monkeypatch.setitem(app.config, setting, gateway)
    app.extensions.pop("sender", None)
    alert = publish_now(new_alert())
    work(app)
    deliveries = db.session.execute(select(Delivery.id, Delivery.attempts, Delivery.gateway_id)
                                    .where(Delivery.alert_id == alert.id)).all()
    assert statuses(alert.id) == {"sent": len(deliveries)} and deliveries
    assert attempts_by_delivery(alert.id) == {row.id: [(1, "accepted", row.gateway_id)] for row in deliveries}
    assert {row.gateway_id is None for row in deliveries} == {gateway == "null"}


@pytest.mark.backend("postgresql")
def test_a_batch_and_its_attempt_rows_are_recorded_by_one_statement(app, demo_targets, counting):
    alert = publish_now(new_alert())
    with statements() as sent:
        work(app)
    attempt_writes = [s for s in sent if "INSERT INTO delivery_attempts" in s]
    assert attempt_writes and all(s.startswith("WITH moved AS \n(UPDATE deliveries SET status") for s in attempt_writes)
    assert not [s for s in sent if s.startswith("UPDATE deliveries") and "sent_at" in s], "no second statement"
    assert statuses(alert.id) == {"sent": len(attempts_by_delivery(alert.id))}


@pytest.mark.backend("postgresql")
def test_only_a_batchs_results_commit_without_waiting_for_the_disk(app, demo_targets, counting, monkeypatch):
    monkeypatch.setitem(app.config, "FANOUT_BATCH_SIZE", 50)  # several batches on one worker's connection
    seen: dict[str, list[str]] = defaultdict(list)
    claim, record = send.claim, send._record

    def noting_claim(session, delivery_ids):
        rows = claim(session, delivery_ids)
        seen["claim"].append(session.scalar(text("SHOW synchronous_commit")))
        return rows

    def noting_record(session, *args, **kwargs):
        seen["results"].append(session.scalar(text("SHOW synchronous_commit")))
        return record(session, *args, **kwargs)

    monkeypatch.setattr(send, "claim", noting_claim)
    monkeypatch.setattr(send, "_record", noting_record)
    publish_now(new_alert())
    work(app)
    assert len(seen["claim"]) > 2, "several batches"
    # SET LOCAL: the claim of every later batch, on the same connection, waits for the disk again.
    assert set(seen["claim"]) == {"on"} and set(seen["results"]) == {"off"}


def test_results_lost_with_their_commit_are_sent_again_by_the_reconciler(app, demo_targets, counting, monkeypatch):
    """What a crash of PostgreSQL leaves when it loses results not yet flushed: the durable claim and nothing
    after it. The reconciler sends those rows again: a warning may go twice, never not at all."""
    settle = send.Sender._settle_despite_outage
    monkeypatch.setattr(send.Sender, "_settle_despite_outage", lambda self, session, *args: session.rollback())
    alert = publish_now(new_alert())
    work(app)
    total = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.alert_id == alert.id))
    assert statuses(alert.id) == {"sending": total}
    monkeypatch.setattr(send.Sender, "_settle_despite_outage", settle)
    later = utcnow() + timedelta(seconds=app.config["SENDING_TIMEOUT_SECONDS"] + 1)
    assert reconcile(db.session, redis_client(), app.config, now=later, stale_after=0).reclaimed == total
    work(app)
    assert statuses(alert.id) == {"sent": total}
    assert set(sent_counts(counting).values()) == {2}
    assert {tuple(outcome for _, outcome, _ in rows) for rows in attempts_by_delivery(alert.id).values()} == {
        ("requeued", "accepted")}


@pytest.mark.backend("postgresql")
def test_the_planner_knows_how_many_recipients_a_channel_selects(app, demo_targets):
    """Without statistics on channels::text, PostgreSQL takes `LIKE '%"sms"%'` for a handful of rows, and
    each plan chunk's boundary read and sorted every remaining recipient (migration 0012e)."""
    db.session.execute(text("ANALYZE recipients"))
    counties = list(db.session.scalars(select(Recipient.county_code).distinct()))
    targets = catalog.channel("sms").select_targets(db.session, None, counties, False)
    actual = db.session.scalar(select(func.count()).select_from(targets.subquery()))
    compiled = targets.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = db.session.scalar(text(f"EXPLAIN (FORMAT JSON) {compiled}"))
    estimated = (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]["Plan Rows"]
    assert actual > 500 and estimated >= actual / 2
