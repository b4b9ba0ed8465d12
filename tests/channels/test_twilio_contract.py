"""The Twilio SMS adapter against the local Twilio peer: the shared contract, then what is Twilio's own."""
from __future__ import annotations

import logging

import pytest

from peers.twilio_peer import TwilioPeer
from tests.channels.contract import CHINESE, TIBETAN, AdapterContract, message
from warning_service.channels.base import GatewayUnavailable, Outcome
from warning_service.channels.catalog import settings_schema
from warning_service.channels.sms.twilio import STATUS_CALLBACK_PATH, TwilioSmsAdapter
from warning_service.config import Settings
from warning_service.logs import CHATTY_LIBRARIES

SENDER = "+15005550006"
SERVICE = "MG" + "3c" * 16
# Nothing listens here: these tests look at what reached Twilio, not at the callbacks.
PUBLIC_BASE_URL = "http://127.0.0.1:9/ews"


def twilio_settings(peer: TwilioPeer, **overrides) -> dict:
    return {**Settings(CHANNEL_SETTINGS=settings_schema()).as_flask_config(), "SMS_GATEWAY": "twilio", "TWILIO_ACCOUNT_SID": peer.account_sid,
            "TWILIO_AUTH_TOKEN": peer.auth_token, "TWILIO_FROM": SENDER, "TWILIO_API_BASE_URL": peer.base_url,
            "TWILIO_MAX_MPS": 10.0, "TWILIO_VALIDITY_PERIOD": 900, "PUBLIC_BASE_URL": PUBLIC_BASE_URL, **overrides}


@pytest.fixture
def peer():
    with TwilioPeer(hold_seconds=3.0) as running:
        yield running


@pytest.fixture
def short_timeouts(monkeypatch):
    """A gateway that never answers is given up after 1 s here, not the production 10 s; one that throttles
    every create after half a second of 429s."""
    monkeypatch.setattr(TwilioSmsAdapter, "read_timeout", 1.0)
    monkeypatch.setattr(TwilioSmsAdapter, "patience", 0.5)


@pytest.fixture
def build(peer, short_timeouts):
    """Adapters on the peer (or on `on`), closed after the test: their loop and kept connections."""
    built: list[TwilioSmsAdapter] = []

    def make(on: TwilioPeer | None = None, **overrides) -> TwilioSmsAdapter:
        built.append(TwilioSmsAdapter(twilio_settings(on or peer, **overrides)))
        return built[-1]

    yield make
    for adapter in built:
        adapter.close()


@pytest.fixture
def adapter(build):
    return build()


class TestTwilioContract(AdapterContract):
    good_address = "+8619912345678"
    bad_address = "+8619900000000"  # the peer refuses numbers ending in 0000, as Twilio does with 21211

    def addresses(self, count: int) -> list[str]:
        return [f"+86199123456{index:02d}" for index in range(1, count + 1)]


def test_each_language_is_its_own_message_in_order(adapter, peer):
    [result] = adapter.send_batch([message(5, "+8619912345678", texts=(TIBETAN, CHINESE))])
    received = peer.received()
    assert [r.texts for r in received] == [(TIBETAN,), (CHINESE,)]
    sids = [r.extra["sid"] for r in received]
    assert result.outcome == Outcome.ACCEPTED and result.gateway_id == sids[0]
    assert result.text == " ".join(sids)
    # Only the text whose SID the delivery keeps asks for status callbacks: the other's would move nothing.
    assert [r.extra["status_callback"] for r in received] == [PUBLIC_BASE_URL + STATUS_CALLBACK_PATH, None]


def test_status_callback_validity_and_sender_reach_twilio(adapter, peer):
    adapter.send_batch([message(5, "+8619912345678", texts=(CHINESE,))])
    [received] = peer.received()
    assert received.extra["status_callback"] == PUBLIC_BASE_URL + STATUS_CALLBACK_PATH
    assert received.extra["validity_period"] == "900"
    assert received.extra["from"] == SENDER and received.extra["messaging_service_sid"] is None


def test_a_messaging_service_sends_instead_of_the_from_number(build, peer):
    adapter = build(TWILIO_MESSAGING_SERVICE_SID=SERVICE)
    [result] = adapter.send_batch([message(5, "+8619912345678", texts=(CHINESE,))])
    assert result.outcome == Outcome.ACCEPTED
    [received] = peer.received()
    assert received.extra["messaging_service_sid"] == SERVICE and received.extra["from"] is None
    assert adapter.capabilities().rate_key == f"twilio:{peer.account_sid}:{SERVICE}"


def test_the_rate_is_the_accounts_setting(peer):
    capabilities = TwilioSmsAdapter(twilio_settings(peer, TWILIO_MAX_MPS=1.0)).capabilities()
    assert capabilities.rate_per_second == 1.0 and capabilities.burst == 1
    assert capabilities.rate_key == f"twilio:{peer.account_sid}:{SENDER}"


def test_a_body_twilio_refuses_fails_for_good_and_keeps_the_text_already_sent(adapter, peer):
    [result] = adapter.send_batch([message(5, "+8619912345678", texts=(CHINESE, "长" * 1601))])
    [first] = peer.received()
    assert result.outcome == Outcome.PERMANENT and result.code == "21617"
    assert result.gateway_id == first.extra["sid"] and "1 of 2 texts accepted" in result.text


