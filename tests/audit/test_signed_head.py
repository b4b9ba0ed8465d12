"""The ledger's head signed for an outside auditor, and checked against the ledger later."""
from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select, text

from warning_service.audit.events import record
from warning_service.audit.ledger import entry_hash
from warning_service.extensions import db
from warning_service.models import AuditEvent


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=["audit", *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.fixture
def keys(app, tmp_path):
    private = tmp_path / "keys" / "ledger.pem"
    code, output = run(app, "generate-key", "--out", str(private))
    assert code == 0, output
    return private, tmp_path / "keys" / "ledger.pub"


@pytest.fixture
def signed(app, keys, tmp_path):
    for n in range(4):
        record(db.session, None, "test.entry", n=n)
        db.session.commit()
    out = tmp_path / "head.json"
    code, output = run(app, "head", "--sign", "--key", str(keys[0]), "--out", str(out))
    assert code == 0, output
    return out


def entry_ids() -> list[int]:
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def test_the_key_pair_is_written_once_and_kept_private(app, keys):
    private, public = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes() and b"PUBLIC KEY" in public.read_bytes()
    code, output = run(app, "generate-key", "--out", str(private))
    assert code == 1 and "already exists" in output


def test_a_signed_head_checks_out_and_stays_good_as_the_ledger_grows(app, keys, signed):
    document = json.loads(signed.read_text())
    assert document["entry"] == entry_ids()[-1] and document["hash"] == db.session.get(AuditEvent, document["entry"]).hash
    assert {"at", "signed_at", "signature"} <= document.keys()
    record(db.session, None, "test.later")
    db.session.commit()
    code, output = run(app, "check-head", str(signed), "--public-key", str(keys[1]))
    assert code == 0 and f"signed head good: entry {document['entry']}" in output


def test_a_rewritten_ledger_fails_the_check(app, keys, signed):
    """A forger who rewrites an entry and re-chains everything after it still cannot match the signed hash."""
    ids = entry_ids()
    previous = db.session.get(AuditEvent, ids[0]).prev_hash
    for entry_id in ids:
        entry = db.session.get(AuditEvent, entry_id)
        if entry_id == ids[1]:
            entry.detail = {"n": 99}
        entry.prev_hash, entry.hash = previous, entry_hash(previous, entry)
        previous = entry.hash
    db.session.commit()
    code, output = run(app, "check-head", str(signed), "--public-key", str(keys[1]))
    assert code == 1 and "another hash" in output and "rewritten" in output


def test_a_changed_entry_before_the_head_fails_the_check(app, keys, signed):
    db.session.execute(text("UPDATE audit_events SET action = 'test.harmless' WHERE id = :id"), {"id": entry_ids()[1]})
    db.session.commit()
    code, output = run(app, "check-head", str(signed), "--public-key", str(keys[1]))
    assert code == 1 and "BROKEN" in output and f"entry {entry_ids()[1]}: was changed" in output


def test_a_deleted_head_fails_the_check(app, keys, signed):
    head_id = json.loads(signed.read_text())["entry"]
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": head_id})
    db.session.commit()
    code, output = run(app, "check-head", str(signed), "--public-key", str(keys[1]))
    assert code == 1 and f"no longer holds entry {head_id}" in output


def test_an_altered_document_or_another_key_is_refused(app, keys, signed, tmp_path):
    document = json.loads(signed.read_text())
    document["hash"] = "0" * 64
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    code, output = run(app, "check-head", str(forged), "--public-key", str(keys[1]))
    assert code == 1 and "does not match this public key" in output
    code, _ = run(app, "generate-key", "--out", str(tmp_path / "other.pem"))
    code, output = run(app, "check-head", str(signed), "--public-key", str(tmp_path / "other.pub"))
    assert code == 1 and "does not match this public key" in output


@pytest.mark.parametrize("case", ["missing key", "not a key", "private for public", "missing file", "not json",
                                  "not a head"])
def test_bad_keys_and_files_get_a_message_not_a_traceback(app, keys, signed, tmp_path, case):
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    other = tmp_path / "other.json"
    other.write_text('{"entry": 1}')
    head, public = {
        "missing key": (signed, tmp_path / "nowhere.pub"),
        "not a key": (signed, junk),
        "private for public": (signed, keys[0]),
        "missing file": (tmp_path / "nowhere.json", keys[1]),
        "not json": (junk, keys[1]),
        "not a head": (other, keys[1]),
    }[case]
    code, output = run(app, "check-head", str(head), "--public-key", str(public))
    assert code == 1 and output.startswith("Error: ") and "Traceback" not in output
    assert str(head if case in ("missing file", "not json", "not a head") else public) in output


def test_signing_without_a_key_says_how_to_make_one(app, tmp_path):
    record(db.session, None, "test.entry")
    db.session.commit()
    code, output = run(app, "head", "--sign", "--key", str(tmp_path / "none.pem"))
    assert code == 1 and "no private key at" in output and "flask audit generate-key" in output
    code, output = run(app, "head", "--sign", "--key", str(tmp_path))
    assert code == 1 and "Error: " in output
