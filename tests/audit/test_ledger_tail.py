"""The ledger's tail: the head signed by the reconciler each interval it moved, kept in the database
and in LEDGER_HEADS_DIR, and `flask audit verify` checking the newest entries against it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from warning_service.audit.events import record
from warning_service.audit.ledger import entry_hash
from warning_service.dispatch.reconcile import SIGN_KEY, reconcile
from warning_service.extensions import db, redis_client
from warning_service.models import AuditEvent, SignedHead, utcnow
from warning_service.rendering.formatting import beijing_time


def run(app, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["audit", *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def write_entries(count: int) -> list[int]:
    for n in range(count):
        record(db.session, None, "test.entry", n=n)
        db.session.commit()
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def a_pass(app, interval_passed: bool = True):
    """One reconciler pass; `interval_passed` lets LEDGER_SIGN_INTERVAL_SECONDS be over, as it would be later."""
    if interval_passed:
        redis_client().delete(SIGN_KEY)
    return reconcile(db.session, redis_client(), app.config)


def head_files(app) -> list[Path]:
    return sorted(Path(app.config["LEDGER_HEADS_DIR"]).glob("head-*.json"))


def signed_rows() -> list[SignedHead]:
    return list(db.session.scalars(select(SignedHead).order_by(SignedHead.id)))


@pytest.fixture
def key(app):
    code, output = run(app, "generate-key")
    assert code == 0, output


@pytest.fixture
def signed(app, key) -> list[int]:
    """Five entries, the head signed by a reconciler pass: the entries' ids."""
    ids = write_entries(5)
    assert a_pass(app).head_signed == ids[-1]
    return ids


def when_signed() -> str:
    return beijing_time(signed_rows()[-1].signed_at, seconds=True)


def test_an_untouched_ledger_verifies_up_to_its_head_and_counts_what_came_after(app, signed):
    write_entries(2)
    code, output = run(app, "verify")
    assert code == 0, output
    assert f"intact: 5 entries verified up to the head signed at {when_signed()} (Beijing time) (entry {signed[-1]})" \
        in output
    assert "2 entries after it not yet covered by a signature" in output


def test_the_newest_entries_deleted_after_the_head_was_signed_are_named(app, signed):
    db.session.execute(delete(AuditEvent).where(AuditEvent.id >= signed[3]))
    db.session.commit()
    code, output = run(app, "verify")
    assert code == 1
    assert f"entries {signed[3]}..{signed[4]} deleted after the head was signed at {when_signed()}" in output


def test_a_forged_entry_with_a_correct_hash_in_place_of_the_signed_head_is_named(app, signed):
    """The chain alone cannot tell: the forged entry links to the one before it and its hash is right."""
    previous = db.session.get(AuditEvent, signed[3]).hash
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == signed[4]))
    forged = AuditEvent(id=signed[4], at=utcnow(), actor_type="system", action="test.harmless", detail={})
    forged.prev_hash, forged.hash = previous, entry_hash(previous, forged)
    db.session.add(forged)
    db.session.commit()
    code, output = run(app, "verify")
    assert code == 1
    assert f"entry {signed[4]} has another hash than when it was signed as the head at {when_signed()}" in output
    assert "forged" in output


def test_a_forged_entry_appended_after_the_head_is_not_counted_as_verified(app, signed):
    previous = db.session.get(AuditEvent, signed[4]).hash
    forged = AuditEvent(at=utcnow(), actor_type="system", action="test.harmless", detail={})
    forged.prev_hash, forged.hash = previous, entry_hash(previous, forged)
    db.session.add(forged)
    db.session.commit()
    code, output = run(app, "verify")
    assert code == 0 and "intact: 5 entries verified" in output
    assert "1 entries after it not yet covered by a signature" in output


@pytest.mark.parametrize("case", ["file deleted", "row deleted", "row forged", "file forged"])
def test_the_two_copies_of_the_signed_head_are_compared(app, signed, case):
    first = head_files(app)[0]
    write_entries(1)
    a_pass(app)
    latest_file, latest_row = head_files(app)[-1], signed_rows()[-1]
    assert latest_file != first and json.loads(latest_file.read_text()) == json.loads(latest_row.document)
    if case == "file deleted":
        latest_file.unlink()
        expected = f"has no file of the head signed at {when_signed()} (Beijing time) (entry {latest_row.entry_id})"
    elif case == "row deleted":
        expected = f"the database no longer holds the head signed at {when_signed()}"
        db.session.execute(delete(SignedHead).where(SignedHead.id == latest_row.id))
        db.session.commit()
    else:
        document = json.loads(latest_file.read_text())
        document["entry"], document["hash"] = signed[-1], db.session.get(AuditEvent, signed[-1]).hash
        if case == "row forged":
            db.session.execute(update(SignedHead).where(SignedHead.id == latest_row.id)
                               .values(document=json.dumps(document)))
            db.session.commit()
            expected = "the signature of the database's latest signed head does not match this public key"
        else:
            latest_file.write_text(json.dumps(document))
            expected = f"the signature of {latest_file} does not match this public key"
    code, output = run(app, "verify")
    assert code == 1 and expected in output


def test_the_periodic_job_signs_the_head_once_an_interval_and_only_when_it_moved(app, key):
    ids = write_entries(3)
    assert a_pass(app).head_signed == ids[-1]
    assert [row.entry_id for row in signed_rows()] == [ids[-1]] and len(head_files(app)) == 1
    assert a_pass(app).head_signed is None, "the head did not move: nothing to sign"
    later = write_entries(1)[-1]
    assert a_pass(app, interval_passed=False).head_signed is None, "within the interval: not yet"
    assert a_pass(app).head_signed == later
    assert [row.entry_id for row in signed_rows()] == [ids[-1], later] and len(head_files(app)) == 2
    assert json.loads(head_files(app)[-1].read_text()) == json.loads(signed_rows()[-1].document)
    assert not list(Path(app.config["LEDGER_HEADS_DIR"]).glob(".head-*")), "no temporary file left behind"


def test_without_a_key_the_pass_says_why_and_signs_nothing(app):
    write_entries(2)
    report = a_pass(app)
    assert report.head_signed is None and "no private key at" in report.head_problem
    assert db.session.scalar(select(func.count()).select_from(SignedHead)) == 0 and not head_files(app)
    code, output = run(app, "verify")
    assert code == 0 and "no signed head yet: all 2 are not yet covered by a signature" in output


def test_a_missing_public_key_is_a_failure_with_a_reason_not_a_traceback(app, signed, tmp_path):
    code, output = run(app, "verify", "--public-key", str(tmp_path / "nowhere.pub"))
    assert code == 1 and f"cannot check the signed heads: no public key at {tmp_path / 'nowhere.pub'}" in output
    assert "Traceback" not in output
