"""The cell broadcast adapter (CELL_BROADCAST_GATEWAY=cap) against a local CBC: the shared adapter contract,
the failover URL tried at once, refusals with the CBC's reason, and the token kept out of logs and results."""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from peers.cbc_peer import CbcPeer
from tests.channels.contract import AdapterContract
from tests.channels.contract import content as contract_content
from tests.support.text import CHINESE, TIBETAN
from warning_service.channels.base import OutboundMessage, Outcome
from warning_service.channels.catalog import settings_schema
from warning_service.channels.cell_broadcast.cap import CbcAdapter
from warning_service.channels.cell_broadcast.message import cap_message, version_of
from warning_service.config import Settings
from warning_service.models import Alert, CapStatus, CbcOperator, County, Level, MsgType

TOKEN = "cbc-contract-token-" + "e1" * 8
SECRET = "cbc-contract-secret"
TIMEOUT = 0.5


def settings(**overrides) -> dict:
    return {**Settings(CHANNEL_SETTINGS=settings_schema()).as_flask_config(), "CELL_BROADCAST_TIMEOUT_SECONDS": TIMEOUT, **overrides}


def document(alert_id: int, status: CapStatus = CapStatus.ACTUAL) -> str:
    """The CAP a CBC gets for an alert whose instruction is the contract's two texts."""
    sent = datetime.now(UTC).replace(microsecond=0)
    alert = Alert(id=alert_id, identifier=f"C-{alert_id}", sender="seismic.demo@ews.example", sent=sent, status=status,
                  msg_type=MsgType.ALERT, hazard_code="rainstorm", level=Level.RED, expires=sent + timedelta(hours=2),
                  area={"geocodes": [["GB/T 2260", "513301"]]}, headline={}, description={},
                  instruction={"bo": TIBETAN, "zh": CHINESE}, parameters={}, categories=[], response_types=[],
                  references=[])
    alert.counties = [County(code="513301")]
    operator = CbcOperator(code="cmcc", max_vertices=100, identifiers={})
    return cap_message(version_of(alert, [], "ews@garze-ngawa.example"), operator, [], settings()).decode()


class UrlPeer(CbcPeer):
    """The CBC peer naming what it received by the URL it came to (the contract's address), not the operator."""

    def received(self):
        return [dataclasses.replace(message, address=self.url(message.extra["front"])) for message in super().received()]


