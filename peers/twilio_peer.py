"""A local Twilio for the SMS adapter's tests: a real HTTP server on 127.0.0.1 that plays Twilio's Messages API.

It answers as Twilio does: paths under /2010-04-01/Accounts/{sid}, HTTP basic
auth with the account SID and auth token, form parameters in, JSON out, and
Twilio's error codes (21211 invalid To, 21617 body too long, 20429 throttled,
20003 authenticate). After an accepted message it POSTs the status callbacks
(sent, then delivered, or the outcome set for that number) to the StatusCallback
URL, form-encoded and signed with the auth token exactly as Twilio signs them.

For load (bench/twilio.py): every answer comes `latency` seconds after the request; `rate` Messages
creates a second are allowed (a token bucket of `burst`, one second's worth by default), and a create
beyond them is answered 429 with code 20429, as an account over its limit is; `stats` counts the
connections and requests, the creates accepted and throttled, the requests being answered at once
and the most there ever were (`peak_in_flight`), and the callbacks made and how they were answered. The callbacks go from
`callback_workers` threads, each on a kept connection; `record` off keeps no message or callback,
only the counts.

Failure modes (`fail`): "slow" answers after `slow_seconds`; "5xx" answers 500
and keeps nothing (a Twilio that failed before it took the message; the adapter
must still treat a 5xx as possibly sent); "429" answers 429 with code 20429;
"timeout" holds the connection for `hold_seconds` without answering; "drop"
closes the socket without answering.
"""
from __future__ import annotations

import base64
import hmac
import http.client
import json
import queue
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from peers.received import FAILURE_MODES, Received
from warning_service.rendering.budgets import TWILIO_MAX_BODY, SmsBudget, utf16_units

API_VERSION = "2010-04-01"
ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "peer-auth-token-" + "7f" * 8
POOL_NUMBER = "+15017122661"  # the number a messaging service picks from its pool
E164 = re.compile(r"\+[1-9]\d{6,14}")
MESSAGES = re.compile(rf"/{API_VERSION}/Accounts/(?P<sid>AC\w+)/Messages\.json")
ACCOUNT = re.compile(rf"/{API_VERSION}/Accounts/(?P<sid>AC\w+)\.json")
THROTTLED = 20429


@dataclass(frozen=True)
class Callback:
    """A status callback the peer made, and what the receiver answered (None: no answer)."""

    url: str
    params: dict[str, str]
    answered: int | None


@dataclass
class Stats:
    connections: int = 0        # connections accepted
    requests: int = 0           # requests answered, or played a failure mode
    created: int = 0            # Messages creates accepted
    throttled: int = 0          # creates answered 429 for the rate (the "429" failure mode not counted)
    in_flight: int = 0          # requests being answered now
    peak_in_flight: int = 0     # the most there ever were at once
    callbacks: int = 0          # status callbacks made
    callbacks_ok: int = 0       # answered 2xx


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status}


