"""The SQL a block of code sends, for tests that prove what a path does (or never does) from its statements."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from warning_service.extensions import db

COMMIT = "COMMIT"


@contextmanager
def statements(commits: bool = False) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs; with `commits`, each commit too, as COMMIT in its place."""
    sent: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    def committed(conn):
        sent.append(COMMIT)

    event.listen(db.engine, "before_cursor_execute", remember)
    if commits:
        event.listen(db.engine, "commit", committed)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
        if commits:
            event.remove(db.engine, "commit", committed)
