"""Every error answers with a status and a human-readable reason, never a traceback.

Machines (the API, webhooks, health) get RFC 9457 problem+json; people in the
console's pages get the same reason on an HTML page with a way back. A connection
to the database or Redis lost mid-request (a failover) is 503 with Retry-After. An
unexpected error is logged with its traceback and answered the same way.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, json, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from ..intake.errors import IntakeError

PROBLEM_JSON = "application/problem+json"
PAGES_FOR_PEOPLE = frozenset({"console", "admin", "auth", "reports"})  # blueprints whose errors are pages
# A page's heading in the reader's language (machines keep the standard English title), and the reason
# shown where Werkzeug's own English description would be.
PAGE_TITLES = {400: _l("Bad request"), 401: _l("Not signed in"), 403: _l("Not allowed"), 404: _l("Not found"),
               405: _l("Method not allowed"), 413: _l("Too large"), 422: _l("Cannot be processed"),
               429: _l("Too many requests"), 500: _l("Internal error"), 503: _l("Temporarily unavailable")}
PAGE_DETAILS = {400: _l("The request could not be understood."), 401: _l("Sign in first."),
                403: _l("You may not open this page."), 404: _l("There is no such page."),
                405: _l("This page cannot be used this way."), 413: _l("What was sent is too large."),
                422: _l("What was sent cannot be processed."), 429: _l("Too many requests; wait a moment."),
                500: _l("The service could not complete the request; it has been logged."),
                503: _l("The database or the queue is switching servers; try again in a few seconds.")}
# A database or Redis failover: connections cut mid-request. The client repeats; its next connection finds the new
# primary or master within seconds (docs/OPERATIONS.md).
RETRY_AFTER_SECONDS = 5
CSRF_DETAIL = _l("The form has expired or did not come from this console; reload the page and try again.")


def problem(status: int, title: str, detail: str, page_detail: str | None = None, **extra) -> Response:
    """`page_detail`: what a person reads instead of `detail` (a machine's English) on the HTML page."""
    if request and request.blueprint in PAGES_FOR_PEOPLE and request.accept_mimetypes.accept_html:
        try:
            page = render_template("console/error.html", status=status, title=PAGE_TITLES.get(status, title),
                                   detail=page_detail or detail)
            return Response(page, status=status, mimetype="text/html")
        except Exception:  # the page itself failed (a broken template caused this error?): say it plainly
            current_app.logger.exception("error page failed")
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail, **extra}
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(IntakeError)
    def _intake_error(error: IntakeError) -> Response:
        extra = {"errors": [e.as_dict() for e in error.errors]} if error.errors else {}
        return problem(error.status, error.title, error.detail, **extra)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        response = problem(error.code or 500, error.name, error.description or error.name, _page_detail(error))
        if error.code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="agency-api"'
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(RedisError)
    def _unavailable(error: Exception) -> Response:
        current_app.logger.warning("a request lost its database or Redis connection: %s", type(error).__name__)
        response = problem(503, "Service Unavailable", "The database or the queue did not answer (a failover?); "
                           "repeat the request in a few seconds.", str(PAGE_DETAILS[503]))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        current_app.logger.exception("unhandled error")
        return problem(500, "Internal Server Error", "The service could not complete the request; it has been logged.",
                       str(PAGE_DETAILS[500]))


def _page_detail(error: HTTPException) -> str | None:
    """Werkzeug's and Flask-WTF's own descriptions are English: a page says the same in the reader's language."""
    if isinstance(error, CSRFError):
        return str(CSRF_DETAIL)
    if error.description in (None, type(error).description):
        return str(PAGE_DETAILS.get(error.code or 500, PAGE_DETAILS[500]))
    return None
