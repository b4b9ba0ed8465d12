"""The SMPP adapter against the local SMS centre (peers/smpp_peer.py): the shared contract, then what is SMPP's own:
the window, throttling, reconnecting, Tibetan in concatenated UCS-2 parts, and receipts into the database."""
from __future__ import annotations

import itertools
import socket
import threading
import time

import pytest
import smpplib.smpp
from sqlalchemy import select

from peers.smpp_peer import (
    BIND_TRANSCEIVER,
    DELIVER_SM,
    ENQUIRE_LINK,
    GENERIC_NACK,
    HEADER,
    MESSAGE_STATE,
    RALYBND,
    RECEIPTED_MESSAGE_ID,
    RESPONSE,
    RINVBNDSTS,
    RINVCMDID,
    RINVPASWD,
    RINVSYSID,
    ROK,
    RTHROTTLED,
    SUBMIT_SM,
    SmppPeer,
    c_octets,
    concatenation,
    parse_submit,
    pdu,
)
from tests.channels.contract import CHINESE, TIBETAN, AdapterContract, message
from tests.support.dispatch import new_alert, publish_now, work
from warning_service.channels.base import GatewayUnavailable, Outcome
from warning_service.channels.catalog import channel, settings_schema
from warning_service.channels.gateways import adapter_class
from warning_service.channels.receipts import apply_receipts
from warning_service.channels.sms.smpp import SmppAdapter, parse_receipt, ucs2_parts
from warning_service.channels.sms.smpp_receipts import Receipt
from warning_service.config import Settings
from warning_service.extensions import db
from warning_service.models import Delivery, DeliveryStatus, EarlyReceipt, Recipient
from warning_service.rendering.tibetan import break_opportunities, cluster_boundaries, normalise

SYSTEM_ID, PASSWORD, SOURCE = "ews", "s3cret", "12379"
RX_T_APPN = 0x64
LONG_TIBETAN = TIBETAN * 5  # 200 UTF-16 units: parts of at most 67, cut after a shad
PARTS = len(ucs2_parts(LONG_TIBETAN))
COUNTY = "513301"


class Collected:
    """A receipt sink that keeps what it is given (and can refuse, as a database that is down)."""

    def __init__(self, refusals: int = 0):
        self.receipts: list[Receipt] = []
        self.refusals = refusals

    def apply(self, receipts):
        if self.refusals:
            self.refusals -= 1
            raise RuntimeError("database unavailable")
        self.receipts.extend(receipts)

    def close(self) -> None:
        pass


def smpp_settings(peer: SmppPeer, **overrides) -> dict:
    host, port = peer.address
    return {**Settings(CHANNEL_SETTINGS=settings_schema()).as_flask_config(), "SMS_GATEWAY": "smpp", "SMPP_HOST": host, "SMPP_PORT": port,
            "SMPP_SYSTEM_ID": SYSTEM_ID, "SMPP_PASSWORD": PASSWORD, "SMPP_SOURCE_ADDR": SOURCE, "SMPP_WINDOW": 10,
            "SMPP_BINDS": 1, "SMPP_MAX_TPS": 100.0, **overrides}


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch):
    """Failing SMS centres are given up on in about a second here, not the production minute."""
    monkeypatch.setattr(SmppAdapter, "submit_timeout", 1.0)
    monkeypatch.setattr(SmppAdapter, "connect_timeout", 1.0)
    monkeypatch.setattr(SmppAdapter, "patience", 2.0)


@pytest.fixture
def peer():
    with SmppPeer(system_id=SYSTEM_ID, password=PASSWORD, receipt_delay=0.05, receipt_retry=0.1) as running:
        yield running


@pytest.fixture
def sink():
    return Collected()