def test_server_errors_say_the_message_may_have_gone_and_are_not_sent_again_here(adapter, peer):
    peer.fail("5xx")
    results = adapter.send_batch([message(5, "+8619912345678"), message(6, "+8619912345679", texts=(CHINESE,))])
    assert [(r.outcome, r.code) for r in results] == [(Outcome.TRANSIENT, "20500")] * 2
    assert all("may have been sent" in r.text for r in results)
    # One request each: the bilingual message stopped at its first text, and neither went again (the
    # fan-out decides on a retry that may send a text twice).
    assert peer.stats.requests == 2


def test_throttling_is_twilios_code_and_safe_to_retry(adapter, peer):
    peer.fail("429")
    [result] = adapter.send_batch([message(5, "+8619912345678")])
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, "20429") and "not sent" in result.text
    assert peer.stats.requests > 1, "a 429 was never processed: it goes again while the batch's patience lasts"


def test_creates_over_the_accounts_rate_go_again_until_accepted(build, monkeypatch):
    monkeypatch.setattr(TwilioSmsAdapter, "patience", 20.0)
    with TwilioPeer(rate=5.0) as limited:  # 5 creates a second, a bucket of 5: the rest are answered 429
        adapter = build(on=limited, TWILIO_MAX_IN_FLIGHT=10)
        results = adapter.send_batch([message(i, f"+86199123456{i:02d}", texts=(CHINESE,)) for i in range(1, 13)])
        assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 12
        stats = limited.stats
        assert stats.throttled > 0 and stats.created == 12
        assert stats.requests == stats.created + stats.throttled  # each 429 sent again once, nothing twice
        assert sorted(r.address for r in limited.received()) == [f"+86199123456{i:02d}" for i in range(1, 13)]


def test_creates_go_side_by_side_up_to_the_in_flight_bound(build):
    with TwilioPeer(latency=0.2) as slow:
        adapter = build(on=slow, TWILIO_MAX_IN_FLIGHT=4)
        results = adapter.send_batch([message(i, f"+86199123456{i:02d}", texts=(CHINESE,)) for i in range(1, 21)])
        assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 20
        assert slow.stats.peak_in_flight == 4  # never more than the bound, and the bound used


def test_connections_are_kept_across_batches(build, peer):
    adapter = build(TWILIO_MAX_IN_FLIGHT=3)
    for batch in range(3):
        results = adapter.send_batch([message(10 * batch + i, f"+86199123456{i:02d}", texts=(CHINESE,))
                                      for i in range(1, 7)])
        assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 6
    assert peer.stats.requests == 18 and 1 <= peer.stats.connections <= 3


def test_wrong_credentials_fail_the_check_and_are_retried(build):
    adapter = build(TWILIO_AUTH_TOKEN="not-the-token")
    with pytest.raises(GatewayUnavailable, match="Authenticate"):
        adapter.check()
    [result] = adapter.send_batch([message(5, "+8619912345678")])
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, "20003")


def test_check_names_the_account_and_sender(adapter, peer):
    assert adapter.check() == (f"twilio: account {peer.account_sid} (EWS test account) is active; "
                               f"sending with from_={SENDER}")


def test_missing_settings_are_refused_at_once(peer):
    with pytest.raises(ValueError, match="TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"):
        TwilioSmsAdapter(twilio_settings(peer, TWILIO_FROM=""))
    with pytest.raises(ValueError, match="TWILIO_AUTH_TOKEN"):
        TwilioSmsAdapter(twilio_settings(peer, TWILIO_AUTH_TOKEN=""))
    with pytest.raises(ValueError, match="TWILIO_MAX_IN_FLIGHT"):
        TwilioSmsAdapter(twilio_settings(peer, TWILIO_MAX_IN_FLIGHT=0))


def test_the_auth_token_never_reaches_the_logs(adapter, peer, caplog):
    caplog.set_level(logging.DEBUG)
    for name in CHATTY_LIBRARIES:  # quiet at INFO in the service; here every line they write is read
        caplog.set_level(logging.DEBUG, logger=name)
    adapter.check()
    results = adapter.send_batch([message(5, "+8619912345678"), message(6, "+8619900000000")])
    peer.fail("5xx")
    results += adapter.send_batch([message(7, "+8619912345678")])
    assert "Twilio API Request" in caplog.text, "the client's own request log should have been captured"
    assert peer.auth_token not in caplog.text
    assert all(peer.auth_token not in repr(result) for result in results)


def test_rate_tokens_are_segments_as_twilio_counts_them(adapter):
    """Twilio's MPS counts segments, so the shared bucket must too."""
    assert adapter.cost(message(1, "+8619900000001", texts=("short",))) == 1
    assert adapter.cost(message(2, "+8619900000001", texts=(CHINESE,))) == 1   # 21 UCS-2 units
    assert adapter.cost(message(3, "+8619900000001", texts=(CHINESE * 4,))) == 2  # 84 units: 2 parts of 67
    assert adapter.cost(message(4, "+8619900000001", texts=(TIBETAN, CHINESE))) == 2