@dataclass
class TwilioPeer:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    callback_delay: float = 0.2
    slow_seconds: float = 1.0
    hold_seconds: float = 5.0
    invalid_suffix: str = "0000"  # numbers Twilio refuses with 21211
    port: int = 0
    host: str = "127.0.0.1"  # another address when the service runs in network namespaces (tests/chaos_ha)
    # To number -> (final status, ErrorCode) instead of ("delivered", None).
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)
    latency: float = 0.0
    rate: float | None = None   # Messages creates a second; None: no limit
    burst: float | None = None  # the bucket's size; None: one second's worth
    callback_workers: int = 1
    record: bool = True

    def __post_init__(self) -> None:
        self.mode = "none"
        self.stats = Stats()
        self._received: list[Received] = []
        self._callbacks: list[Callback] = []
        self._lock = threading.Lock()
        self.released = threading.Event()
        self._pending: queue.Queue = queue.Queue()
        self._server: _Server | None = None
        self._tokens = 0.0
        self._refilled = time.monotonic()

    # --- control ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> TwilioPeer:
        self._tokens, self._refilled = float(self.burst or self.rate or 0), time.monotonic()
        self._server = _Server((self.host, self.port), _handler(self))
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="twilio-peer", daemon=True).start()
        for number in range(self.callback_workers):
            threading.Thread(target=self._call_back_forever, name=f"twilio-peer-callbacks-{number}", daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        for _ in range(self.callback_workers):
            self._pending.put(None)
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> TwilioPeer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def fail(self, mode: str) -> None:
        if mode not in FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; one of {FAILURE_MODES}")
        self.mode = mode

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def callbacks(self) -> list[Callback]:
        with self._lock:
            return list(self._callbacks)

    def wait_for_callbacks(self, count: int, timeout: float = 10.0) -> list[Callback]:
        deadline = time.monotonic() + timeout
        while len(self.callbacks()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.callbacks()

    # --- the API ---------------------------------------------------------------

    def authorised(self, header: str, sid: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return scheme == "Basic" and hmac.compare_digest(encoded, expected) and sid == self.account_sid

    def admitted(self) -> bool:
        """Whether the rate lets one more create through now (always, without a rate)."""
        if self.rate is None:
            return True
        with self._lock:
            now = time.monotonic()
            self._tokens = min(float(self.burst or self.rate), self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            if self._tokens < 1:
                self.stats.throttled += 1
                return False
            self._tokens -= 1
            return True

    def create_message(self, form: dict[str, str]) -> dict:
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From"), form.get("MessagingServiceSid")
        if not to:
            raise TwilioError(400, 21604, "A 'To' phone number is required.")
        if not E164.fullmatch(to) or to.endswith(self.invalid_suffix):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not (sender or service):
            raise TwilioError(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise TwilioError(400, 21602, "Message body is required.")
        if utf16_units(body) > TWILIO_MAX_BODY:
            raise TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        sid = "SM" + uuid.uuid4().hex
        with self._lock:
            self.stats.created += 1
            if self.record:
                self._received.append(Received(address=to, texts=(body,), extra={
                    "sid": sid, "from": sender, "messaging_service_sid": service,
                    "status_callback": form.get("StatusCallback"), "validity_period": form.get("ValidityPeriod"),
                }))
        if form.get("StatusCallback"):
            self._schedule_callbacks(form["StatusCallback"], sid, to, sender or POOL_NUMBER, service)
        return self._message_json(sid, to, sender, service, body)

    def account_json(self) -> dict:
        now = formatdate(usegmt=False)
        return {"sid": self.account_sid, "owner_account_sid": self.account_sid, "friendly_name": "EWS test account",
                "status": "active", "type": "Full", "auth_token": self.auth_token, "date_created": now,
                "date_updated": now, "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json"}

    def _message_json(self, sid: str, to: str, sender: str | None, service: str | None, body: str) -> dict:
        now = formatdate(usegmt=False)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid, "api_version": API_VERSION, "body": body, "date_created": now,
            "date_sent": None, "date_updated": now, "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": sender, "messaging_service_sid": service, "num_media": "0",
            "num_segments": str(SmsBudget().measure(body).parts), "price": None, "price_unit": "USD", "sid": sid,
            "status": "accepted" if service else "queued", "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": to, "uri": f"{uri}.json",
        }

    # --- status callbacks --------------------------------------------------------

    def call_back(self, url: str, sid: str, to: str) -> None:
        """Post the status callbacks of a message this peer never took (bench/twilio.py's web tier run)."""
        self._schedule_callbacks(url, sid, to, POOL_NUMBER, None)

    def _schedule_callbacks(self, url: str, sid: str, to: str, sender: str, service: str | None) -> None:
        common = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid, "From": sender, "To": to,
                  "ApiVersion": API_VERSION}
        if service:
            common["MessagingServiceSid"] = service
        final, error_code = self.outcomes.get(to, ("delivered", None))
        now = time.monotonic()
        for step, (status, code) in enumerate((("sent", None), (final, error_code)), start=1):
            params = {**common, "MessageStatus": status, "SmsStatus": status}
            if code:
                params["ErrorCode"] = code
            self._pending.put((now + step * self.callback_delay, url, params))

    def _call_back_forever(self) -> None:
        connections: dict[str, http.client.HTTPConnection] = {}  # this thread's, kept while the server keeps them
        while (item := self._pending.get()) is not None:
            due, url, params = item
            time.sleep(max(0.0, due - time.monotonic()))
            answered = self._post_signed(connections, url, params)
            with self._lock:
                self.stats.callbacks += 1
                if answered is not None and 200 <= answered < 300:
                    self.stats.callbacks_ok += 1
                if self.record:
                    self._callbacks.append(Callback(url, params, answered))
        for connection in connections.values():
            connection.close()

    def _post_signed(self, connections: dict[str, http.client.HTTPConnection], url: str,
                     params: dict[str, str]) -> int | None:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        parts = urlsplit(url)
        connection = connections.get(parts.netloc)
        if connection is None:
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connection = connections[parts.netloc] = kind(parts.netloc, timeout=5)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=urlencode(params), headers={
                "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "TwilioProxy/1.1",
            })
            with connection.getresponse() as response:
                response.read()
                return response.status
        except (OSError, http.client.HTTPException):
            connection.close()  # opened again by the next request
            return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a held 'timeout' connection must not hold up stop()
    request_queue_size = 1024  # a pool of clients connecting at once is not refused

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (it gave up on a slow answer) is expected here; anything else is not."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(peer: TwilioPeer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the client's pooled session expects

        def setup(self) -> None:
            super().setup()
            with peer._lock:
                peer.stats.connections += 1

        def do_GET(self) -> None:
            self._serve(ACCOUNT, lambda: (200, peer.account_json()))

        def do_POST(self) -> None:
            form = {k: v[0] for k, v in parse_qs(self._body().decode(), keep_blank_values=True).items()}
            self._serve(MESSAGES, lambda: (201, peer.create_message(form)), limited=True)

        def _serve(self, route: re.Pattern, respond: Callable[[], tuple[int, dict]], limited: bool = False) -> None:
            started = time.monotonic()
            with peer._lock:
                peer.stats.requests += 1
                peer.stats.in_flight += 1
                peer.stats.peak_in_flight = max(peer.stats.peak_in_flight, peer.stats.in_flight)
            try:
                self._answer(route, respond, limited, started)
            finally:
                with peer._lock:
                    peer.stats.in_flight -= 1

        def _answer(self, route: re.Pattern, respond: Callable[[], tuple[int, dict]], limited: bool,
                    started: float) -> None:
            if self._failed():
                return
            match = route.fullmatch(self.path)
            try:
                if not match:
                    raise TwilioError(404, 20404, f"The requested resource {self.path} was not found")
                if not peer.authorised(self.headers.get("Authorization", ""), match["sid"]):
                    raise TwilioError(401, 20003, "Authenticate")
                if limited and not peer.admitted():
                    raise TwilioError(429, THROTTLED, "Too Many Requests")
                answer = respond()
            except TwilioError as error:
                answer = error.status, error.body()
            time.sleep(max(0.0, started + peer.latency - time.monotonic()))
            self._json(*answer)

        def _failed(self) -> bool:
            """Play the failure mode; True when the request has been dealt with."""
            mode = peer.mode
            if mode == "slow":
                time.sleep(peer.slow_seconds)
            elif mode == "5xx":
                self._json(500, TwilioError(500, 20500, "An internal server error has occurred").body())
            elif mode == "429":
                self._json(429, TwilioError(429, THROTTLED, "Too Many Requests").body())
            elif mode in ("timeout", "drop"):
                if mode == "timeout":
                    peer.released.wait(peer.hold_seconds)
                self.close_connection = True
            return mode not in ("none", "slow")

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:
            """Quiet: the tests assert on what arrived, not on access logs."""

    return Handler