@pytest.fixture
def build(peer, sink):
    """Adapters on the peer, closed after the test."""
    built: list[SmppAdapter] = []

    def make(receipts=None, **overrides) -> SmppAdapter:
        adapter = SmppAdapter(smpp_settings(peer, **overrides), receipts or sink)
        built.append(adapter)
        return adapter

    yield make
    for adapter in built:
        adapter.close()


@pytest.fixture
def adapter(build):
    return build()


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)


class TestSmppContract(AdapterContract):
    good_address = "+8619912345678"
    bad_address = "+8619900000000"  # the peer refuses destinations ending in 0000 (ESME_RINVDSTADR)
    patience = 10.0

    def addresses(self, count: int) -> list[str]:
        return [f"+86199123456{index:02d}" for index in range(1, count + 1)]


# --- settings and the registry -------------------------------------------------------------------------

def test_the_registry_names_it_smpp(peer):
    assert adapter_class("sms", smpp_settings(peer)) is SmppAdapter


def test_missing_or_oversized_settings_are_refused_at_once(peer, sink):
    with pytest.raises(ValueError, match="SMPP_HOST"):
        SmppAdapter(smpp_settings(peer, SMPP_HOST=""), sink)
    with pytest.raises(ValueError, match="password of 8"):
        SmppAdapter(smpp_settings(peer, SMPP_PASSWORD="longer-than-8"), sink)
    with pytest.raises(ValueError, match="SMPP_WINDOW"):
        SmppAdapter(smpp_settings(peer, SMPP_WINDOW=0), sink)


def test_the_rate_is_smpp_max_tps_in_submit_sm(adapter, peer):
    capabilities = adapter.capabilities()
    host, port = peer.address
    assert capabilities.rate_per_second == 100.0 and capabilities.burst == 100
    assert capabilities.rate_key == f"smpp:{host}:{port}:{SYSTEM_ID}"
    assert adapter.cost(message(1, "+8619900000001", texts=(CHINESE,))) == 1
    assert adapter.cost(message(2, "+8619900000001", texts=(LONG_TIBETAN, CHINESE))) == PARTS + 1


def test_check_names_the_bind_and_a_wrong_password_fails_it(build):
    assert build().check().startswith("smpp: bound to ")
    with pytest.raises(GatewayUnavailable, match="ESME_RINVPASWD"):
        build(SMPP_PASSWORD="wrong").check()


def test_a_refused_bind_is_transient_and_says_why(build):
    [result] = build(SMPP_PASSWORD="wrong").send_batch([message(1, "+8619912345678")])
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, "connection")
    assert "ESME_RINVPASWD" in result.text and "not sent" in result.text


# --- what goes over the wire ------------------------------------------------------------------------------

def test_addresses_and_a_receipt_asked_for_the_gateway_ids_part_only(adapter, peer):
    [result] = adapter.send_batch([message(1, "+8619912345678", texts=(LONG_TIBETAN, CHINESE))])
    submits = peer.submits()
    assert len(submits) == PARTS + 1
    assert all((s.source, s.source_ton, s.source_npi) == (SOURCE, 0, 1) for s in submits)
    assert all((s.address, s.dest_ton, s.data_coding) == ("+8619912345678", 1, 8) for s in submits)
    assert [s.message_id for s in submits if s.registered_delivery] == [result.gateway_id]


def test_an_alphanumeric_sender_goes_as_one(build, peer):
    build(SMPP_SOURCE_ADDR="EWS").send_batch([message(1, "+8619912345678", texts=(CHINESE,))])
    [submitted] = peer.submits()
    assert (submitted.source, submitted.source_ton, submitted.source_npi) == ("EWS", 5, 0)


