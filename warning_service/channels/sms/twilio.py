"""Twilio SMS: one Messages create per text, many in flight, through the official client's async interface.

Connections. A worker keeps one adapter (dispatch/jobs.py), and the adapter one event loop on a
thread of its own, started at the first batch, with one aiohttp session: its connections are kept
across batches and jobs. A batch's texts all start at once, at most TWILIO_MAX_IN_FLIGHT of them
awaiting Twilio's answer in this process (and never more connections than that); the rate is the
fan-out's, which takes TWILIO_MAX_MPS tokens (segments, as Twilio counts) from the shared bucket
before the batch comes here, as for every channel.

Texts. A recipient's texts (one per language) go in order, one create each, and stop at the first
failure; recipients go side by side. The delivery is ACCEPTED only when every text was, and a retry
sends all of them again. Only the first text, whose SID the delivery keeps (the recipient's preferred
language), asks for status callbacks: the others' would move nothing, as SMPP asks for one receipt
per delivery (smpp.py).

Retry safety (Twilio errors 20429, 20500): a 429 was never processed, so its retry is safe: the text
goes again here after a pause every request of this process waits out (50 ms, doubling while 429s
go on, halving with each text accepted), for up to `patience` seconds, then the delivery is TRANSIENT,
"not sent". A 5xx, a read timeout or a connection lost after the request went may have sent the text:
TRANSIENT at once, never sent again here; the fan-out retries it, and a warning twice beats a warning
missed. A connection never made sent nothing: TRANSIENT.

TWILIO_API_BASE_URL points the client at another host (the test peer); the code path is the same as in
production.
"""
from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import weakref
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar, cast

from aiohttp import (
    ClientConnectorError,
    ClientError,
    ClientSession,
    ClientTimeout,
    ConnectionTimeoutError,
    TCPConnector,
    encode_basic_auth,
)
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ...rendering.budgets import SmsBudget
from ..base import Capabilities, ChannelAdapter, GatewayUnavailable, OutboundMessage, Outcome, SendResult

logger = logging.getLogger(__name__)
T = TypeVar("T")

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
MAX_BATCH = 1_000
# Twilio's codes for "too many requests" (never processed) and "authenticate" (our credentials,
# not the recipient: a fixed setting lets the retries through).
THROTTLED = 20429
AUTHENTICATE = 20003
MIN_PAUSE, MAX_PAUSE = 0.05, 2.0


SEGMENTS = SmsBudget(max_segments=10)  # Twilio's own cap is 1,600 characters; only the count matters here


class KeptConnections(AsyncHttpClient):
    """The twilio client's async HTTP interface on one aiohttp session: at most `limit` connections, kept
    between requests, with a connect and a read timeout. (twilio's own AsyncTwilioHttpClient hands aiohttp
    `timeout=None` for every request, which aiohttp reads as no timeout at all.) Built on the loop it serves."""

    def __init__(self, limit: int, connect_timeout: float, read_timeout: float):
        super().__init__(logging.getLogger("twilio.async_http_client"), True)
        self.session = ClientSession(connector=TCPConnector(limit=limit),
                                     timeout=ClientTimeout(sock_connect=connect_timeout, sock_read=read_timeout))

    async def request(self, method: str, uri: str, params: dict[str, object] | None = None,
                      data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                      auth: tuple[str, str] | None = None, timeout: float | None = None,
                      allow_redirects: bool = False) -> Response:
        method = method.upper()
        self.log_request({"method": method, "url": uri, "params": params, "headers": headers})
        if auth:
            headers = {**(headers or {}), "Authorization": encode_basic_auth(*auth)}
        query = cast("Mapping[str, str] | None", params)  # the client has made every value text already
        async with self.session.request(method, uri, params=query, data=data, headers=headers,
                                        allow_redirects=allow_redirects) as response:
            text = await response.text()
        self.log_response(response.status, response)
        return Response(response.status, text, response.headers)

    async def close(self) -> None:
        await self.session.close()


