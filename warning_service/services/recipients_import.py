"""Importing a recipients file (recipients/csv_rows.py reads it): whole or not at all.

The admin page calls this; a `flask` command could too. No Flask here; nothing is committed. A file is
refused with a stable code (and, for bad rows, every problem with its line) and then nothing changes;
an accepted one inserts new phones, updates known ones and leaves one audit entry.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.events import Actor, record
from ..models import BeidouTerminal, County, Recipient
from ..recipients.csv_rows import RecipientRow, parse_recipients_csv

LOOKUP_CHUNK = 1000  # phones looked up per query: bounded, as the file may have 200,000 rows

# Why a file is refused: a stable code and its English text; the admin page words it in the reader's language.
REFUSAL_TEXTS = {
    "not_utf8": "the file is not UTF-8 text; save the CSV as UTF-8",
    "bad_rows": "nothing was imported: %(count)d problems",
}


class ImportRefused(ValueError):
    """The file cannot be imported: `code` (a key of REFUSAL_TEXTS) says why; `problems` lists the bad
    rows as 'line N: …' (empty unless the code is bad_rows)."""

    def __init__(self, code: str, problems: Sequence[str] = ()) -> None:
        self.code = code
        self.problems = list(problems)
        super().__init__(REFUSAL_TEXTS[code] % {"count": len(self.problems)})


def import_recipients(session: Session, actor: Actor, via: str, data: bytes, filename: str | None) -> tuple[int, int]:
    """Import every row of the CSV `data` or none; returns (added, updated)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused("not_utf8") from None
    cards = dict(session.execute(select(BeidouTerminal.card_address, BeidouTerminal.id)).all())
    counties = set(session.scalars(select(County.code)))
    rows, problems = parse_recipients_csv(text, counties, cards)
    if problems:
        raise ImportRefused("bad_rows", problems)
    added, updated = _store(session, rows, cards)
    record(session, actor, "recipients.import", None, via=via, added=added, updated=updated, filename=filename)
    return added, updated


def _store(session: Session, rows: list[RecipientRow], cards: dict[str, int]) -> tuple[int, int]:
    """Insert new phones, update known ones (active again, if they had been deactivated)."""
    added = updated = 0
    for start in range(0, len(rows), LOOKUP_CHUNK):
        chunk = rows[start:start + LOOKUP_CHUNK]
        known = {recipient.phone: recipient for recipient in
                 session.scalars(select(Recipient).where(Recipient.phone.in_([row.phone for row in chunk])))}
        for row in chunk:
            values = {"county_code": row.county_code, "languages": row.languages, "channels": list(row.channels),
                      "exercise": row.exercise, "active": True,
                      "beidou_terminal_id": cards[row.beidou_card] if row.beidou_card else None}
            if row.phone in known:
                for name, value in values.items():
                    setattr(known[row.phone], name, value)
                updated += 1
            else:
                session.add(Recipient(phone=row.phone, **values))
                added += 1
        session.flush()
    return added, updated
