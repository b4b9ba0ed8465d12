"""The SQL a block of code sends, for tests that prove what a path does (or never does) from its statements."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from warning_service.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs."""
    sent: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