class TwilioSmsAdapter(ChannelAdapter):
    name = "twilio"
    channels = frozenset({"sms"})
    # Seconds; class attributes so tests can shorten them.
    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    patience: float = 10.0  # a batch's time to get past 429s: short, a worker held here serves no warning behind

    def __init__(self, settings: Mapping[str, Any]):
        super().__init__(settings)
        self.account_sid = str(settings["TWILIO_ACCOUNT_SID"])
        self.token = str(settings["TWILIO_AUTH_TOKEN"])
        if not self.account_sid or not self.token:
            raise ValueError("SMS_GATEWAY=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.sender = _sender(settings)
        self.rate = float(settings["TWILIO_MAX_MPS"])
        self.in_flight = int(settings["TWILIO_MAX_IN_FLIGHT"])
        if self.rate <= 0 or self.in_flight < 1:
            raise ValueError("TWILIO_MAX_MPS must be above 0 and TWILIO_MAX_IN_FLIGHT at least 1")
        self.status_callback = str(settings["PUBLIC_BASE_URL"]).rstrip("/") + STATUS_CALLBACK_PATH
        self.validity_period = int(settings["TWILIO_VALIDITY_PERIOD"])
        self.base_url = str(settings.get("TWILIO_API_BASE_URL") or "").rstrip("/")
        self._started = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._slots: asyncio.Semaphore | None = None
        self._finalizer: weakref.finalize | None = None
        self._pause, self._paused_until = MIN_PAUSE, 0.0

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
        return self._run(self._send_all(messages))

    def check(self) -> str:
        try:
            account = self._run(self._fetch_account())
        except (TwilioException, ClientError, TimeoutError) as exc:
            raise GatewayUnavailable(f"twilio: cannot fetch account {self.account_sid}: {_describe(exc)}") from exc
        if account.status != "active":
            raise GatewayUnavailable(f"twilio: account {self.account_sid} is {account.status}")
        sender = ", ".join(f"{key}={value}" for key, value in self.sender.items())
        return f"twilio: account {self.account_sid} ({account.friendly_name}) is active; sending with {sender}"

    def close(self) -> None:
        """Close the kept connections and stop the loop (tests, and a worker that stops); an adapter
        dropped without it is closed when it is collected."""
        if self._finalizer is not None:
            self._finalizer()

    # --- the loop -------------------------------------------------------------------------

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run on the adapter's loop and wait; a job stopped meanwhile (its timeout) cancels it."""
        loop = self._start()
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._started:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="twilio", daemon=True)
                thread.start()
                http = asyncio.run_coroutine_threadsafe(self._open(), loop).result()
                self._finalizer = weakref.finalize(self, _shut_down, loop, thread, http)
                self._loop = loop
            return self._loop

    async def _open(self) -> KeptConnections:
        """The client and the session, made on the loop they belong to."""
        http = KeptConnections(self.in_flight, self.connect_timeout, self.read_timeout)
        self._client = Client(self.account_sid, self.token, http_client=http)
        if self.base_url:
            self._client.api.base_url = self.base_url
        self._slots = asyncio.Semaphore(self.in_flight)
        return http

    # --- sending, on the loop ---------------------------------------------------------------

    async def _fetch_account(self) -> Any:
        assert self._client is not None
        return await self._client.api.v2010.accounts(self.account_sid).fetch_async()

    async def _send_all(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        deadline = time.monotonic() + self.patience
        return list(await asyncio.gather(*(self._send_one(message, deadline) for message in messages)))

    async def _send_one(self, message: OutboundMessage, deadline: float) -> SendResult:
        sids: list[str] = []
        for text in message.texts:
            try:
                sids.append(await self._create(message.address, text, not sids, deadline))
            except Exception as exc:  # one message's surprise must not lose the batch's other results
                return _failure(message, exc, sids)
        return SendResult(message.delivery_id, Outcome.ACCEPTED, gateway_id=sids[0],
                          text=" ".join(sids) if len(sids) > 1 else None)

    async def _create(self, to: str, body: str, with_callbacks: bool, deadline: float) -> str:
        """One text, sent again while Twilio answers 429 and the batch's patience lasts."""
        assert self._client is not None and self._slots is not None
        fields: dict[str, Any] = {"to": to, "body": body, "validity_period": self.validity_period, **self.sender}
        if with_callbacks:
            fields["status_callback"] = self.status_callback
        while True:
            while (wait := self._paused_until - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            async with self._slots:
                try:
                    created = await self._client.messages.create_async(**fields)
                except TwilioRestException as exc:
                    if not _throttled(exc) or time.monotonic() >= deadline:
                        raise
                    self._slow_down()
                    continue
            self._pause = max(MIN_PAUSE, self._pause / 2)
            return str(created.sid)

    def _slow_down(self) -> None:
        """A 429: every request of this process waits. 429s to requests sent before the pause began do
        not lengthen it; one after it doubles the next."""
        now = time.monotonic()
        if now >= self._paused_until:
            self._paused_until = now + self._pause
            self._pause = min(self._pause * 2, MAX_PAUSE)


def _shut_down(loop: asyncio.AbstractEventLoop, thread: threading.Thread, http: KeptConnections) -> None:
    if threading.current_thread() is thread:  # collected on the loop itself: it cannot wait for itself
        loop.call_soon(loop.stop)
        return
    if thread.is_alive():
        asyncio.run_coroutine_threadsafe(http.close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
    loop.close()


def _sender(settings: Mapping[str, Any]) -> dict[str, str]:
    """The messaging service when there is one (sender pools, higher rates), else the From number."""
    service = str(settings.get("TWILIO_MESSAGING_SERVICE_SID") or "")
    if service:
        return {"messaging_service_sid": service}
    number = str(settings.get("TWILIO_FROM") or "")
    if number:
        return {"from_": number}
    raise ValueError("SMS_GATEWAY=twilio needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")


def _throttled(exc: TwilioRestException) -> bool:
    return int(exc.status) == 429 or exc.code == THROTTLED


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
    if isinstance(exc, ConnectionTimeoutError):
        return Outcome.TRANSIENT, "timeout", "no connection to Twilio, not sent"
    if isinstance(exc, TimeoutError):  # aiohttp's read timeout among them
        return Outcome.TRANSIENT, "timeout", "no answer from Twilio, may have been sent"
    if isinstance(exc, ClientConnectorError):
        return Outcome.TRANSIENT, "connection", f"could not connect to Twilio, not sent: {type(exc.os_error).__name__}"
    if isinstance(exc, ClientError):
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