def test_long_tibetan_goes_in_ucs2_parts_with_one_udh_and_no_stack_cut(adapter, peer):
    [result] = adapter.send_batch([message(1, "+8619912345678", texts=(LONG_TIBETAN,))])
    submits = peer.submits()
    text = normalise(LONG_TIBETAN)
    assert len(submits) == PARTS >= 3 and result.outcome == Outcome.ACCEPTED
    headers = [concatenation(s.udh) for s in submits]
    assert {s.esm_class for s in submits} == {0x40} and all(len(s.udh) == 6 for s in submits)
    assert len({reference for reference, _, _ in headers}) == 1
    assert [(total, number) for _, total, number in headers] == [(PARTS, n) for n in range(1, PARTS + 1)]
    assert all(len(s.text.encode("utf-16-be")) <= 134 for s in submits)
    assert "".join(s.text for s in submits) == text
    cuts = list(itertools.accumulate(len(s.text) for s in submits))[:-1]
    breaks = {b.index for b in break_opportunities(text)}
    assert all(cut in breaks and cut in cluster_boundaries(text) for cut in cuts)
    [received] = peer.received()
    assert received.texts == (text,) and received.extra["parts"] == PARTS
    assert result.gateway_id == received.extra["message_ids"][0]
    assert result.text.split() == received.extra["message_ids"]


def test_a_text_of_70_units_is_one_sms_and_71_are_two():
    assert len(ucs2_parts("康" * 70)) == 1
    assert [len(part) // 2 for part in ucs2_parts("康" * 71)] == [67, 4]


def test_a_character_beyond_the_bmp_is_never_split_across_parts():
    """A surrogate pair is one code point: split_parts never cuts inside it."""
    text = "康" * 66 + "𠀋" + "康" * 10  # U+2000B, two UTF-16 units, straddles unit 67
    parts = ucs2_parts(text)
    assert [part.decode("utf-16-be") for part in parts] == ["康" * 66, "𠀋" + "康" * 10]


# --- the window, throttling and reconnecting ------------------------------------------------------------

@pytest.mark.parametrize("binds", [1, 2])
def test_never_more_than_the_window_outstanding_on_a_bind(build, peer, binds):
    peer.window, peer.latency = 4, 0.05
    adapter = build(SMPP_WINDOW=4, SMPP_BINDS=binds)
    results = adapter.send_batch([message(i, f"+86199100000{i:02d}", texts=(CHINESE,)) for i in range(1, 41)])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 40
    assert peer.stats.window_exceeded == 0 and peer.stats.peak_outstanding == 4
    assert peer.connections() == binds


def test_throttled_parts_slow_down_and_go_again_never_lost(build, peer):
    peer.rate, peer.burst = 40.0, 5.0  # the bucket fills from empty at 40 a second, up to 5
    adapter = build(SMPP_WINDOW=10)
    started = time.monotonic()
    results = adapter.send_batch([message(i, f"+86199100000{i:02d}", texts=(CHINESE,)) for i in range(1, 31)])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 30
    assert peer.stats.throttled > 0 and peer.stats.accepted == 30
    assert time.monotonic() - started >= 25 / 40


@pytest.mark.parametrize("switch", ["throttle", "queue_full"])
def test_a_throttle_or_full_queue_that_lifts_loses_nothing(adapter, peer, switch):
    setattr(peer, switch, True)
    threading.Timer(0.5, setattr, (peer, switch, False)).start()
    results = adapter.send_batch([message(i, f"+86199100000{i:02d}", texts=(CHINESE,)) for i in range(1, 6)])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 5
    assert len(peer.received()) == 5


def test_a_throttle_that_outlasts_the_patience_is_transient_and_was_not_sent(adapter, peer):
    peer.queue_full = True
    [result] = adapter.send_batch([message(1, "+8619912345678", texts=(CHINESE,))])
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, "ESME_RMSGQFUL")
    assert "not sent" in result.text and result.retry_after > 0
    assert peer.received() == []


def test_other_refusals_fail_for_good_with_the_status_name(adapter):
    [result] = adapter.send_batch([message(1, "+8619900000000")])
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "ESME_RINVDSTADR")
    assert result.text.startswith("Invalid Destination Address")


