"""The local CBC peer keeps docs/CHANNELS.md's wire contract: what it takes, refuses, answers and calls back."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from shapely.geometry import shape

from peers.cbc_peer import OPERATORS, CbcPeer
from tests.support.cap_builder import cap_time, cap_xml, info_xml
from tests.support.text import CHINESE, TIBETAN
from warning_service.channels.cell_broadcast.cover import cap_polygon, cover
from warning_service.reference_data import boundaries

TOKEN = "cbc-token-" + "5a" * 8
SECRET = "cbc-callback-secret-" + "c3" * 8
SENDER = "ews@garze-ngawa.example"
KANGDING = shape(boundaries("counties.geojson")["513301"])
POLYGON = cap_polygon(cover(KANGDING, 40)[0])
CAP = "application/cap+xml; charset=utf-8"


def cbc_info(language: str, number: int, description: str, polygon: str = POLYGON) -> str:
    return info_xml(language=language, headline="暴雨红色预警" if language == "zh-CN" else "ཆར་དྲག", description=description,
                    parameters=(("CBS_MESSAGE_IDENTIFIER", str(number)), ("CBS_REPETITION_SECONDS", "60")),
                    area_desc="康定市", geocodes=("513301",), polygon=polygon)


def alert(identifier: str, status: str = "Actual", msg_type: str = "Alert", references: str = "",
          numbers: tuple[int, int] = (4370, 4383), zh: str = CHINESE, bo: str = TIBETAN, polygon: str = POLYGON,
          sent: str | None = None) -> bytes:
    infos = [cbc_info("zh-CN", numbers[0], zh, polygon), cbc_info("bo-CN", numbers[1], bo, polygon)]
    return cap_xml(identifier, *infos, sender=SENDER, status=status, msg_type=msg_type, references=references,
                   sent=sent)


def reference(identifier: str, sent: str) -> str:
    return f"{SENDER},{identifier},{sent}"


def post(url: str, body: bytes, token: str = TOKEN, content_type: str = CAP, timeout: float = 5) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": content_type, "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class CallbackReceiver:
    """The service's /webhooks/cbc/<CODE>/status on loopback: records each callback as it came."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Message, bytes]] = []  # (path, headers, raw body)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((self.path, self.headers, raw))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, operator: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/cbc/{operator}/status"


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def start(operator: str = "cmcc", receiver: CallbackReceiver | None = None, **options) -> CbcPeer:
    options = {"callback_delay": 0.05, "hold_seconds": 3.0, "slow_seconds": 0.1, **options}
    return CbcPeer(operator, TOKEN, SECRET, callback_url=receiver.url(operator) if receiver else None, **options)


@pytest.fixture
def cbc(receiver) -> Iterator[CbcPeer]:
    with start(receiver=receiver) as peer:
        yield peer


def states(peer: CbcPeer) -> list[tuple[str, str]]:
    return [(call.body["identifier"], call.body["state"]) for call in peer.callbacks()]


def test_an_alert_is_taken_then_broadcast_and_completed_with_signed_callbacks(cbc, receiver):
    status, answer = post(cbc.url(), alert("EWS-1-cmcc-1"))
    assert status == 202 and answer["cbc_message_id"].startswith("cmcc-")
    [message] = cbc.received()
    assert message.address == "cmcc" and message.texts == (TIBETAN, CHINESE)
    assert message.extra["message_identifiers"] == {"zh-CN": 4370, "bo-CN": 4383}
    assert message.extra["repetition_seconds"] == {"zh-CN": "60", "bo-CN": "60"}
    assert message.extra["geocodes"] == [("GB/T 2260", "513301")] and len(message.extra["polygons"]) == 1
    callbacks = cbc.wait_for_callbacks(2)
    assert [c.body["state"] for c in callbacks] == ["broadcasting", "completed"]
    assert callbacks[1].body == {"cbc_message_id": answer["cbc_message_id"], "identifier": "EWS-1-cmcc-1",
                                 "state": "completed", "cells": 40, "failed_cells": 0}
    assert all(c.answered == 200 for c in callbacks)
    for path, headers, raw in receiver.calls:
        assert path == "/webhooks/cbc/cmcc/status" and headers["Content-Type"].startswith("application/json")
        assert headers["X-CBC-Signature"] == hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert [json.loads(raw)["state"] for _, _, raw in receiver.calls] == ["broadcasting", "completed"]


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_a_missing_or_wrong_bearer_token_is_refused_with_401(cbc, token):
    status, answer = post(cbc.url(), alert("EWS-1-cmcc-1"), token=token)
    assert (status, answer["error"]) == (401, "unauthorised")
    assert cbc.received() == [] and cbc.refusals() == [("primary", 401, "unauthorised", answer["reason"])]


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", "application/cap+xml; charset=gbk"])
def test_anything_but_cap_xml_in_utf8_is_refused_with_415(cbc, content_type):
    assert post(cbc.url(), alert("EWS-1-cmcc-1"), content_type=content_type)[0] == 415


