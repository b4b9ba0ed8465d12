"""Blueprints by audience: the agency API, health checks, gateway webhooks (console and reports follow)."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from .api import api
    from .errors import register_error_handlers
    from .health import health
    from .webhooks import webhooks

    app.register_blueprint(health)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(webhooks)
    register_error_handlers(app)