def test_the_bind_is_kept_across_batches_and_reopened_when_lost(adapter, peer):
    adapter.send_batch([message(1, "+8619912345678", texts=(CHINESE,))])
    adapter.send_batch([message(2, "+8619912345678", texts=(CHINESE,))])
    assert peer.stats.binds == 1
    peer.drop_connections()
    [result] = adapter.send_batch([message(3, "+8619912345678", texts=(CHINESE,))])
    assert result.outcome == Outcome.ACCEPTED and peer.stats.binds == 2


def test_parts_in_flight_when_the_bind_is_lost_go_again(adapter, peer):
    peer.latency = 0.3
    threading.Timer(0.15, peer.drop_connections).start()
    results = adapter.send_batch([message(i, f"+86199100000{i:02d}", texts=(CHINESE,)) for i in range(1, 6)])
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 5
    assert peer.stats.binds == 2 and len({r.address for r in peer.received()}) == 5


def test_a_silent_link_is_asked_with_enquire_link(build, peer, monkeypatch):
    monkeypatch.setattr(SmppAdapter, "enquire_interval", 0.1)
    build().send_batch([message(1, "+8619912345678", texts=(CHINESE,))])
    wait_for(lambda: peer.stats.enquire_links >= 2)
    assert peer.stats.binds == 1


# --- receipts ------------------------------------------------------------------------------------------------

def test_the_gateway_ids_receipt_goes_to_the_database_before_it_is_answered(adapter, peer, sink):
    [result] = adapter.send_batch([message(1, "+8619912345678", texts=(LONG_TIBETAN, CHINESE))])
    wait_for(lambda: peer.stats.receipts_answered == 1)
    assert sink.receipts == [Receipt(result.gateway_id, "DELIVRD", "000")]


def test_a_receipt_the_database_refused_is_answered_so_and_comes_again(build, peer):
    refusing = Collected(refusals=1)
    [result] = build(receipts=refusing).send_batch([message(1, "+8619912345678", texts=(CHINESE,))])
    wait_for(lambda: peer.stats.receipts_answered == 1)  # the peer counts the answer after we applied it
    assert peer.stats.receipts_refused == 1
    assert refusing.receipts == [Receipt(result.gateway_id, "DELIVRD", "000")]


def test_receipts_are_read_from_the_text_when_there_are_no_tlvs():
    text = b"id:4F2A sub:001 dlvrd:000 submit date:2501011200 done date:2501011201 stat:UNDELIV err:012 text:"
    pdu = smpplib.smpp.make_pdu("deliver_sm", sequence=1, esm_class=0x04, short_message=text)
    receipt = parse_receipt(pdu)
    assert receipt == Receipt("4F2A", "UNDELIV", "012")
    assert receipt.status == DeliveryStatus.UNDELIVERED and receipt.code == "UNDELIV err:012"
    assert parse_receipt(smpplib.smpp.make_pdu("deliver_sm", sequence=2, esm_class=0, short_message=b"I am safe")) is None


@pytest.fixture
def through_the_fanout(app, monkeypatch, peer):
    """The app's SMS through the SMPP adapter to the peer, with recipients in one county."""
    for name, value in smpp_settings(peer, SMPP_MAX_TPS=1000.0).items():
        if name.startswith("SMPP_") or name == "SMS_GATEWAY":
            monkeypatch.setitem(app.config, name, value)
    app.extensions.pop("sender", None)
    db.session.add_all([Recipient(phone=f"+86199000012{i:02d}", languages="bo,zh", county_code=COUNTY, channels=["sms"])
                        for i in range(1, 6)])
    db.session.commit()
    yield peer
    sender = app.extensions.pop("sender", None)
    if sender is not None:
        sender.adapter(channel("sms")).close()


def sms_rows(alert_id: int) -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).where(Delivery.alert_id == alert_id,
                                                          Delivery.channel == "sms").order_by(Delivery.id)))


