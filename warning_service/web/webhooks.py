"""Webhooks from gateways: Twilio's message status callbacks, POST /webhooks/twilio/status, and each
operator's CBC's, POST /webhooks/cbc/<code>/status (at the end).

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

import hashlib
import hmac
import json
import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ..channels.cell_broadcast.callbacks import StatusCallback, apply_status
from ..channels.receipts import apply_receipt
from ..channels.sms.twilio import STATUS_CALLBACK_PATH
from ..extensions import db
from ..models import CbcOperator, CbcState, DeliveryStatus
from .errors import problem

logger = logging.getLogger(__name__)
webhooks = Blueprint("webhooks", __name__)

# Twilio's MessageStatus -> the delivery's status: the outcomes.
RECEIPTS: dict[str, DeliveryStatus] = {
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
}
# On the way: Twilio has the text. The sending job records that itself as Twilio answers the create (the
# delivery is 'sent', with this SID, from then on), so these say nothing new and are answered without a
# statement: half of all callbacks, at the sending rate. (Applied, they could only ever move a delivery that
# is being sent again, whose job would then no longer record its own result.)
ON_THE_WAY = frozenset({"queued", "accepted", "sending", "sent"})


@webhooks.post(STATUS_CALLBACK_PATH)
def twilio_status() -> Response:
    if not _signed_by_twilio():
        return problem(403, "Forbidden", "The X-Twilio-Signature header is missing or does not match this request.")
    sid, reported = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    status = RECEIPTS.get(reported)
    if not 0 < len(sid) <= 64:
        logger.info("twilio receipt without a usable MessageSid ignored")
    elif reported in ON_THE_WAY:
        pass
    elif status is None:
        logger.info("twilio receipt %s: status %r is not one the service records", sid, reported)
    else:
        if not apply_receipt(db.session, sid, status, request.form.get("ErrorCode") or None):
            # A repeat, or kept until its job records the SID: routine at the sending rate, not worth a line each.
            logger.debug("twilio receipt %s %s: kept for later or already applied", sid, reported,
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


# --- cell broadcast ---------------------------------------------------------------------------------------
# A CBC's status callback is a small JSON object; anything much bigger is not one (docs/CHANNELS.md).
MAX_CBC_CALLBACK_BYTES = 4_096
MAX_CELLS = 10_000_000


@webhooks.post("/webhooks/cbc/<code>/status")
def cbc_status(code: str) -> Response:
    """A CBC's callback: signed with the operator's callback secret (X-CBC-Signature: hex HMAC-SHA256 of the
    raw body), checked before the body is read as JSON; an unknown operator is refused like a bad signature.
    Idempotent, forward only (channels/cell_broadcast/callbacks.py): a repeat or a step backwards is answered 200 and
    changes nothing."""
    if (request.content_length or 0) > MAX_CBC_CALLBACK_BYTES:
        return problem(413, "Payload Too Large", f"A status callback has at most {MAX_CBC_CALLBACK_BYTES} bytes.")
    raw = request.stream.read(MAX_CBC_CALLBACK_BYTES + 1)
    if len(raw) > MAX_CBC_CALLBACK_BYTES:
        return problem(413, "Payload Too Large", f"A status callback has at most {MAX_CBC_CALLBACK_BYTES} bytes.")
    operator = db.session.scalar(select(CbcOperator).where(CbcOperator.code == code)) if len(code) <= 20 else None
    signature = request.headers.get("X-CBC-Signature", "").strip().lower()
    expected = hmac.new((operator.callback_secret if operator else "").encode(), raw, hashlib.sha256).hexdigest()
    if operator is None or not hmac.compare_digest(signature.encode(), expected.encode()):
        return problem(403, "Forbidden", "The X-CBC-Signature header is missing or does not match this body.")
    callback = _cbc_callback(raw)
    if callback is None:
        return problem(400, "Bad Request", "Give JSON with cbc_message_id, identifier, state (broadcasting, completed, "
                                           "failed or cancelled), cells and failed_cells.")
    moved = apply_status(db.session, operator, callback)
    if moved is None:
        return problem(404, "Not Found", f"{callback.identifier!r} names no message sent to {operator.code}.")
    logger.info("cbc %s callback %s %s: %s", operator.code, callback.identifier, callback.state.value,
                "applied" if moved else "already there or further", extra={"operator": operator.code})
    return Response(status=200)


def _cbc_callback(raw: bytes) -> StatusCallback | None:
    """The callback's fields, or None when they are not what the contract says."""
    try:
        body = json.loads(raw)
        state = CbcState(body["state"])
        cells, failed = body["cells"], body["failed_cells"]
        message_id, identifier = body["cbc_message_id"], body["identifier"]
    except (ValueError, KeyError, TypeError):
        return None
    counts_ok = all(type(n) is int and 0 <= n <= MAX_CELLS for n in (cells, failed))
    texts_ok = all(isinstance(t, str) and 0 < len(t) <= 64 for t in (message_id, identifier))
    return StatusCallback(message_id, identifier, state, cells, failed) if counts_ok and texts_ok else None
