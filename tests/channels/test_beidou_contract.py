"""The BeiDou terminal adapter against a simulated terminal on loopback (socket:// for pyserial)."""
from __future__ import annotations

import socket
from itertools import pairwise

import pytest

from peers.beidou_peer import BeidouPeer
from tests.channels.contract import CHINESE, TIBETAN, AdapterContract, message
from warning_service.channels.base import GatewayUnavailable, Outcome
from warning_service.channels.beidou import FULL_WIDTH, BeidouAdapter, checksum, sentence
from warning_service.config import Settings
from warning_service.rendering.tibetan import BreakKind, break_opportunities, normalise

# Long enough for the simulator's "slow" answers, short enough for the contract's patience.
REPLY_TIMEOUT = 1.0
GROUP = "1933442"


def beidou_adapter(peer: BeidouPeer, **overrides) -> BeidouAdapter:
    adapter = BeidouAdapter({**Settings().as_flask_config(), "BEIDOU_SERIAL_URL": peer.url, **overrides})
    adapter.reply_timeout = REPLY_TIMEOUT
    return adapter


@pytest.fixture
def peer():
    with BeidouPeer(group=GROUP) as running:
        yield running


@pytest.fixture
def adapter(peer):
    adapter = beidou_adapter(peer)
    yield adapter
    adapter.close()


class TestBeidouContract(AdapterContract):
    good_address = "0247601"
    bad_address = "0999999"  # in the simulator's no-permission set
    patience = 5.0

    def addresses(self, count: int) -> list[str]:
        return [f"02476{i:02d}" for i in range(1, count + 1)]


def sends(peer: BeidouPeer, kind: bytes = b"$CCTXA") -> list[bytes]:
    return [line for line in peer.lines if line.startswith(kind)]


def test_checksum_is_the_xor_between_dollar_and_star():
    assert checksum(b"CCICA,0,00") == "7B"
    assert sentence(b"CCICA,0,00") == b"$CCICA,0,00*7B\r\n"
    assert checksum(b"CCICR,0,00") == "68"


def test_card_info_is_read_from_the_card(adapter, peer):
    card = adapter.card_info()
    assert (card.address, card.interval, card.level, card.group) == ("0241636", peer.interval, 3, GROUP)
    assert adapter.check() == "card 0241636, interval 0.2 s, 14000 bits, level 3, group 1933442, protocol 2.1"
    capabilities = adapter.capabilities()
    assert capabilities.rate_key == "beidou:0241636" and capabilities.burst == 1
    assert capabilities.rate_per_second == pytest.approx(1 / peer.interval)


def test_a_terminal_that_cannot_be_reached_is_unavailable():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    adapter = BeidouAdapter({**Settings().as_flask_config(), "BEIDOU_SERIAL_URL": f"socket://127.0.0.1:{port}"})
    with pytest.raises(GatewayUnavailable):
        adapter.check()
    [result] = adapter.send_batch([message(1, "0247601")])
    assert result.outcome == Outcome.TRANSIENT and result.code == "line-down"


def test_chinese_goes_in_chinese_mode_and_arrives_intact(adapter, peer):
    [result] = adapter.send_batch([message(1, "0247601", texts=(CHINESE,))])
    assert result.outcome == Outcome.ACCEPTED, result
    [line] = sends(peer)
    assert line.startswith(b"$CCTXA,0247601,1,0," + CHINESE.encode("gb2312") + b"*")
    [received] = peer.received()
    assert received.texts == (CHINESE,) and received.extra["mode"] == "chinese"


def test_tibetan_goes_in_mixed_mode_as_utf8_and_arrives_intact(adapter, peer):
    [result] = adapter.send_batch([message(1, "0247601", texts=(TIBETAN,))])
    assert result.outcome == Outcome.ACCEPTED, result
    [line] = sends(peer)
    assert line.startswith(b"$CCTXA,0247601,1,2,A4" + normalise(TIBETAN).encode().hex().upper().encode() + b"*")
    [received] = peer.received()
    assert received.texts == (normalise(TIBETAN),) and received.extra["mode"] == "mixed"


def test_a_text_over_the_capacity_goes_in_numbered_parts_cut_between_syllables(peer):
    adapter = beidou_adapter(peer, BEIDOU_CAPACITY_BITS=400, BEIDOU_MAX_PARTS=5)
    [result] = adapter.send_batch([message(1, "0247601", texts=(TIBETAN,))])
    assert result.outcome == Outcome.ACCEPTED, result
    [received] = peer.received()
    text = normalise(TIBETAN)
    assert received.texts == (text,) and received.extra["parts"] == len(sends(peer)) > 1
    syllable_ends = {b.index for b in break_opportunities(text) if b.kind >= BreakKind.PHRASE}
    cuts = [sum(map(len, received.extra["pieces"][:i])) for i in range(1, received.extra["parts"])]
    assert set(cuts) <= syllable_ends
    for line in sends(peer):
        content = line.split(b",")[4].split(b"*")[0]
        assert content.startswith(b"A4") and (len(content) - 2) // 2 * 8 <= 400
    adapter.close()


