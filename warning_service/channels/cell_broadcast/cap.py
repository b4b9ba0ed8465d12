"""The operators' Cell Broadcast Centres over HTTP (CELL_BROADCAST_GATEWAY=cap): one POST of a CAP 1.2
<alert> per message, docs/CHANNELS.md's wire contract.

Each message carries its CAP document ready (message.py builds it per alert version and operator),
the CBC's URL, its failover URL and the bearer token. The answers:
  2xx {"cbc_message_id": ...}   accepted: the id is the gateway's
  4xx                           refused for good, with the CBC's reason
  5xx, 429, no answer in time   transient: the failover URL at once (seconds matter), then the fan-out's
                                retries, each again primary first
A resend is safe: the same identifier with the same bytes is a repeat the CBC answers again.
The adapter lives as long as its worker, and so do its sending threads and their connections: no
thread is started nor connection opened per message where the CBC keeps connections open.

The token is never logged nor put in a result.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from ..base import Capabilities, ChannelAdapter, OutboundMessage, Outcome, SendResult

logger = logging.getLogger(__name__)
CONTENT_TYPE = "application/cap+xml; charset=utf-8"
PARALLEL = 8  # operators posted to at once: every CBC at the same moment, not one after another
MAX_TEXT = 300  # of a CBC's reason, as recorded


@dataclass(frozen=True)
class Answer:
    """What one POST came to."""

    outcome: Outcome
    code: str
    text: str = ""
    cbc_message_id: str | None = None
    retry_after: float | None = None


def post_cap(url: str, document: bytes, token: str, timeout: float, session: requests.Session | None = None) -> Answer:
    """POST one CAP document to one CBC URL and read its answer (over `session`'s connections when given)."""
    headers = {"Content-Type": CONTENT_TYPE, "Authorization": f"Bearer {token}"}
    post = session.post if session is not None else requests.post
    try:
        response = post(url, data=document, headers=headers, timeout=timeout, allow_redirects=False)
    except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL):
        return Answer(Outcome.PERMANENT, "bad-url", "the CBC's URL is not an http(s) URL")
    except requests.Timeout:
        return Answer(Outcome.TRANSIENT, "timeout", f"no answer within {timeout:g} s")
    except requests.RequestException as exc:
        return Answer(Outcome.TRANSIENT, "connection", type(exc).__name__)
    status = response.status_code
    body = _json(response)
    reason = str(body.get("reason") or body.get("error") or response.reason or "")[:MAX_TEXT]
    if 200 <= status < 300:
        cbc_message_id = body.get("cbc_message_id")
        if not isinstance(cbc_message_id, str) or not cbc_message_id:
            # Sending again is safe (the same bytes are a repeat), and its answer may carry the id.
            return Answer(Outcome.TRANSIENT, "no-id", "the CBC answered without a cbc_message_id")
        return Answer(Outcome.ACCEPTED, str(status), cbc_message_id=cbc_message_id[:64])
    if status == 429 or status >= 500:
        retry_after = response.headers.get("Retry-After", "").strip()
        return Answer(Outcome.TRANSIENT, str(status), reason, retry_after=float(retry_after) if retry_after.isdigit() else None)
    return Answer(Outcome.PERMANENT, str(status), reason)


def _json(response: requests.Response) -> dict:
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class CbcAdapter(ChannelAdapter):
    name = "cap"
    channels = frozenset({"cell_broadcast"})

    def __init__(self, settings: Mapping[str, Any]):
        super().__init__(settings)
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="cbc")
        self._local = threading.local()

    def _session(self) -> requests.Session:
        """The sending thread's own (requests does not promise a Session is safe across threads)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def capabilities(self) -> Capabilities:
        # No shared rate: one message per operator per alert version.
        return Capabilities(max_batch=64, rate_per_second=None, rate_key="cbc")

    @property
    def timeout(self) -> float:
        return float(self.settings.get("CELL_BROADCAST_TIMEOUT_SECONDS", 3.0))

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        if not messages:
            return []
        return list(self._pool.map(self._send, messages))

    def _send(self, message: OutboundMessage) -> SendResult:
        if not message.secret:
            return SendResult(message.delivery_id, Outcome.PERMANENT, code="no-token", text="the CBC has no bearer token")
        [document] = message.texts
        session = self._session()
        answer = post_cap(message.address, document.encode(), message.secret, self.timeout, session)
        front = "primary"
        if answer.outcome == Outcome.TRANSIENT and message.failover_address:
            first = answer
            answer = post_cap(message.failover_address, document.encode(), message.secret, self.timeout, session)
            front = "failover"
            if answer.outcome == Outcome.TRANSIENT:
                answer = Answer(answer.outcome, answer.code, f"primary: {first.code} {first.text}; failover: "
                                f"{answer.code} {answer.text}"[:MAX_TEXT], retry_after=answer.retry_after)
        logger.info("cell broadcast alert=%s delivery=%s %s: %s %s", message.content.alert_id, message.delivery_id,
                    front, answer.outcome.value, answer.code,
                    extra={"alert_id": message.content.alert_id, "delivery_id": message.delivery_id, "front": front})
        text = answer.text or (f"accepted at the {front} URL" if answer.outcome == Outcome.ACCEPTED else None)
        return SendResult(message.delivery_id, answer.outcome, gateway_id=answer.cbc_message_id, code=answer.code,
                          text=text, retry_after=answer.retry_after)

    def check(self) -> str:
        """Nothing to reach but the CBCs themselves, which the link test reaches one by one (link.py)."""
        return f"{self.name}: each CBC, primary and failover, gets a link test"
