"""Errors the intake raises; the web layer turns them into RFC 9457 problem documents."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..cap.errors import FieldError


@dataclass
class IntakeError(Exception):
    """A message the intake refuses. Nothing is stored when one is raised.

    status: 400 malformed (not XML / not JSON), 403 not allowed for this agency,
    409 conflict, 413 over a count limit (limits.py), 422 well-formed but invalid (schema or region rules).
    """

    status: int
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


def malformed(detail: str, errors: list[FieldError] | None = None) -> IntakeError:
    return IntakeError(400, "Malformed message", detail, errors or [])


def invalid(detail: str, errors: list[FieldError] | None = None) -> IntakeError:
    return IntakeError(422, "Invalid alert", detail, errors or [])


def too_large(detail: str, errors: list[FieldError] | None = None) -> IntakeError:
    return IntakeError(413, "Alert too large", detail, errors or [])


def forbidden(detail: str) -> IntakeError:
    return IntakeError(403, "Not allowed", detail)
