"""The county emergency-broadcast adapter against county platforms on loopback."""
from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests
from lxml import etree

from peers.broadcast_peer import BroadcastPeer
from tests.channels.contract import CHINESE, TIBETAN, AdapterContract, message
from warning_service.channels.base import GatewayUnavailable, Outcome
from warning_service.channels.broadcast.http import (
    BroadcastAdapter,
    check_endpoint,
    ebm_package,
    pack_tar,
    read_receipt,
    unpack_tar,
)
from warning_service.channels.catalog import settings_schema
from warning_service.config import Settings

SECRET = "kangding-platform-key-ཀ-甲"
OTHER_SECRET = "a-key-we-were-never-told"
# Two counties of the contract's alert, an exercise platform, and a platform whose key was changed.
PLATFORMS = {"513301": SECRET, "513322": SECRET, "513301/exercise": SECRET, "513322/rekeyed": OTHER_SECRET}


def settings(**overrides) -> dict:
    return {**Settings(CHANNEL_SETTINGS=settings_schema()).as_flask_config(), "BROADCAST_TIMEOUT_SECONDS": 1.0, **overrides}


def with_content(outbound, **fields):
    return dataclasses.replace(outbound, content=dataclasses.replace(outbound.content, **fields))


class TestBroadcastContract(AdapterContract):
    secret = SECRET
    patience = 5.0

    @pytest.fixture
    def peer(self):
        with BroadcastPeer(PLATFORMS) as running:
            self.good_address = running.url("513301")
            self.bad_address = running.url("513322/rekeyed")
            self.platform_urls = [running.url(platform) for platform in ("513301", "513322", "513301/exercise")]
            yield running

    @pytest.fixture
    def audio_dir(self, tmp_path):
        return tmp_path / "audio"

    @pytest.fixture
    def adapter(self, peer, audio_dir):
        return BroadcastAdapter(settings(BROADCAST_AUDIO_DIR=str(audio_dir)))

    def addresses(self, count: int) -> list[str]:
        return self.platform_urls[:count]

    # --- what the platform reads ---------------------------------------------

    @pytest.mark.parametrize(("status", "msg_type", "expected"), [
        ("Actual", "Alert", "1"), ("Actual", "Update", "1"), ("Actual", "Cancel", "2"),
        ("Exercise", "Alert", "3"), ("Test", "Alert", "3"), ("Exercise", "Cancel", "2"),
    ])
    def test_msg_type_follows_status_and_type(self, adapter, peer, status, msg_type, expected):
        [result] = adapter.send_batch([message(1, self.good_address, secret=SECRET, status=status, msg_type=msg_type)])
        assert result.outcome == Outcome.ACCEPTED
        assert peer.received()[0].extra["msg_type"] == expected

    def test_the_ebm_carries_the_alert_in_tibetan_then_chinese(self, adapter, peer):
        outbound = with_content(message(1, self.good_address, secret=SECRET), township_codes=("513301100000",))
        adapter.send_batch([outbound])
        [received] = peer.received()
        assert received.address == self.good_address
        assert received.extra["languages"] == ["tib", "zho"]
        assert received.texts == (TIBETAN, CHINESE)
        assert received.extra["titles"] == {"tib": "ས་ཡོམ།", "zho": "地震预警"}
        assert received.extra["area_codes"] == ["513301000000", "513322000000", "513301100000"]
        basic = received.extra["basic"]
        assert basic["SenderName"] == "甘孜阿坝预警信息发布平台" and basic["SenderCode"] == "513300000000"
        assert basic["Severity"] == "1"  # red
        assert basic["EventType"] == "earthquake"  # no verified national code for earthquakes
        beijing = timezone(timedelta(hours=8))
        content = outbound.content
        assert basic["StartTime"] == content.onset.astimezone(beijing).strftime("%Y-%m-%d %H:%M:%S")
        assert basic["EndTime"] == content.expires.astimezone(beijing).strftime("%Y-%m-%d %H:%M:%S")
        assert received.extra["auxiliary"] == []

    def test_verified_national_event_codes_levels_and_a_missing_expiry(self, adapter, peer):
        onset = datetime(2025, 7, 1, 0, 30, tzinfo=UTC)
        outbound = with_content(message(1, self.good_address, secret=SECRET), hazard_code="rainstorm", level="blue",
                                onset=onset, expires=None)
        adapter.send_batch([outbound])
        basic = peer.received()[0].extra["basic"]
        assert (basic["EventType"], basic["Severity"]) == ("11B03", "4")
        assert (basic["StartTime"], basic["EndTime"]) == ("2025-07-01 08:30:00", "2025-07-01 09:30:00")

    def test_a_platform_outside_the_alerts_area_refuses_it(self, adapter, peer):
        outbound = with_content(message(1, self.good_address, secret=SECRET), county_codes=("513322",))
        [result] = adapter.send_batch([outbound])
        assert (result.outcome, result.code) == (Outcome.PERMANENT, "5")
        assert peer.received() == []

    # --- signatures and ids ---------------------------------------------------

    def test_each_platform_checks_the_signature_with_its_own_key(self, adapter, peer):
        rekeyed = peer.url("513322/rekeyed")
        results = adapter.send_batch([message(1, rekeyed, secret=OTHER_SECRET), message(2, rekeyed, secret=SECRET)])
        by_id = {result.delivery_id: result for result in results}
        assert by_id[1].outcome == Outcome.ACCEPTED
        assert (by_id[2].outcome, by_id[2].code) == (Outcome.PERMANENT, "4")
        assert by_id[2].text == "签名验证失败"

    def test_a_tampered_package_is_refused(self, peer, audio_dir):
        outbound = message(1, self.good_address, secret=SECRET)
        files = unpack_tar(ebm_package(outbound, settings(BROADCAST_AUDIO_DIR=str(audio_dir))).body)
        [name] = [name for name in files if name.startswith("EBDB_")]
        files[name] = files[name].replace("立即".encode(), "不必".encode())
        answer = requests.post(self.good_address, data=pack_tar(files), timeout=5,
                               headers={"Content-Type": "application/x-tar"})
        assert read_receipt(answer.content).code == "4"
        assert peer.received() == []

    def test_the_package_is_an_ebd_its_signature_and_nothing_else(self, audio_dir):
        outbound = message(1, "http://platform.example/ebm", secret=SECRET)
        package = ebm_package(outbound, settings(BROADCAST_AUDIO_DIR=str(audio_dir)))
        files = unpack_tar(package.body)
        assert sorted(files) == [f"EBDB_{package.ebd_id}.xml", f"EBDS_EBDB_{package.ebd_id}.xml"]
        ebd = etree.fromstring(files[f"EBDB_{package.ebd_id}.xml"])
        ids = [ebd.findtext(tag) for tag in ("EBDType", "EBDID", "EBM/EBMID")]
        assert ids == ["EBM", package.ebd_id, package.ebd_id]
        signature = etree.fromstring(files[f"EBDS_EBDB_{package.ebd_id}.xml"])
        assert signature.findtext("RelatedEBD/EBDID") == package.ebd_id
        assert signature.findtext("SignatureAlgorithm") == "HMAC-SHA256"

    def test_a_retried_post_carries_the_same_ebm_id(self, adapter, peer):
        first = message(1, self.good_address, secret=SECRET)
        [sent] = adapter.send_batch([first])
        [retried] = adapter.send_batch([dataclasses.replace(first, attempt=2)])
        [elsewhere] = adapter.send_batch([message(2, peer.url("513322"), secret=SECRET)])
        ids = [received.extra["ebm_id"] for received in peer.received()]
        assert ids[0] == ids[1] == sent.gateway_id == retried.gateway_id
        assert ids[2] == elsewhere.gateway_id != ids[0]
        assert ids[0].startswith("513300000000") and len(ids[0]) == 28

    def test_a_cancel_names_the_message_it_cancels(self, adapter, peer):
        [alert] = adapter.send_batch([message(1, self.good_address, secret=SECRET)])
        original = message(1, self.good_address, secret=SECRET).content
        cancel = with_content(message(2, self.good_address, secret=SECRET, msg_type="Cancel"), identifier="CANCEL-1",
                              references=(f"{original.sender},{original.identifier},{original.sent.isoformat()}",))
        [cancelled] = adapter.send_batch([cancel])
        assert cancelled.outcome == Outcome.ACCEPTED and cancelled.gateway_id != alert.gateway_id
        ebd = etree.fromstring(next(
            data for name, data in unpack_tar(ebm_package(cancel, settings()).body).items() if name.startswith("EBDB_")))
        assert ebd.findtext("EBM/RelatedInfo/EBMID") == alert.gateway_id
        assert ebd.findtext("EBM/MsgBasicInfo/MsgType") == "2"

    # --- Tibetan audio ----------------------------------------------------------

    def test_recorded_tibetan_audio_is_attached_to_the_tibetan_content(self, adapter, peer, audio_dir):
        (audio_dir / "513301").mkdir(parents=True)
        recording = b"ID3\x03\x00recorded Kham Tibetan warning"
        (audio_dir / "513301" / "earthquake.bo.mp3").write_bytes(recording)
        (audio_dir / "513301" / "landslide.bo.mp3").write_bytes(b"another hazard")
        (audio_dir / "513322").mkdir()
        (audio_dir / "513322" / "earthquake.bo.mp3").write_bytes(b"Luding's own recording")
        kangding = dataclasses.replace(message(1, self.good_address, secret=SECRET), county_code="513301")
        [result] = adapter.send_batch([kangding])
        assert result.outcome == Outcome.ACCEPTED
        [auxiliary] = peer.received()[0].extra["auxiliary"]  # its own county's recording only
        assert auxiliary == {"name": "EBDR_513301_earthquake.bo.mp3", "type": "2", "language": "tib", "data": recording}

    def test_unreadable_audio_is_left_out_and_the_warning_still_goes(self, adapter, peer, audio_dir, caplog):
        (audio_dir / "513301" / "earthquake.bo.mp3").mkdir(parents=True)
        kangding = dataclasses.replace(message(1, self.good_address, secret=SECRET), county_code="513301")
        [result] = adapter.send_batch([kangding])
        assert result.outcome == Outcome.ACCEPTED and peer.received()[0].extra["auxiliary"] == []
        assert "unreadable" in caplog.text

    # --- failures ---------------------------------------------------------------

    def test_text_xml_cannot_hold_fails_for_good_without_raising(self, adapter, peer):
        outbound = with_content(message(1, self.good_address, secret=SECRET), bodies={"zh": "预警\x07"})
        [result] = adapter.send_batch([outbound])
        assert (result.outcome, result.code) == (Outcome.PERMANENT, "bad-content")
        assert peer.received() == []

    def test_a_receipt_may_come_as_bare_xml(self):
        receipt = read_receipt("<EBD><EBDResponse><ResultCode>4</ResultCode>"
                               "<ResultDesc>签名验证失败</ResultDesc></EBDResponse></EBD>".encode())
        assert (receipt.code, receipt.text, receipt.accepted) == ("4", "签名验证失败", False)
        assert read_receipt(b"") is None and read_receipt(b"<html>busy</html>") is None

    def test_a_slow_platform_is_waited_for(self, adapter, peer):
        peer.fail("slow")
        [result] = adapter.send_batch([message(1, self.good_address, secret=SECRET)])
        assert result.outcome == Outcome.ACCEPTED

    def test_one_county_down_does_not_hold_up_the_others(self, adapter, peer):
        peer.fail("down", "513322")
        results = adapter.send_batch([message(1, peer.url("513322"), secret=SECRET),
                                      message(2, self.good_address, secret=SECRET)])
        assert [(r.outcome, r.code) for r in results] == [(Outcome.TRANSIENT, "503"), (Outcome.ACCEPTED, "1")]

    def test_throttling_passes_on_retry_after(self, adapter, peer):
        peer.fail("429")
        [result] = adapter.send_batch([message(1, self.good_address, secret=SECRET)])
        assert (result.code, result.retry_after) == ("429", 1.0)

    def test_a_malformed_url_fails_for_good(self, adapter):
        [result] = adapter.send_batch([message(1, "ebm.kangding.example/ebm", secret=SECRET)])
        assert (result.outcome, result.code) == (Outcome.PERMANENT, "bad-url")

    def test_an_endpoint_without_a_secret_is_refused_unsent(self, adapter, peer):
        [result] = adapter.send_batch([message(1, self.good_address)])
        assert (result.outcome, result.code) == (Outcome.PERMANENT, "no-secret")
        assert peer.received() == []

    def test_the_secret_is_never_logged_nor_returned(self, adapter, peer, caplog):
        caplog.set_level(logging.DEBUG)
        results = adapter.send_batch([message(1, self.good_address, secret=SECRET),
                                      message(2, self.bad_address, secret=SECRET)])
        peer.fail("timeout")
        results += adapter.send_batch([message(3, self.good_address, secret=SECRET)])
        assert {r.outcome for r in results} == {Outcome.ACCEPTED, Outcome.PERMANENT, Outcome.TRANSIENT}
        assert "broadcast alert=42" in caplog.text
        for secret in (SECRET, OTHER_SECRET):
            assert secret not in caplog.text
            assert all(secret not in repr(result) for result in results)

    # --- check --------------------------------------------------------------------

    def test_check_endpoint_sends_a_heartbeat_and_no_alert(self, peer):
        assert "ResultCode 1" in check_endpoint(self.good_address, SECRET, settings())
        assert peer.heartbeats == ["513301"] and peer.received() == []

    def test_check_endpoint_reports_a_wrong_key_and_a_platform_down(self, peer):
        with pytest.raises(GatewayUnavailable, match="ResultCode 4"):
            check_endpoint(self.bad_address, SECRET, settings())
        peer.fail("down")
        with pytest.raises(GatewayUnavailable, match="503"):
            check_endpoint(self.good_address, SECRET, settings())