def test_numbered_chinese_parts_stay_in_chinese_mode(peer):
    adapter = beidou_adapter(peer, BEIDOU_CAPACITY_BITS=14 * 10, BEIDOU_MAX_PARTS=5)
    [result] = adapter.send_batch([message(1, "0247601", texts=(CHINESE,))])
    assert result.outcome == Outcome.ACCEPTED, result
    [received] = peer.received()
    assert received.texts == (CHINESE,) and received.extra["mode"] == "chinese" and received.extra["parts"] > 1
    assert sends(peer)[0].startswith(b"$CCTXA,0247601,1,0," + f"1/{received.extra['parts']} ".translate(FULL_WIDTH).encode("gb2312"))
    adapter.close()


def test_a_text_that_needs_more_parts_than_allowed_fails_for_good(peer):
    adapter = beidou_adapter(peer, BEIDOU_CAPACITY_BITS=400, BEIDOU_MAX_PARTS=1)
    [result] = adapter.send_batch([message(1, "0247601", texts=(TIBETAN,))])
    assert result.outcome == Outcome.PERMANENT and result.code == "too-long"
    assert sends(peer) == []
    adapter.close()


def test_sends_are_never_closer_than_the_card_interval(adapter, peer):
    results = adapter.send_batch([message(i, f"02476{i:02d}") for i in range(1, 4)])
    assert all(r.outcome == Outcome.ACCEPTED for r in results), results
    times = sorted(t for received in peer.received() for t in received.extra["times"])
    assert len(times) == 6
    assert all(later - earlier >= peer.interval for earlier, later in pairwise(times))


def test_a_frequency_refusal_is_transient_with_the_wait(adapter, peer):
    peer.fail("429")
    [result] = adapter.send_batch([message(1, "0247601")])
    assert result.outcome == Outcome.TRANSIENT and result.code == "frequency"
    assert result.retry_after and result.retry_after >= 1
    assert "$BDFKI,TXA,N,N,0,0001" in result.text


def test_the_card_itself_refuses_a_send_sooner_than_its_interval(peer):
    first, second = beidou_adapter(peer), beidou_adapter(peer)  # two processes on one card: a misconfiguration
    assert first.send_batch([message(1, "0247601", texts=(CHINESE,))])[0].outcome == Outcome.ACCEPTED
    [result] = second.send_batch([message(2, "0247602", texts=(CHINESE,))])
    assert result.outcome == Outcome.TRANSIENT and result.code == "frequency" and result.retry_after
    first.close()
    second.close()


def test_a_reply_with_a_bad_checksum_is_transient(adapter, peer):
    adapter.check()
    peer.fail("bad_checksum")
    [result] = adapter.send_batch([message(1, "0247601", texts=(CHINESE,))])
    assert result.outcome == Outcome.TRANSIENT and result.code == "garbled"
    assert "garbled reply" in result.text


def test_a_slow_terminal_is_waited_for(adapter, peer):
    peer.fail("slow")
    [result] = adapter.send_batch([message(1, "0247601", texts=(CHINESE,))])
    assert result.outcome == Outcome.ACCEPTED


def test_after_a_timeout_the_rest_of_the_batch_is_not_tried_and_the_port_reopens(adapter, peer):
    adapter.check()
    peer.fail("timeout")
    results = adapter.send_batch([message(1, "0247601"), message(2, "0247602")])
    assert [r.code for r in results] == ["timeout", "timeout"] and "not tried" in results[1].text
    peer.fail("none")
    [result] = adapter.send_batch([message(3, "0247603")])
    assert result.outcome == Outcome.ACCEPTED


def test_no_permission_is_permanent_with_the_reason_code(adapter, peer):
    [result] = adapter.send_batch([message(1, "0999999")])
    assert result.outcome == Outcome.PERMANENT and result.code == "6"
    assert "no permission" in result.text and "$BDFKI,TXA,N,Y,6,0000" in result.text


def test_an_address_that_is_no_card_fails_for_good_without_sending(adapter, peer):
    [result] = adapter.send_batch([message(1, "+8613800000000")])
    assert result.outcome == Outcome.PERMANENT and result.code == "invalid-address"
    assert sends(peer) == []


def test_the_cards_group_address_is_a_broadcast_to_the_group(adapter, peer):
    [result] = adapter.send_batch([message(1, GROUP, texts=(CHINESE,))])
    assert result.outcome == Outcome.ACCEPTED and result.text.startswith("to the card's group")
    [received] = peer.received()
    assert received.extra["broadcast"]


def test_the_bds3_sentences_work_too(peer):
    adapter = beidou_adapter(peer, BEIDOU_PROTOCOL="bds3")
    assert adapter.check().endswith("protocol bds3")
    results = adapter.send_batch([message(1, "0247601"), message(2, "0999999")])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.PERMANENT] and results[1].code == "6"
    lines = sends(peer, b"$CCTCQ")
    assert lines[0].startswith(b"$CCTCQ,0247601,2,1,3,A4" + normalise(TIBETAN).encode().hex().upper().encode() + b",0*")
    assert lines[1].startswith(b"$CCTCQ,0247601,2,1,1," + CHINESE.encode("gb2312").hex().upper().encode() + b",0*")
    assert [r.texts for r in peer.received()] == [(normalise(TIBETAN),), (CHINESE,)]
    peer.fail("429")
    [result] = adapter.send_batch([message(3, "0247601")])
    assert result.outcome == Outcome.TRANSIENT and result.code == "frequency" and result.retry_after
    adapter.close()
