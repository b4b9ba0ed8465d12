"""Every error answers with a status and a human-readable reason, never a traceback.

Machines (the API, webhooks, health) get RFC 9457 problem+json; people in the
console's pages get the same reason on an HTML page with a way back. An
unexpected error is logged with its traceback and answered the same way.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, json, render_template, request
from werkzeug.exceptions import HTTPException

from ..intake.errors import IntakeError

PROBLEM_JSON = "application/problem+json"
PAGES_FOR_PEOPLE = frozenset({"console", "admin", "auth", "reports"})  # blueprints whose errors are pages


def problem(status: int, title: str, detail: str, **extra) -> Response:
    if request and request.blueprint in PAGES_FOR_PEOPLE and request.accept_mimetypes.accept_html:
        try:
            page = render_template("console/error.html", status=status, title=title, detail=detail)
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
        response = problem(error.code or 500, error.name, error.description or error.name)
        if error.code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="agency-api"'
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        current_app.logger.exception("unhandled error")
        return problem(500, "Internal Server Error", "The service could not complete the request; it has been logged.")
