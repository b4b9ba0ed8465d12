"""Blueprints by audience: the agency API, health checks (console, reports and webhooks follow)."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from .api import api
    from .errors import register_error_handlers
    from .health import health

    app.register_blueprint(health)
    app.register_blueprint(api, url_prefix="/api/v1")
    register_error_handlers(app)
