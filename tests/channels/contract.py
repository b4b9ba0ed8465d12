"""The contract every channel adapter keeps, run against each adapter and its peer.

An adapter's test module subclasses `AdapterContract` and provides two fixtures:
- `adapter`: the adapter, configured to reach the running peer;
- `peer`: the peer (peers/), with `received() -> list[Received]` (what reached the gateway,
  in order) and `fail(mode)` where mode is one of peers.received.FAILURE_MODES ("none" restores it);
and the class attributes `good_address` / `bad_address` (an address the gateway
refuses for good) for its channel, and `secret` when its targets sign with a key of
their own (broadcast platforms). Every test name contains `contract`.
"""
from __future__ import annotations

import time
import unicodedata
from datetime import UTC, datetime, timedelta

from tests.support.text import CHINESE, TIBETAN
from warning_service.channels.base import AlertContent, Capabilities, ChannelAdapter, OutboundMessage, Outcome


def content(status: str = "Actual", msg_type: str = "Alert") -> AlertContent:
    now = datetime.now(UTC).replace(microsecond=0)
    return AlertContent(
        alert_id=42, identifier="CONTRACT-42", sender="seismic.demo@ews.example", status=status, msg_type=msg_type,
        hazard_code="earthquake", level="red", event="地震", onset=now, expires=now + timedelta(hours=2), sent=now,
        county_codes=("513301", "513322"),
        titles={"bo": "ས་ཡོམ།", "zh": "地震预警"}, bodies={"bo": TIBETAN, "zh": CHINESE},
    )


def message(delivery_id: int, address: str, texts: tuple[str, ...] = (TIBETAN, CHINESE), secret: str | None = None,
            **content_fields) -> OutboundMessage:
    return OutboundMessage(delivery_id=delivery_id, address=address, texts=texts, content=content(**content_fields),
                           secret=secret)


class AdapterContract:
    good_address: str
    bad_address: str
    secret: str | None = None  # the targets' own key, given with every message
    # How long a failing peer may take before the adapter must have given up (seconds).
    patience: float = 30.0

    def message(self, delivery_id: int, address: str) -> OutboundMessage:
        """The contract's message to an address, with the class's `secret`."""
        return message(delivery_id, address, secret=self.secret)

    def addresses(self, count: int) -> list[str]:
        """Distinct good addresses; adapters whose channel has one address (a card) may override."""
        return [self.good_address] * count

    def test_contract_capabilities_are_usable(self, adapter: ChannelAdapter):
        capabilities = adapter.capabilities()
        assert isinstance(capabilities, Capabilities)
        assert capabilities.max_batch >= 1 and capabilities.rate_key
        assert capabilities.rate_per_second is None or capabilities.rate_per_second > 0

    def test_contract_one_accepted_result_per_message_and_the_peer_has_them(self, adapter, peer):
        messages = [self.message(100 + i, address) for i, address in enumerate(self.addresses(3))]
        results = adapter.send_batch(messages)
        assert sorted(r.delivery_id for r in results) == [100, 101, 102]
        assert all(r.outcome == Outcome.ACCEPTED and r.gateway_id for r in results), results
        assert len({r.gateway_id for r in results}) == 3
        received = peer.received()
        assert len(received) >= 3
        assert {r.address for r in received} >= set(self.addresses(3))

    def test_contract_tibetan_and_chinese_arrive_intact(self, adapter, peer):
        [result] = adapter.send_batch([self.message(7, self.good_address)])
        assert result.outcome == Outcome.ACCEPTED
        arrived = "".join(text for r in peer.received() for text in r.texts)
        for text in (TIBETAN, CHINESE):
            assert unicodedata.normalize("NFC", text) in arrived

    def test_contract_an_empty_batch_sends_nothing(self, adapter, peer):
        assert adapter.send_batch([]) == []
        assert peer.received() == []

    def test_contract_a_refused_address_fails_for_good_with_the_gateways_code(self, adapter, peer):
        batch = [self.message(1, self.bad_address), self.message(2, self.good_address)]
        results = {r.delivery_id: r for r in adapter.send_batch(batch)}
        assert results[1].outcome == Outcome.PERMANENT and results[1].code
        assert results[2].outcome == Outcome.ACCEPTED

    def test_contract_server_errors_are_transient(self, adapter, peer):
        peer.fail("5xx")
        results = adapter.send_batch([self.message(1, self.good_address), self.message(2, self.addresses(2)[1])])
        assert [r.outcome for r in results] == [Outcome.TRANSIENT] * 2
        assert all(r.code for r in results)

    def test_contract_throttling_is_transient(self, adapter, peer):
        peer.fail("429")
        [result] = adapter.send_batch([self.message(1, self.good_address)])
        assert result.outcome == Outcome.TRANSIENT

    def test_contract_a_dropped_connection_is_transient(self, adapter, peer):
        peer.fail("drop")
        [result] = adapter.send_batch([self.message(1, self.good_address)])
        assert result.outcome == Outcome.TRANSIENT

    def test_contract_a_gateway_that_never_answers_is_transient_in_bounded_time(self, adapter, peer):
        peer.fail("timeout")
        started = time.monotonic()
        [result] = adapter.send_batch([self.message(1, self.good_address)])
        assert result.outcome == Outcome.TRANSIENT
        assert time.monotonic() - started < self.patience

    def test_contract_check_reaches_the_gateway(self, adapter, peer):
        assert adapter.check()