@pytest.mark.parametrize("receipts_first", [False, True], ids=["receipts-after", "receipts-before-submit-resp"])
def test_receipts_reach_the_deliveries_whenever_they_come(app, through_the_fanout, receipts_first):
    peer = through_the_fanout
    peer.receipts_first, peer.latency = receipts_first, 0.2
    peer.outcomes["8619900001205"] = "UNDELIV"
    alert = publish_now(new_alert(counties=(COUNTY,)))
    work(app)
    wait_for(lambda: peer.stats.receipts_answered == 5)  # one per recipient: its gateway id's

    def settled() -> bool:
        return all(row.status in (DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED) for row in sms_rows(alert.id))

    wait_for(settled)
    rows = sms_rows(alert.id)
    assert [row.status for row in rows] == [DeliveryStatus.DELIVERED] * 4 + [DeliveryStatus.UNDELIVERED]
    assert rows[-1].gateway_code == "UNDELIV err:001"
    assert all(row.gateway_id and row.delivered_at for row in rows[:4])
    assert db.session.scalars(select(EarlyReceipt)).all() == []
    received = {r.address for r in peer.received()}
    assert received == {f"+86199000012{i:02d}" for i in range(1, 6)}


# --- the batched receipts path ----------------------------------------------------------------------------

def test_a_batch_of_receipts_moves_forward_only_and_keeps_the_early_ones(app):
    alert = publish_now(new_alert(counties=(COUNTY,)))
    db.session.add(Recipient(phone="+8619900001299", languages="zh", county_code=COUNTY, channels=["sms"]))
    db.session.flush()
    sent = Delivery(alert_id=alert.id, channel="sms", target_id=1, county_code=COUNTY,
                    status=DeliveryStatus.SENT, gateway_id="A1", attempts=1)
    db.session.add(sent)
    db.session.commit()
    moved = apply_receipts(db.session, [("A1", DeliveryStatus.DELIVERED, None), ("A1", DeliveryStatus.SENT, None),
                                        ("B2", DeliveryStatus.SENT, None), ("B2", DeliveryStatus.UNDELIVERED, "UNDELIV")])
    assert moved == 1
    db.session.expire_all()
    assert db.session.get(Delivery, sent.id).status == DeliveryStatus.DELIVERED
    [early] = db.session.scalars(select(EarlyReceipt)).all()
    assert (early.gateway_id, early.status, early.code) == ("B2", DeliveryStatus.UNDELIVERED, "UNDELIV")


# --- the peer itself, through a bare socket and its own codec ----------------------------------------------

class Bare:
    """A client that writes PDUs as they are and reads whole ones."""

    def __init__(self, peer: SmppPeer):
        self.sock = socket.create_connection(peer.address, timeout=2)
        self.sequence = 0
        self.buffer = b""

    def send(self, command: int, body: bytes = b"") -> int:
        self.sequence += 1
        self.sock.sendall(pdu(command, 0, self.sequence, body))
        return self.sequence

    def answer(self, command: int, sequence: int, status: int = 0) -> None:
        self.sock.sendall(pdu(command, status, sequence, b"\x00"))

    def read(self) -> tuple[int, int, int, bytes]:
        while len(self.buffer) < 4 or len(self.buffer) < int.from_bytes(self.buffer[:4], "big"):
            chunk = self.sock.recv(65536)
            assert chunk, "the peer closed the connection"
            self.buffer += chunk
        length = int.from_bytes(self.buffer[:4], "big")
        raw, self.buffer = self.buffer[:length], self.buffer[length:]
        _, command, status, sequence = HEADER.unpack_from(raw)
        return command, status, sequence, raw[16:]

    def bind(self, system_id: str = SYSTEM_ID, password: str = PASSWORD) -> int:
        self.send(BIND_TRANSCEIVER, c_octets(system_id) + c_octets(password) + c_octets("") + bytes((0x34, 0, 0))
                  + c_octets(""))
        command, status, _, _ = self.read()
        assert command == BIND_TRANSCEIVER | RESPONSE
        return status

    def submit(self, destination: str = "8619912345678", registered_delivery: int = 1) -> int:
        text = "康定".encode("utf-16-be")
        return self.send(SUBMIT_SM, c_octets("") + bytes((0, 1)) + c_octets(SOURCE) + bytes((1, 1))
                         + c_octets(destination) + bytes((0, 0, 0)) + c_octets("") + c_octets("")
                         + bytes((registered_delivery, 0, 8, 0, len(text))) + text)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def bare(peer):
    clients: list[Bare] = []

    def connect() -> Bare:
        clients.append(Bare(peer))
        return clients[-1]

    yield connect
    for client in clients:
        client.close()


