"""Test harness: every integration test runs on SQLite and on the real PostgreSQL.

PostgreSQL: a database of its own per test session (created from the `test`
database on 127.0.0.1:5432 and dropped at the end), so parallel runs never meet.
Schemas are built by the Alembic migrations, as in production.
Redis: the real server on 127.0.0.1:6379.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import text
from werkzeug.serving import make_server

from tests.support.backends import REDIS_CLAIM_KEY, REDIS_SERVER, empty_redis, scratch_database
from warning_service.app import create_app
from warning_service.extensions import db
from warning_service.reference_data import load_regions

pytest_plugins = ["tests.support.fixtures"]  # the fixtures more than one test directory uses

# Reference tables are loaded once per session and kept between tests.
KEEP_TABLES = {"prefectures", "counties", "alembic_version"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked backend("postgresql") runs on that backend only: on the other it is deselected, not
    skipped (it tests something the other backend does differently, with its own test)."""
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker("backend")
        callspec = getattr(item, "callspec", None)
        on = callspec.params.get("backend_app") if callspec else None
        (dropped if marker and on is not None and on not in marker.args else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_database("ews_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database (1-15) of this test session's own, so parallel runs never share queues."""
    for index in range(1, 16):
        url = f"{REDIS_SERVER}/{index}"
        connection = Redis.from_url(url)
        if connection.set(REDIS_CLAIM_KEY, os.getpid(), nx=True, ex=3600):
            connection.flushdb()
            connection.set(REDIS_CLAIM_KEY, os.getpid(), ex=3600)
            yield url
            connection.flushdb()
            return
    pytest.fail("every Redis database 1-15 is claimed by another test session")


def build_app(database_url: str, redis_url: str, **overrides) -> Flask:
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "MFA_REQUIRED": True,  # as in production: duty officers and admins sign in with a second factor
        **overrides,
    })
    with app.app_context():
        upgrade()
        load_regions(db.session)
        db.session.commit()
    return app


@pytest.fixture(scope="session")
def app_builder() -> Callable[..., Flask]:
    """build_app, for a suite that brings its own database and Redis (tests/chaos)."""
    return build_app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend_app(request, tmp_path_factory, redis_url) -> Iterator[Flask]:
    if request.param == "sqlite":
        url = "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")
    else:
        url = request.getfixturevalue("postgres_url")
    app = build_app(url, redis_url)
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled connections before the database is dropped


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        db.session.rollback()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


@pytest.fixture
def app(backend_app: Flask, tmp_path_factory, monkeypatch) -> Iterator[Flask]:
    """The app on each backend, with empty tables and queues but the reference data loaded, and a
    signing key path and signed-heads directory of the test's own (no key there unless it makes one)."""
    _empty_tables(backend_app)
    empty_redis(backend_app.config["REDIS_URL"])
    ledger = tmp_path_factory.mktemp("ledger")
    monkeypatch.setitem(backend_app.config, "AUDIT_SIGNING_KEY", str(ledger / "audit-signing-key.pem"))
    monkeypatch.setitem(backend_app.config, "LEDGER_HEADS_DIR", str(ledger / "heads"))
    with backend_app.app_context():
        yield backend_app
        db.session.remove()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def served_app(app: Flask, monkeypatch) -> Iterator[str]:
    """The app on a real HTTP server on loopback (for gateways' callbacks); PUBLIC_BASE_URL points at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base_url)
    yield base_url
    server.shutdown()
    thread.join()
