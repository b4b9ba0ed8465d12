"""Importing a recipients file as a plain function on a session: all rows or none, one audit entry."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from warning_service.extensions import db
from warning_service.models import AuditEvent, BeidouTerminal, Recipient
from warning_service.services import recipients_import
from warning_service.services.recipients_import import ImportRefused, import_recipients

GOOD = ("phone,county,languages,channels,exercise,beidou_card\n"
        "+8613812345678,513301,bo,sms,no,\n"
        "+8613812345679,513322,\"zh,bo\",sms;beidou,yes,0247601\n")


@pytest.fixture
def terminal(app) -> int:
    terminal = BeidouTerminal(card_address="0247601", county_code="513322", name="牧户终端", is_group=False)
    db.session.add(terminal)
    db.session.commit()
    return terminal.id


def stored() -> dict[str, Recipient]:
    return {recipient.phone: recipient for recipient in db.session.scalars(select(Recipient))}


def imports() -> list[dict]:
    return list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "recipients.import")))


def test_new_phones_are_added_known_ones_updated_and_the_import_audited(app, terminal):
    assert import_recipients(db.session, None, "test", GOOD.encode(), "first.csv") == (2, 0)
    stored()["+8613812345678"].active = False
    again = GOOD.replace("513301,bo", "513322,zh").encode("utf-8-sig")  # a spreadsheet's byte-order mark
    assert import_recipients(db.session, None, "test", again, "second.csv") == (0, 2)
    db.session.commit()
    recipients = stored()
    assert (recipients["+8613812345678"].county_code, recipients["+8613812345678"].active) == ("513322", True)
    assert recipients["+8613812345679"].beidou_terminal_id == terminal
    assert recipients["+8613812345679"].channels == ["sms", "beidou"] and recipients["+8613812345679"].exercise
    assert imports() == [{"via": "test", "added": 2, "updated": 0, "filename": "first.csv"},
                         {"via": "test", "added": 0, "updated": 2, "filename": "second.csv"}]


def test_one_bad_row_refuses_the_whole_file_with_every_problem(app):
    with pytest.raises(ImportRefused) as refused:  # no terminal 0247601 here, and a phone that is not E.164
        import_recipients(db.session, None, "test", (GOOD + "12345,513301,,,,\n").encode(), "bad.csv")
    assert refused.value.code == "bad_rows"
    assert [problem.split(":")[0] for problem in refused.value.problems] == ["line 3", "line 4"]
    assert stored() == {} and imports() == []


def test_a_file_that_is_not_utf8_is_refused(app):
    with pytest.raises(ImportRefused) as refused:
        import_recipients(db.session, None, "test", "+8613812345678,甘孜县".encode("gb18030"), "x.csv")
    assert refused.value.code == "not_utf8" and refused.value.problems == []
    assert stored() == {} and imports() == []


def test_more_rows_than_one_lookup_are_stored_in_chunks(app, monkeypatch):
    monkeypatch.setattr(recipients_import, "LOOKUP_CHUNK", 2)
    lines = "".join(f"+86138000000{index:02d},513301,zh,sms,no,\n" for index in range(5))
    text = "phone,county,languages,channels,exercise,beidou_card\n" + lines
    assert import_recipients(db.session, None, "test", text.encode(), None) == (5, 0)
    assert import_recipients(db.session, None, "test", text.encode(), None) == (0, 5)
    assert db.session.scalar(select(func.count()).select_from(Recipient)) == 5
