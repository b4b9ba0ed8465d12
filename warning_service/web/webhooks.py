"""Webhooks from gateways: Twilio's message status callbacks, POST /webhooks/twilio/status.

Twilio signs every callback: X-Twilio-Signature is an HMAC-SHA1, keyed with
the auth token, of the URL it called and the sorted POST parameters. That URL is
the public one (PUBLIC_BASE_URL plus the path and query), not the one this
process sees behind a proxy. A request that fails the check changes nothing.

Which SID counts: a recipient's message may go as two texts (one per language),
each with its own SID. The delivery keeps the first text's SID (the recipient's
preferred language) as gateway_id, and only that text's receipts move it; the
others are answered 200 and ignored (their SIDs are in the delivery's
gateway_text).

Receipts are applied by channels/receipts.py: forward only, and a receipt that
arrives before the sending job recorded its SID is kept and applied then. Every
answer to a well-signed request is 200, or Twilio would retry it.

The console's CSRF protection does not apply here (web/__init__.py exempts this
blueprint): Twilio's signature is what authenticates it.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from twilio.request_validator import RequestValidator

from ..channels.receipts import apply_receipt
from ..channels.sms.twilio import STATUS_CALLBACK_PATH
from ..extensions import db
from ..models import DeliveryStatus
from .errors import problem

logger = logging.getLogger(__name__)
webhooks = Blueprint("webhooks", __name__)

# Twilio's MessageStatus -> the delivery's status.
RECEIPTS: dict[str, DeliveryStatus] = {
    "queued": DeliveryStatus.SENT,
    "accepted": DeliveryStatus.SENT,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
}


@webhooks.post(STATUS_CALLBACK_PATH)
def twilio_status() -> Response:
    if not _signed_by_twilio():
        return problem(403, "Forbidden", "The X-Twilio-Signature header is missing or does not match this request.")
    sid, reported = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    status = RECEIPTS.get(reported)
    if not 0 < len(sid) <= 64:
        logger.info("twilio receipt without a usable MessageSid ignored")
    elif status is None:
        logger.info("twilio receipt %s: status %r is not one the service records", sid, reported)
    else:
        if not apply_receipt(db.session, sid, status, request.form.get("ErrorCode") or None):
            logger.info("twilio receipt %s %s: kept for later or already applied", sid, reported,
                        extra={"gateway_id": sid})
    return Response(status=200)


def public_url() -> str:
    """The URL Twilio called, as the outside world sees this service."""
    query = request.query_string.decode("latin-1")
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + request.path + (f"?{query}" if query else "")


def _signed_by_twilio() -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = str(current_app.config["TWILIO_AUTH_TOKEN"])
    return bool(signature and token) and RequestValidator(token).validate(public_url(), request.form, signature)