def test_xml_that_is_not_well_formed_or_declares_entities_is_refused_unread(cbc):
    laughs = (b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
              b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&b;</identifier></alert>')
    assert post(cbc.url(), laughs) == (400, {"error": "malformed",
                                             "reason": "DTDs and entity declarations are not accepted"})
    assert post(cbc.url(), b"<alert")[1]["error"] == "malformed"


def test_a_message_the_cap_schema_refuses_is_400(cbc):
    body = alert("EWS-1-cmcc-1").replace(f"<sender>{SENDER}</sender>".encode(), b"")
    status, answer = post(cbc.url(), body)
    assert (status, answer["error"]) == (400, "schema") and "sent" in answer["reason"]


def test_a_repeat_is_answered_with_the_same_id_and_an_identifier_cannot_name_two_messages(cbc):
    sent = cap_time()
    first = post(cbc.url(), alert("EWS-1-cmcc-1", sent=sent))
    assert post(cbc.url("failover"), alert("EWS-1-cmcc-1", sent=sent)) == first
    assert len(cbc.received()) == 1
    status, answer = post(cbc.url(), alert("EWS-1-cmcc-1", sent=sent, zh="另一条消息。"))
    assert (status, answer["error"]) == (409, "identifier_taken")


def test_update_and_cancel_must_name_messages_this_cbc_got(cbc):
    status, answer = post(cbc.url(), alert("EWS-1-cmcc-2", msg_type="Update"))
    assert (status, answer["error"]) == (422, "references")
    status, answer = post(cbc.url(), alert("EWS-1-cmcc-2", msg_type="Update",
                                           references=reference("EWS-1-cmcc-1", cap_time())))
    assert (status, answer["error"]) == (422, "references") and "never got" in answer["reason"]
    sent = cap_time()
    assert post(cbc.url(), alert("EWS-1-cmcc-1", sent=sent))[0] == 202
    assert post(cbc.url(), alert("EWS-1-cmcc-2", msg_type="Update", references=reference("EWS-1-cmcc-1", sent)))[0] == 202
    assert cbc.received()[1].extra["references"] == [(SENDER, "EWS-1-cmcc-1")]


def test_a_cancel_stops_the_broadcast_it_names_and_nothing_is_reported_after_it(receiver):
    with start(receiver=receiver, callback_delay=0.3) as cbc:
        sent = cap_time()
        assert post(cbc.url(), alert("EWS-1-cmcc-1", sent=sent))[0] == 202
        assert [c.body["state"] for c in cbc.wait_for_callbacks(1)] == ["broadcasting"]
        assert post(cbc.url(), alert("EWS-1-cmcc-3", msg_type="Cancel",
                                     references=reference("EWS-1-cmcc-1", sent)))[0] == 202
        cancelled = cbc.wait_for_callbacks(2)[-1].body
        time.sleep(0.4)  # past the time "completed" was due
    assert states(cbc) == [("EWS-1-cmcc-1", "broadcasting"), ("EWS-1-cmcc-1", "cancelled")]
    assert (cancelled["cells"], cancelled["failed_cells"]) == (20, 0)  # the cells that had it when it stopped


def test_a_cancel_after_completion_reports_the_cells_that_had_it(cbc):
    sent = cap_time()
    post(cbc.url(), alert("EWS-1-cmcc-1", sent=sent))
    cbc.wait_for_callbacks(2)
    post(cbc.url(), alert("EWS-1-cmcc-3", msg_type="Cancel", references=reference("EWS-1-cmcc-1", sent)))
    last = cbc.wait_for_callbacks(3)[-1].body
    assert (last["state"], last["cells"]) == ("cancelled", 40)


@pytest.mark.parametrize("failed, state, cells", [(3, "completed", 37), (40, "failed", 0)])
def test_failed_cells_are_reported_and_all_failed_is_a_failed_broadcast(receiver, failed, state, cells):
    with start(receiver=receiver, failed_cells=failed) as cbc:
        post(cbc.url(), alert("EWS-1-cmcc-1"))
        last = cbc.wait_for_callbacks(2)[-1].body
    assert (last["state"], last["cells"], last["failed_cells"]) == (state, cells, failed)


def test_both_languages_are_required(cbc):
    only_chinese = cap_xml("EWS-1-cmcc-1", cbc_info("zh-CN", 4370, CHINESE), sender=SENDER)
    assert post(cbc.url(), only_chinese)[1]["error"] == "languages"
    english = cap_xml("EWS-1-cmcc-1", cbc_info("zh-CN", 4370, CHINESE), cbc_info("en-US", 4383, "Rain."), sender=SENDER)
    assert post(cbc.url(), english)[1]["error"] == "languages"


@pytest.mark.parametrize("zh, taken", [
    ("警" * 615, True), ("警" * 616, False),
    ("\U00020000" * 307 + "警", True), ("\U00020000" * 308, False),  # beyond the BMP: two code units each
])
def test_a_description_holds_at_most_615_utf16_code_units(cbc, zh, taken):
    status, answer = post(cbc.url(), alert("EWS-1-cmcc-1", zh=zh))
    assert status == 202 if taken else answer["error"] == "description_length"


def test_a_description_must_be_nfc(cbc):
    decomposable = TIBETAN + "\u0f40\u0f73"  # U+0F73 decomposes and NFC does not put it back
    assert post(cbc.url(), alert("EWS-1-cmcc-1", bo=decomposable))[1]["error"] == "nfc"


@pytest.mark.parametrize("numbers", [(4370, 4370), (4383, 4383), (4371, 4383), (4381, 4394), (50, 50)])
def test_the_message_identifier_must_suit_the_language_and_status(cbc, numbers):
    assert post(cbc.url(), alert("EWS-1-cmcc-1", numbers=numbers))[1]["error"] == "message_identifier"


@pytest.mark.parametrize("numbers", [(4352, 4352), (4371, 4384), (4373, 4386), (4396, 4397)])
def test_etws_and_cmas_pairs_are_taken(cbc, numbers):
    assert post(cbc.url(), alert("EWS-1-cmcc-1", numbers=numbers))[0] == 202


def test_a_message_without_the_identifier_parameter_is_refused(cbc):
    body = alert("EWS-1-cmcc-1").replace(b"CBS_MESSAGE_IDENTIFIER", b"SOMETHING_ELSE")
    assert post(cbc.url(), body)[1]["error"] == "message_identifier"


def test_polygons_over_the_cbcs_vertex_limit_are_refused(cbc):
    big = cap_polygon(cover(KANGDING, 150)[0])
    status, answer = post(cbc.url(), alert("EWS-1-cmcc-1", polygon=big))
    assert (status, answer["error"]) == (422, "vertices") and "at most 100" in answer["reason"]
    assert post(cbc.url(), alert("EWS-1-cmcc-2", polygon=cap_polygon(cover(KANGDING, 100)[0])))[0] == 202


@pytest.mark.parametrize("polygon", ["30.0,101.0 30.5,101.0 30.5,101.5", "30,101 31,102 30,102 31,101 30,101"])
def test_an_open_or_crossed_polygon_is_refused(cbc, polygon):
    assert post(cbc.url(), alert("EWS-1-cmcc-1", polygon=polygon))[1]["error"] == "polygon"


def test_an_exercise_cbc_takes_exercises_only_and_a_real_one_never_does(cbc):
    exercise = alert("EWS-1-cmcc-1", status="Exercise", numbers=(4381, 4394))
    assert post(cbc.url(), exercise)[1]["error"] == "status"
    with start(exercise=True) as exercise_cbc:
        assert post(exercise_cbc.url(), exercise)[0] == 202
        assert post(exercise_cbc.url(), alert("EWS-1-cmcc-2"))[1]["error"] == "status"


def test_a_link_test_is_answered_and_never_broadcast(cbc):
    link_test = cap_xml("EWS-LINK-cmcc-1", sender=SENDER, status="Test")
    for front in ("primary", "failover"):
        status, answer = post(cbc.url(front), link_test.replace(b"cmcc-1", f"cmcc-{front}".encode()))
        assert status == 202 and answer["cbc_message_id"]
    assert cbc.link_tests == [("primary", "EWS-LINK-cmcc-primary"), ("failover", "EWS-LINK-cmcc-failover")]
    assert cbc.received() == [] and cbc.wait_for_callbacks(1, timeout=0.3) == []


@pytest.mark.parametrize("mode, status", [("5xx", 500), ("429", 429)])
def test_a_failing_front_answers_its_error_takes_nothing_and_the_failover_still_takes_it(cbc, mode, status):
    cbc.fail(mode, "primary")
    assert post(cbc.url("primary"), alert("EWS-1-cmcc-1"))[0] == status
    assert cbc.received() == []
    assert post(cbc.url("failover"), alert("EWS-1-cmcc-1"))[0] == 202
    cbc.fail("none")
    assert post(cbc.url("primary"), alert("EWS-1-cmcc-2"))[0] == 202


@pytest.mark.parametrize("mode, error", [
    ("timeout", (socket.timeout, TimeoutError)),
    ("drop", (http.client.RemoteDisconnected, ConnectionResetError)),
    ("refuse", (urllib.error.URLError,)),
])
def test_a_front_that_never_answers_leaves_the_sender_to_fail_over(cbc, mode, error):
    cbc.fail(mode, "primary")
    with pytest.raises(error):
        post(cbc.url("primary"), alert("EWS-1-cmcc-1"), timeout=0.3)
    assert cbc.received() == []
    assert post(cbc.url("failover"), alert("EWS-1-cmcc-1"))[0] == 202
    cbc.fail("none", "primary")
    assert post(cbc.url("primary"), alert("EWS-1-cmcc-2"))[0] == 202


def test_a_lost_answer_is_recovered_by_sending_the_same_message_again(cbc):
    body = alert("EWS-1-cmcc-1")
    cbc.fail("lost", "primary")
    with pytest.raises((socket.timeout, TimeoutError)):
        post(cbc.url("primary"), body, timeout=0.3)
    status, answer = post(cbc.url("failover"), body)
    assert status == 202 and [m.extra["cbc_message_id"] for m in cbc.received()] == [answer["cbc_message_id"]]


def test_three_operators_are_three_cbcs_that_know_only_what_they_got(receiver):
    with start("cmcc", receiver) as cmcc, start("cucc", receiver) as cucc, start("ctcc", receiver) as ctcc:
        peers = [cmcc, cucc, ctcc]
        sent = cap_time()
        answers = [post(peer.url(), alert(f"EWS-1-{peer.operator}-1", sent=sent)) for peer in peers]
        assert [status for status, _ in answers] == [202] * 3
        assert len({answer["cbc_message_id"] for _, answer in answers}) == 3
        cancel_elsewhere = alert("EWS-1-cucc-2", msg_type="Cancel", references=reference("EWS-1-cmcc-1", sent))
        assert post(cucc.url(), cancel_elsewhere)[1]["error"] == "references"
        for peer in peers:
            peer.wait_for_callbacks(2)
    assert {path.split("/")[3] for path, _, _ in receiver.calls} == set(OPERATORS)


def test_only_the_cap_path_is_served(cbc):
    url = cbc.url().removesuffix("/cap") + "/other"
    assert post(url, alert("EWS-1-cmcc-1"))[0] == 404
