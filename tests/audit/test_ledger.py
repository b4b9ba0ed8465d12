"""The tamper-evident ledger: intact after ordinary work, and each kind of tampering caught."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text

from warning_service.audit.events import record
from warning_service.audit.ledger import GENESIS, entry_hash, verify
from warning_service.extensions import db
from warning_service.models import AuditEvent


@pytest.fixture
def ledger(app):
    """Five entries, committed in three transactions as the service writes them."""
    record(db.session, None, "test.one", n=1)
    db.session.commit()
    record(db.session, None, "test.two", n=2)
    record(db.session, None, "test.three", n=3, note="二 · གཉིས")
    db.session.commit()
    record(db.session, None, "test.four", n=4)
    record(db.session, None, "test.five", n=5)
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def run_verify(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def test_an_untouched_ledger_verifies(app, ledger):
    assert verify(db.session) == (5, None)
    code, output = run_verify(app)
    assert code == 0 and "intact: 5 entries" in output
    first = db.session.get(AuditEvent, ledger[0])
    assert first.prev_hash == GENESIS and first.hash == entry_hash(GENESIS, first)
    head = app.test_cli_runner().invoke(args=["audit", "head"]).output.split()
    assert head == [str(ledger[-1]), db.session.get(AuditEvent, ledger[-1]).hash]


def test_a_rolled_back_entry_leaves_no_gap_in_the_chain(app, ledger):
    record(db.session, None, "test.abandoned")
    db.session.rollback()
    record(db.session, None, "test.six")
    db.session.commit()
    assert verify(db.session) == (6, None)


def test_a_changed_entry_is_named(app, ledger):
    db.session.execute(text("UPDATE audit_events SET action = 'test.harmless' WHERE id = :id"), {"id": ledger[2]})
    db.session.commit()
    assert verify(db.session)[1].entry_id == ledger[2]
    code, output = run_verify(app)
    assert code == 1 and f"entry {ledger[2]}: was changed" in output


def test_a_changed_detail_is_caught_too(app, ledger):
    entry = db.session.get(AuditEvent, ledger[1])
    entry.detail = {"n": 20}
    db.session.commit()
    assert "was changed" in str(verify(db.session)[1])


def test_a_deleted_entry_is_caught(app, ledger):
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ledger[1]})
    db.session.commit()
    checked, finding = verify(db.session)
    assert checked == 1 and finding.entry_id == ledger[2] and "deleted" in finding.problem


def test_an_inserted_entry_is_caught_even_with_a_correct_hash(app, ledger):
    """A forger who links the new entry to its predecessor still breaks the link after it."""
    before = db.session.get(AuditEvent, ledger[2])
    forged = AuditEvent(id=ledger[2] * 1000, at=before.at, actor_type="user", actor_id=1, action="alert.approve",
                        subject_type="alerts", subject_id=1, detail={})
    db.session.execute(text("UPDATE audit_events SET id = id + 10000 WHERE id > :id"), {"id": ledger[2]})
    forged.id = ledger[2] + 1
    forged.prev_hash = before.hash
    forged.hash = entry_hash(before.hash, forged)
    db.session.add(forged)
    db.session.commit()
    checked, finding = verify(db.session)
    assert finding.entry_id == ledger[2] + 1 and "inserted" in finding.problem


def test_concurrent_writers_keep_one_chain(app):
    """Web processes and workers write at the same time; the ledger stays one chain."""
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            with app.app_context():
                for index in range(10):
                    record(db.session, None, "test.concurrent", writer=writer, index=index)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    db.session.expire_all()
    assert verify(db.session) == (40, None)
