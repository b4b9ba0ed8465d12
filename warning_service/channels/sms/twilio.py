"""Twilio SMS: one Messages create per text, through the official client.

Retry safety (Twilio errors 20429, 20500): a 429 was never processed, so its
retry is safe; a 5xx or a read timeout may have sent the text, so its retry may
duplicate it. Both are TRANSIENT: the fan-out retries, and a warning twice beats
a warning missed. A recipient's texts (one per language) go in order, one
create each, and stop at the first failure; the delivery is ACCEPTED only when
every text was, and a retry sends all of them again.

TWILIO_API_BASE_URL points the client at another host (the test peer); the code
path is the same as in production.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from requests import ConnectionError as RequestsConnectionError
from requests import ConnectTimeout, RequestException, Timeout
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ...rendering.budgets import SmsBudget
from ..base import Capabilities, ChannelAdapter, GatewayUnavailable, OutboundMessage, Outcome, SendResult

logger = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
MAX_BATCH = 100
MAX_THREADS = 8
# Twilio's codes for "too many requests" (never processed) and "authenticate" (our credentials,
# not the recipient: a fixed setting lets the retries through).
THROTTLED = 20429
AUTHENTICATE = 20003


SEGMENTS = SmsBudget(max_segments=10)  # Twilio's own cap is 1,600 characters; only the count matters here


class TwilioSmsAdapter(ChannelAdapter):
    name = "twilio"
    channels = frozenset({"sms"})
    # Seconds; class attributes so tests can shorten them.
    connect_timeout: float = 3.0
    read_timeout: float = 10.0

    def __init__(self, settings: Mapping[str, Any]):
        super().__init__(settings)
        self.account_sid = str(settings["TWILIO_ACCOUNT_SID"])
        token = str(settings["TWILIO_AUTH_TOKEN"])
        if not self.account_sid or not token:
            raise ValueError("SMS_GATEWAY=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.sender = _sender(settings)
        self.rate = float(settings["TWILIO_MAX_MPS"])
        self.status_callback = str(settings["PUBLIC_BASE_URL"]).rstrip("/") + STATUS_CALLBACK_PATH
        self.validity_period = int(settings["TWILIO_VALIDITY_PERIOD"])
        http_client = TwilioHttpClient(timeout=self.read_timeout)
        # requests takes (connect, read); the constructor only accepts one number.
        http_client.timeout = (self.connect_timeout, self.read_timeout)
        self.client = Client(self.account_sid, token, http_client=http_client)
        base_url = str(settings.get("TWILIO_API_BASE_URL") or "")
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")

    def capabilities(self) -> Capabilities:
        sender = next(iter(self.sender.values()))
        return Capabilities(max_batch=MAX_BATCH, rate_per_second=self.rate,
                            rate_key=f"twilio:{self.account_sid}:{sender}", burst=max(1, math.ceil(self.rate)))

    def cost(self, message: OutboundMessage) -> int:
        """Twilio's MPS counts segments: a bilingual warning is several of them."""
        return sum(SEGMENTS.measure(text).parts for text in message.texts)

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if not messages:
            return []
        # Parallel across recipients, in order within one; no more threads than a second's worth of the rate.
        threads = min(MAX_THREADS, len(messages), max(1, math.ceil(self.rate)))
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="twilio") as pool:
            return list(pool.map(self._send_one, messages))

    def check(self) -> str:
        try:
            account = self.client.api.v2010.accounts(self.account_sid).fetch()
        except (TwilioException, RequestException) as exc:
            raise GatewayUnavailable(f"twilio: cannot fetch account {self.account_sid}: {_describe(exc)}") from exc
        if account.status != "active":
            raise GatewayUnavailable(f"twilio: account {self.account_sid} is {account.status}")
        sender = ", ".join(f"{key}={value}" for key, value in self.sender.items())
        return f"twilio: account {self.account_sid} ({account.friendly_name}) is active; sending with {sender}"

    def _send_one(self, message: OutboundMessage) -> SendResult:
        sids: list[str] = []
        for text in message.texts:
            try:
                sids.append(self._create(message.address, text))
            except Exception as exc:  # one message's surprise must not lose the batch's other results
                return _failure(message, exc, sids)
        return SendResult(message.delivery_id, Outcome.ACCEPTED, gateway_id=sids[0],
                          text=" ".join(sids) if len(sids) > 1 else None)

    def _create(self, to: str, body: str) -> str:
        created = self.client.messages.create(to=to, body=body, status_callback=self.status_callback,
                                              validity_period=self.validity_period, **self.sender)
        return created.sid


def _sender(settings: Mapping[str, Any]) -> dict[str, str]:
    """The messaging service when there is one (sender pools, higher rates), else the From number."""
    service = str(settings.get("TWILIO_MESSAGING_SERVICE_SID") or "")
    if service:
        return {"messaging_service_sid": service}
    number = str(settings.get("TWILIO_FROM") or "")
    if number:
        return {"from_": number}
    raise ValueError("SMS_GATEWAY=twilio needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")


def _failure(message: OutboundMessage, exc: Exception, sids: list[str]) -> SendResult:
    outcome, code, text = _classify(exc)
    if sids:
        text = f"{text} (after {len(sids)} of {len(message.texts)} texts accepted: {' '.join(sids)})"
    if outcome == Outcome.TRANSIENT:
        logger.warning("twilio: delivery %s: %s %s", message.delivery_id, code, text,
                       extra={"alert_id": message.content.alert_id, "delivery_id": message.delivery_id})
    return SendResult(message.delivery_id, outcome, gateway_id=sids[0] if sids else None, code=code, text=text)


def _classify(exc: Exception) -> tuple[Outcome, str, str]:
    if isinstance(exc, (TwilioRestException, TwilioServiceException)):
        status, code = int(exc.status), exc.code
        words = _describe(exc)
        if status == 429 or code == THROTTLED:
            return Outcome.TRANSIENT, str(code or status), f"throttled, not sent: {words}"
        if status >= 500:
            return Outcome.TRANSIENT, str(code or status), f"server error, may have been sent: {words}"
        if status == 401 or code == AUTHENTICATE:
            return Outcome.TRANSIENT, str(code or status), f"credentials refused: {words}"
        return Outcome.PERMANENT, str(code or status), words
    if isinstance(exc, ConnectTimeout):
        return Outcome.TRANSIENT, "timeout", "no connection to Twilio, not sent"
    if isinstance(exc, Timeout):
        return Outcome.TRANSIENT, "timeout", "no answer from Twilio, may have been sent"
    if isinstance(exc, RequestsConnectionError):
        return Outcome.TRANSIENT, "connection", f"connection failed, may have been sent: {type(exc).__name__}"
    logger.exception("twilio: unexpected error")
    return Outcome.TRANSIENT, "adapter-error", f"{type(exc).__name__}: {exc}"


def _describe(exc: Exception) -> str:
    """Twilio's own words, without the terminal colours TwilioRestException.__str__ may add."""
    if isinstance(exc, TwilioRestException):
        return str(exc.msg)
    if isinstance(exc, TwilioServiceException):
        return str(exc.detail or exc.title)
    return type(exc).__name__