class TestCbcContract(AdapterContract):
    patience = 5.0

    @pytest.fixture
    def peer(self):
        with UrlPeer("cmcc", TOKEN, SECRET, hold_seconds=3.0, slow_seconds=0.1) as running:
            self.good_address = running.url("primary")
            self.failover = running.url("failover")
            self.bad_address = running.url("primary") + "/elsewhere"  # the CBC answers 404: refused for good
            yield running

    @pytest.fixture
    def adapter(self, peer):
        return CbcAdapter(settings())

    def message(self, delivery_id: int, address: str, **fields) -> OutboundMessage:
        return OutboundMessage(delivery_id=delivery_id, address=address, texts=(document(delivery_id),),
                               content=contract_content(), secret=TOKEN,
                               failover_address=self.failover if address == self.good_address else None, **fields)

    # --- failover -------------------------------------------------------------------

    @pytest.mark.parametrize("mode", ["5xx", "429", "timeout", "drop", "refuse"])
    def test_a_transient_failure_goes_to_the_failover_url_at_once(self, adapter, peer, mode):
        peer.fail(mode, "primary")
        started = time.monotonic()
        [result] = adapter.send_batch([self.message(1, self.good_address)])
        assert result.outcome == Outcome.ACCEPTED and result.gateway_id.startswith("cmcc-")
        assert time.monotonic() - started < TIMEOUT + 1.5  # no back-off between the two
        [received] = peer.received()
        assert received.extra["front"] == "failover" and result.text == "accepted at the failover URL"

    def test_both_urls_failing_is_transient_and_says_why_for_each(self, adapter, peer):
        peer.fail("5xx", "primary")
        peer.fail("refuse", "failover")
        [result] = adapter.send_batch([self.message(1, self.good_address)])
        assert (result.outcome, result.code) == (Outcome.TRANSIENT, "connection")
        assert result.text.startswith("primary: 500") and "failover: connection" in result.text

    def test_a_lost_answer_is_resent_to_the_failover_and_answered_as_a_repeat(self, adapter, peer):
        peer.fail("lost", "primary")
        [result] = adapter.send_batch([self.message(1, self.good_address)])
        assert result.outcome == Outcome.ACCEPTED
        [taken] = peer.received()  # taken once, though it arrived twice
        assert taken.extra["front"] == "primary" and result.gateway_id == taken.extra["cbc_message_id"]

    def test_a_refusal_is_not_tried_at_the_failover(self, adapter, peer):
        refused = dataclasses.replace(self.message(1, self.good_address), secret="not-the-token")
        [result] = adapter.send_batch([refused])
        assert (result.outcome, result.code, result.text) == (Outcome.PERMANENT, "401", "no or a wrong bearer token")
        assert [front for front, *_ in peer.refusals()] == ["primary"]

    def test_a_real_cbc_refuses_an_exercise_with_its_reason(self, adapter, peer):
        exercise = dataclasses.replace(self.message(1, self.good_address), texts=(document(1, CapStatus.EXERCISE),))
        [result] = adapter.send_batch([exercise])
        assert (result.outcome, result.code, result.text) == (Outcome.PERMANENT, "422", "a real CBC takes no exercises")

    def test_three_operators_at_once_not_one_after_another(self, adapter, peer):
        peer.slow_seconds = 0.4
        peer.fail("slow")
        started = time.monotonic()
        results = adapter.send_batch([self.message(i, self.good_address) for i in (1, 2, 3)])
        assert all(result.outcome == Outcome.ACCEPTED for result in results)
        assert time.monotonic() - started < 1.0

    def test_no_token_is_refused_unsent(self, adapter, peer):
        [result] = adapter.send_batch([dataclasses.replace(self.message(1, self.good_address), secret=None)])
        assert (result.outcome, result.code) == (Outcome.PERMANENT, "no-token") and peer.received() == []

    def test_a_malformed_url_fails_for_good(self, adapter):
        [result] = adapter.send_batch([self.message(1, "cbc.cmcc.example/cap")])
        assert (result.outcome, result.code) == (Outcome.PERMANENT, "bad-url")

    def test_the_token_is_never_logged_nor_returned(self, adapter, peer, caplog):
        caplog.set_level(logging.DEBUG)
        peer.fail("timeout", "primary")
        results = adapter.send_batch([self.message(1, self.good_address), self.message(2, self.failover + "/elsewhere")])
        assert {r.outcome for r in results} == {Outcome.ACCEPTED, Outcome.PERMANENT}
        assert "cell broadcast alert=42 delivery=1 failover: accepted" in caplog.text
        assert TOKEN not in caplog.text and all(TOKEN not in repr(result) for result in results)


class _KeepAlive(BaseHTTPRequestHandler):
    """A CBC front that keeps connections open (HTTP/1.1), as the peer (HTTP/1.0) does not: it notes each
    connection's client port."""

    protocol_version = "HTTP/1.1"
    connections: set[int]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.connections.add(self.client_address[1])
        body = json.dumps({"cbc_message_id": f"keep-{len(self.connections)}"}).encode()
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        """Quiet."""


def test_a_cbc_that_keeps_connections_open_is_sent_to_over_the_same_one():
    """No TCP (or TLS) handshake per message on the way to a CBC that keeps its connections: the adapter keeps
    its sending threads and each thread its connections, from one batch to the next."""
    handler = type("Handler", (_KeepAlive,), {"connections": set()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cap"
        adapter = CbcAdapter(settings())
        for delivery_id in (1, 2, 3):
            [result] = adapter.send_batch([OutboundMessage(delivery_id=delivery_id, address=url, texts=(document(delivery_id),),
                                                           content=contract_content(), secret=TOKEN)])
            assert result.outcome == Outcome.ACCEPTED
        assert len(handler.connections) == 1
    finally:
        server.shutdown()
        server.server_close()
