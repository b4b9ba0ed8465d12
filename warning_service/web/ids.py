"""Ids in URLs. Only a number the id column can hold matches a route's id, so any other answers 404
before a handler asks the database: PostgreSQL refuses a parameter past its column's type with an
error (and SQLite one past 64 bits), which would otherwise be a 500 on every route that looks an id up.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

# The largest ids an Integer (PostgreSQL int4) and a BigInteger (int8) column hold.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """`<int:...>`: the id of a row whose key is an Integer column, 1 to MAX_ID."""

    largest = MAX_ID

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=self.largest)


class BigRowIdConverter(RowIdConverter):
    """`<bigid:...>`: the id of a row whose key is a BigInteger column (deliveries), 1 to MAX_BIG_ID."""

    largest = MAX_BIG_ID


def register_id_converters(app: Flask) -> None:
    """Replaces Werkzeug's unbounded `int`, so every `<int:...>` route, present or future, is bounded.
    Call it before any blueprint adds its rules: a rule takes its converter when it is added."""
    app.url_map.converters["int"] = RowIdConverter
    app.url_map.converters["bigid"] = BigRowIdConverter
