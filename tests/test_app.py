"""Assembly: settings from the environment, SQLite in WAL mode, health reporting."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from warning_service.app import create_app
from warning_service.extensions import db


def test_secret_key_is_required_outside_development(monkeypatch):
    monkeypatch.setenv("WARNING_SERVICE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "s3cret-from-the-environment")
    assert create_app().config["SECRET_KEY"] == "s3cret-from-the-environment"


def test_settings_come_from_the_environment_typed_as_their_defaults(monkeypatch):
    monkeypatch.setenv("FANOUT_BATCH_SIZE", "250")
    monkeypatch.setenv("RETRY_BASE_SECONDS", "0.5")
    monkeypatch.setenv("SMS_GATEWAY", "null")
    config = create_app().config
    assert (config["FANOUT_BATCH_SIZE"], config["RETRY_BASE_SECONDS"], config["SMS_GATEWAY"]) == (250, 0.5, "null")
    monkeypatch.setenv("FANOUT_BATCH_SIZE", "many")
    with pytest.raises(RuntimeError, match="FANOUT_BATCH_SIZE must be a whole number"):
        create_app()


def test_database_url_from_the_environment_uses_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://ews@db.example/ews")
    assert create_app().config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://ews@db.example/ews"


@pytest.mark.parametrize("written", [
    "postgresql://ews@db-a:5432,db-b:5433/ews?target_session_attrs=read-write",       # libpq's URI
    "postgresql://ews@/ews?host=db-a:5432,db-b:5433&target_session_attrs=read-write",  # one host= with a list
    "postgresql+psycopg://ews@/ews?host=db-a:5432&host=db-b:5433&target_session_attrs=read-write",
    "postgresql://ews@/ews?host=db-a,db-b&port=5432,5433&target_session_attrs=read-write",          # libpq's keywords
])
def test_multi_host_database_urls_reach_libpq_as_a_host_list_tried_in_order(monkeypatch, written):
    monkeypatch.setenv("DATABASE_URL", written)
    url = make_url(create_app().config["SQLALCHEMY_DATABASE_URI"])
    arguments = url.get_dialect()().create_connect_args(url)[1]
    assert (arguments["host"], arguments["port"]) == ("db-a,db-b", "5432,5433")
    assert (arguments["target_session_attrs"], arguments["connect_timeout"]) == ("read-write", "5")


def test_sentinel_settings_are_checked_before_the_app_starts(monkeypatch):
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1:26379,10.0.0.2")
    with pytest.raises(RuntimeError, match="'10.0.0.2' is not host:port"):
        create_app()
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1:26379,10.0.0.2:26379")
    with pytest.raises(RuntimeError, match="REDIS_SENTINEL_MASTER"):
        create_app()


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/warning_service.sqlite3"


def test_sqlite_runs_in_wal_mode(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/wal.sqlite3"})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_is_503_when_redis_is_unreachable(tmp_path):
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/h.sqlite3",
        "REDIS_URL": f"redis://127.0.0.1:{_unused_port()}/0",
    })
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == {"ok": True, "node": "sqlite"}
    assert body["checks"]["redis"]["ok"] is False
