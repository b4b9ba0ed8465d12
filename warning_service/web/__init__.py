"""Blueprints by audience: the duty officers' console (and its sign-in), the administrators'
pages, the auditors' reports, the agency API, health checks, gateway webhooks."""
from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_wtf import CSRFProtect

csrf = CSRFProtect()

# On every page and API answer. Scripts and styles come only from our own static files (no inline
# <script>, no style= attributes), nothing may frame a page, and no other site learns our URLs.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def refuse_nul_characters() -> None:
    """PostgreSQL text cannot hold a NUL character: a query parameter or form field carrying one is
    refused here (400) before any handler stores or looks it up (where it would fail with a 500)."""
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, "A form field or query parameter holds a NUL character.")


def register_blueprints(app: Flask) -> None:
    from .admin import admin
    from .api import api
    from .auth import auth, init_login
    from .cbc_operators import admin_cbc
    from .console import console
    from .desk import desk
    from .errors import register_error_handlers
    from .health import health
    from .i18n import init_i18n
    from .ids import register_id_converters
    from .named_areas import admin_areas
    from .reports import reports
    from .webhooks import webhooks

    register_id_converters(app)
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
    app.register_blueprint(admin_areas, url_prefix="/admin/areas")
    app.register_blueprint(admin_cbc, url_prefix="/admin/cbc")
    app.register_blueprint(reports, url_prefix="/reports")
    app.register_blueprint(desk, url_prefix="/translations")
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(webhooks)
    register_error_handlers(app)
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
