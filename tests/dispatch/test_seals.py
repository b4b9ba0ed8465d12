"""Delivery records in the ledger: a real fan-out is sealed, verified, and every later change to a
sealed row is caught and named, while sealing never holds up the fan-out."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from tests.support.dispatch import new_alert, publish_now, statuses, work
from warning_service.audit import seals
from warning_service.audit.ledger import verify
from warning_service.audit.seals import SEAL_ACTION, seal_settled
from warning_service.channels.receipts import apply_receipt
from warning_service.dispatch.reconcile import reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import AuditEvent, Delivery, DeliverySeal, DeliveryStatus, utcnow

LATER = timedelta(days=3)  # past SEAL_SMS_AFTER_SECONDS: every sent SMS counts as settled


@pytest.fixture
def small_seals(app, monkeypatch):
    monkeypatch.setitem(app.config, "DELIVERY_SEAL_CHUNK", 40)


def seal_all(app, now=None):
    return seal_settled(db.session, app.config, now or utcnow() + LATER)


def ids_of(alert_id: int, channel: str | None = None) -> list[int]:
    query = select(Delivery.id).where(Delivery.alert_id == alert_id).order_by(Delivery.id)
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    return list(db.session.scalars(query))


def cli_verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_a_settled_fanout_is_sealed_and_verifies(app, demo_targets, counting, small_seals):
    alert = publish_now(new_alert())
    work(app)
    total = len(ids_of(alert.id))
    report = seal_all(app)
    assert report.rows == total and report.seals >= 3  # chunks of 40, per channel
    assert db.session.scalar(select(func.sum(DeliverySeal.count))) == total
    entries = db.session.scalars(select(AuditEvent).where(AuditEvent.action == SEAL_ACTION)).all()
    assert len(entries) == report.seals and {entry.subject_id for entry in entries} == {alert.id}
    assert seal_all(app).rows == 0  # nothing is sealed twice
    checked, finding = verify(db.session)
    assert finding is None
    code, output = cli_verify(app)
    assert code == 0 and f"intact: {checked} entries" in output


def test_only_settled_rows_are_sealed(app, demo_targets, counting, monkeypatch):
    """A sent SMS may still get its delivery receipt, a sent cell broadcast its CBC's callbacks: they wait;
    broadcast and BeiDou rows do not."""
    monkeypatch.setitem(app.config, "SEAL_MIN_AGE_SECONDS", 0)
    alert = publish_now(new_alert())
    work(app)
    seal_all(app, now=utcnow() + timedelta(seconds=1))
    sealed_channels = set(db.session.scalars(select(DeliverySeal.channel)))
    assert sealed_channels == {"broadcast", "beidou"}
    waiting = len(ids_of(alert.id, "sms")) + len(ids_of(alert.id, "cell_broadcast"))
    assert len(ids_of(alert.id, "cell_broadcast")) == 3 and seal_all(app).rows == waiting


def test_rows_written_just_now_wait(app, demo_targets, counting):
    publish_now(new_alert())
    work(app)
    assert seal_settled(db.session, app.config).rows == 0  # SEAL_MIN_AGE_SECONDS has not passed


def test_a_changed_delivery_is_named(app, demo_targets, counting, small_seals):
    alert = publish_now(new_alert())
    work(app)
    seal_all(app)
    victim = ids_of(alert.id, "sms")[7]
    db.session.execute(text("UPDATE deliveries SET status = 'delivered' WHERE id = :id"), {"id": victim})
    db.session.commit()
    checked, finding = verify(db.session)
    assert finding is not None and f"delivery {victim} was changed" in finding.problem
    code, output = cli_verify(app)
    assert code == 1 and f"delivery {victim} was changed" in output


def test_a_deleted_delivery_is_named(app, demo_targets, counting, small_seals):
    alert = publish_now(new_alert())
    work(app)
    seal_all(app)
    victim = ids_of(alert.id, "broadcast")[1]
    db.session.execute(text("DELETE FROM delivery_attempts WHERE delivery_id = :id"), {"id": victim})
    db.session.execute(text("DELETE FROM deliveries WHERE id = :id"), {"id": victim})
    db.session.commit()
    finding = verify(db.session)[1]
    assert finding is not None and f"delivery {victim} was deleted" in finding.problem


def test_an_inserted_delivery_is_named(app, demo_targets, counting, small_seals):
    """A row forged into a sealed run, with an id that was free when the run was sealed."""
    alert = publish_now(new_alert())
    work(app)
    sms = ids_of(alert.id, "sms")
    gap = sms[5]
    row = db.session.execute(text("SELECT * FROM deliveries WHERE id = :id"), {"id": gap}).mappings().one()
    db.session.execute(text("DELETE FROM delivery_attempts WHERE delivery_id = :id"), {"id": gap})
    db.session.execute(text("DELETE FROM deliveries WHERE id = :id"), {"id": gap})
    db.session.commit()  # an id left unused, as a rolled-back insert leaves one
    seal_all(app)
    assert verify(db.session)[1] is None
    columns = ", ".join(row.keys())
    db.session.execute(text(f"INSERT INTO deliveries ({columns}) VALUES ({', '.join(':' + key for key in row.keys())})"),
                       dict(row))
    db.session.commit()
    finding = verify(db.session)[1]
    assert finding is not None and f"delivery {gap} was inserted" in finding.problem


def test_altering_the_seals_own_leaves_does_not_hide_a_change(app, demo_targets, counting, small_seals):
    alert = publish_now(new_alert())
    work(app)
    seal_all(app)
    victim = ids_of(alert.id, "sms")[0]
    db.session.execute(text("UPDATE deliveries SET gateway_code = 'forged' WHERE id = :id"), {"id": victim})
    db.session.execute(text("UPDATE delivery_seals SET leaves = :blank"), {"blank": b"\0" * 32})
    db.session.commit()
    finding = verify(db.session)[1]
    assert finding is not None and "no longer match" in finding.problem and "altered too" in finding.problem


def test_a_late_receipt_leaves_a_sealed_delivery_alone(app, demo_targets, counting):
    alert = publish_now(new_alert())
    work(app)
    seal_all(app)
    sms = db.session.get(Delivery, ids_of(alert.id, "sms")[0])
    assert sms.status == DeliveryStatus.SENT and sms.gateway_id
    assert apply_receipt(db.session, sms.gateway_id, DeliveryStatus.DELIVERED, None) is False
    db.session.expire_all()
    assert db.session.get(Delivery, sms.id).status == DeliveryStatus.SENT
    assert verify(db.session)[1] is None


def test_sealing_does_not_hold_up_settling(app, demo_targets, counting, monkeypatch):
    """While the sealer is in the middle of hashing one alert's rows, another alert's fan-out
    claims, sends and settles all of its deliveries."""
    first = publish_now(new_alert())
    work(app)
    second = publish_now(new_alert(counties=("513221",)))
    hashing, release = threading.Event(), threading.Event()
    real_root = seals.merkle_root

    def slow_root(leaves):
        if threading.current_thread().name == "sealer":
            hashing.set()
            assert release.wait(60), "the test never released the sealer"
        return real_root(leaves)

    monkeypatch.setattr(seals, "merkle_root", slow_root)
    outcome: dict[str, object] = {}

    def run_sealer() -> None:
        with app.app_context():
            try:
                outcome["report"] = seal_settled(db.session, app.config, utcnow() + LATER)
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                outcome["error"] = error
            finally:
                db.session.remove()

    sealer = threading.Thread(target=run_sealer, name="sealer")
    sealer.start()
    try:
        assert hashing.wait(30)
        work(app)  # the whole second fan-out, while the sealer holds its first run
        assert set(statuses(second.id)) == {"sent"}
    finally:
        release.set()
        sealer.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].rows >= len(ids_of(first.id))
    db.session.expire_all()
    assert verify(db.session)[1] is None


def test_the_reconciler_seals_only_while_no_batch_waits(app, demo_targets, counting):
    """Sealing reads, hashes and writes: it yields to a fan-out in progress and catches up after."""
    publish_now(new_alert())
    work(app)
    publish_now(new_alert(counties=("513322",)))  # its plan waits on a queue
    later = utcnow() + LATER
    assert reconcile(db.session, redis_client(), app.config, now=later).sealed == 0
    work(app)
    assert reconcile(db.session, redis_client(), app.config, now=later).sealed > 0
