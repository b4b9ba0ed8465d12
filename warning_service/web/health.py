"""/healthz: is the database reachable, is Redis reachable."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from ..extensions import db, redis_client

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    checks: dict[str, dict] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # any failure means "not reachable"; say which
        db.session.rollback()
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    try:
        redis_client().ping()
        checks["redis"] = {"ok": True}
    except Exception as exc:
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503
