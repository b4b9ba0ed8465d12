"""For machines watching the service: /healthz (is the database reachable, is Redis reachable, and which
server of each it reached: after a failover, the new primary and master) and /metrics (Prometheus; a scraper's bearer token or a signed-in admin)."""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import text

from ..extensions import db, redis_client, redis_node
from ..metrics import StateCollector, exposition
from ..models import Role

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    checks: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "node": _database_node()}
    except Exception as exc:  # any failure means "not reachable"; say which
        db.session.rollback()
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        redis_client().ping()
        checks["redis"] = {"ok": True, **redis_node(redis_client())}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503


def _database_node() -> str:
    """The host:port of the PostgreSQL server this request's connection reached (of a multi-host URL's list);
    the dialect's name for a database without one (SQLite). Never the URL: it may carry a password."""
    info = getattr(db.session.connection().connection.dbapi_connection, "info", None)
    host, port = getattr(info, "host", None), getattr(info, "port", None)
    return f"{host}:{port}" if host else db.engine.dialect.name


@health.get("/metrics")
def metrics():
    """Prometheus text format. Not public: what is queued and failing tells an attacker when to strike."""
    if not _scraper_token_ok():
        if not current_user.is_authenticated:
            abort(401, "Send the metrics token as 'Authorization: Bearer <token>', or sign in as an admin.")
        if current_user.role != Role.ADMIN:
            abort(403, "Only admins and the metrics scraper may read the metrics.")
    body, content_type = exposition(current_app.config["PROMETHEUS_MULTIPROC_DIR"],
                                    StateCollector(redis_client(), lambda: db.session))
    return Response(body, content_type=content_type)


def _scraper_token_ok() -> bool:
    """The bearer token's SHA-256 against METRICS_TOKEN_SHA256, compared in constant time."""
    expected = str(current_app.config["METRICS_TOKEN_SHA256"]).strip().lower()
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not token.strip():
        return False
    presented = hashlib.sha256(token.strip().encode()).hexdigest()
    return hmac.compare_digest(presented, expected)
