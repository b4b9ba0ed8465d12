"""Every error answers as RFC 9457 problem+json: a status, a title, a human-readable detail.

No request ever gets a bare 500 page or a traceback; an unexpected error is
logged with its traceback and answered with a problem document.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, json
from werkzeug.exceptions import HTTPException

from ..intake.errors import IntakeError

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra) -> Response:
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