def test_the_peer_checks_the_bind(bare):
    assert bare().bind(system_id="someone") == RINVSYSID
    assert bare().bind(password="wrong") == RINVPASWD
    client = bare()
    assert client.bind() == ROK and client.bind() == RALYBND


def test_the_peer_answers_what_it_does_not_take_with_generic_nack(bare):
    client = bare()
    client.submit()
    assert client.read()[:2] == (GENERIC_NACK, RINVBNDSTS)  # not bound yet
    client.bind()
    client.send(0x00000103)  # data_sm: not an SMS centre of this kind's
    assert client.read()[:2] == (GENERIC_NACK, RINVCMDID)
    client.send(ENQUIRE_LINK)
    assert client.read()[:2] == (ENQUIRE_LINK | RESPONSE, ROK)


def test_the_peer_throttles_above_its_rate_and_its_window():
    with SmppPeer(system_id=SYSTEM_ID, password=PASSWORD, rate=1.0, burst=2.0) as limited:
        client = Bare(limited)
        client.bind()
        for _ in range(4):
            client.submit(registered_delivery=0)
        assert [client.read()[1] for _ in range(4)] == [ROK, ROK, RTHROTTLED, RTHROTTLED]  # a bucket of two
        limited.rate, limited.window, limited.latency = None, 2, 0.2
        for _ in range(3):
            client.submit(registered_delivery=0)
        assert [client.read()[1] for _ in range(3)] == [ROK, ROK, RTHROTTLED]  # the third is past the window
        assert limited.stats.window_exceeded == 1 and limited.stats.peak_outstanding == 3
        client.close()


def test_the_peer_sends_receipts_and_sends_a_refused_one_again(bare, peer):
    client = bare()
    client.bind()
    client.submit()
    command, status, _, body = client.read()
    message_id = body.rstrip(b"\x00").decode()
    assert (command, status) == (SUBMIT_SM | RESPONSE, ROK)
    deliveries = []
    for answer in (RX_T_APPN, ROK):
        command, _, sequence, body = client.read()
        assert command == DELIVER_SM
        deliveries.append(parse_submit(body))
        client.answer(DELIVER_SM | RESPONSE, sequence, answer)
    wait_for(lambda: peer.stats.receipts_answered == 1)
    assert peer.stats.receipts_refused == 1
    for receipt in deliveries:
        assert receipt["esm_class"] == 0x04 and receipt["source"] == "8619912345678" and receipt["destination"] == SOURCE
        assert receipt["tlvs"][RECEIPTED_MESSAGE_ID] == message_id.encode() + b"\x00"
        assert receipt["tlvs"][MESSAGE_STATE] == bytes((2,))
        assert f"id:{message_id} ".encode() in receipt["short_message"] and b"stat:DELIVRD" in receipt["short_message"]


def test_the_peer_sends_a_receipt_on_another_bind_when_its_own_is_gone(bare, peer):
    peer.receipt_delay = 0.3
    first, second = bare(), bare()
    first.bind(), second.bind()
    first.submit()
    first.read()
    first.close()
    command, _, _, body = second.read()
    assert command == DELIVER_SM and parse_submit(body)["esm_class"] == 0x04
