"""Blueprints by audience: the duty officers' console (and its sign-in), the administrators'
pages, the auditors' reports, the agency API, health checks, gateway webhooks."""
from __future__ import annotations

from flask import Flask
from flask_wtf import CSRFProtect

csrf = CSRFProtect()


def register_blueprints(app: Flask) -> None:
    from .admin import admin
    from .api import api
    from .auth import auth, init_login
    from .console import console
    from .errors import register_error_handlers
    from .health import health
    from .i18n import init_i18n
    from .reports import reports
    from .webhooks import webhooks

    csrf.init_app(app)
    init_login(app)
    init_i18n(app)
    # Machines authenticate these with a key or a signature, never a browser cookie.
    csrf.exempt(api)
    csrf.exempt(webhooks)
    app.register_blueprint(health)
    app.register_blueprint(auth)
    app.register_blueprint(console)
    app.register_blueprint(admin, url_prefix="/admin")
    app.register_blueprint(reports, url_prefix="/reports")
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(webhooks)
    register_error_handlers(app)
