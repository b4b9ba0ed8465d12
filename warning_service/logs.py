"""Logging, configured in one place: JSON lines on stderr (one object per record, with the
`extra` fields the dispatch code adds: alert_id, delivery_id(s), channel, gateway_id), or
plain text for a developer's terminal (LOG_FORMAT=text)."""
from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that narrate every request at INFO or DEBUG (twilio dumps each request's headers): at the
# service's INFO they would drown its own lines, so they speak from WARNING up unless LOG_LEVEL is DEBUG.
# fontTools logs each font it subsets for the PDF reports.
CHATTY_LIBRARIES: tuple[str, ...] = ("twilio", "twilio.http_client", "urllib3", "requests", "fontTools")


class _ServiceHandler(logging.StreamHandler):
    """Marks the handler this module installed, so building a second app does not add another."""


def configure_logging(level: str, form: str) -> None:
    root = logging.getLogger()
    if any(isinstance(handler, _ServiceHandler) for handler in root.handlers):
        return
    handler = _ServiceHandler()
    if form == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        handler.setFormatter(JsonFormatter(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False))
    root.addHandler(handler)
    root.setLevel(level.upper())
    library_level = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
