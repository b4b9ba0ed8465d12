"""The agency API: /api/v1."""
from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__)
