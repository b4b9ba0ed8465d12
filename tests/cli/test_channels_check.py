"""`flask channels check`: every gateway and broadcast endpoint reached, nothing sent, secrets unseen."""
from __future__ import annotations

import socket

import pytest

from peers.broadcast_peer import BroadcastPeer
from peers.cbc_peer import CbcPeer
from warning_service.extensions import db
from warning_service.models import BroadcastEndpoint, CbcOperator

SECRET = "kangding-heartbeat-key-91c"


@pytest.fixture
def peer():
    with BroadcastPeer({"513301": SECRET}) as running:
        yield running


@pytest.fixture
def http_gateway(app, monkeypatch):
    monkeypatch.setitem(app.config, "BROADCAST_GATEWAY", "http")
    monkeypatch.setitem(app.config, "BROADCAST_TIMEOUT_SECONDS", 1.0)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/ebm/513322"


def add_endpoint(county: str, url: str, active: bool = True) -> None:
    db.session.add(BroadcastEndpoint(county_code=county, name=f"{county} platform", url=url, secret=SECRET,
                                     active=active))
    db.session.commit()


def check(app):
    return app.test_cli_runner().invoke(args=["channels", "check"])


def test_log_gateways_pass(app):
    result = check(app)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines] == [["OK", "sms"], ["OK", "broadcast"], ["OK", "beidou"],
                                                    ["OK", "cell_broadcast"]]


def test_each_active_endpoint_is_sent_a_heartbeat(app, http_gateway, peer):
    add_endpoint("513301", peer.url("513301"))
    add_endpoint("513322", closed_port_url())
    add_endpoint("513323", closed_port_url(), active=False)
    result = check(app)
    assert result.exit_code == 1
    assert "OK      broadcast (BROADCAST_GATEWAY=http): checked per endpoint" in result.output
    [ok] = [line for line in result.output.splitlines() if "513301 platform" in line]
    [failed] = [line for line in result.output.splitlines() if "513322 platform" in line]
    assert ok.startswith("OK") and "ResultCode 1" in ok
    assert failed.startswith("FAILED") and "connection" in failed
    assert "513323" not in result.output
    assert SECRET not in result.output
    assert peer.heartbeats == ["513301"] and peer.received() == []


def test_all_endpoints_answering_exit_zero(app, http_gateway, peer):
    add_endpoint("513301", peer.url("513301"))
    result = check(app)
    assert result.exit_code == 0, result.output


def test_no_active_endpoint_is_a_failure(app, http_gateway):
    result = check(app)
    assert result.exit_code == 1
    assert "FAILED  broadcast endpoints: none active" in result.output


def test_a_bad_gateway_setting_fails_its_line_and_the_rest_are_checked(app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "carrier-pigeon")
    result = check(app)
    assert result.exit_code == 1
    assert "FAILED  sms (SMS_GATEWAY=carrier-pigeon): UnknownGateway" in result.output
    assert "OK      beidou" in result.output


# --- cell broadcast: link tests -------------------------------------------------------------------------------

CBC_TOKEN = "link-test-token-" + "4d" * 8


def add_cbc(code: str, url: str, failover_url: str | None, active: bool = True) -> None:
    db.session.add(CbcOperator(code=code, name=f"{code} CBC", url=url, failover_url=failover_url, token=CBC_TOKEN,
                               callback_secret="s", active=active))
    db.session.commit()


def test_each_cbc_url_gets_a_link_test_and_the_result_is_kept(app, monkeypatch):
    monkeypatch.setitem(app.config, "CELL_BROADCAST_GATEWAY", "cap")
    monkeypatch.setitem(app.config, "CELL_BROADCAST_TIMEOUT_SECONDS", 0.5)
    with CbcPeer("cmcc", CBC_TOKEN, "s", hold_seconds=2) as cmcc, CbcPeer("cucc", CBC_TOKEN, "s") as cucc:
        add_cbc("cmcc", cmcc.url(), cmcc.url("failover"))
        add_cbc("cucc", cucc.url(), closed_port_url())
        add_cbc("ctcc", closed_port_url(), None, active=False)
        result = check(app)
        assert [front for front, _ in cmcc.link_tests] == ["primary", "failover"] and cmcc.received() == []
    assert result.exit_code == 1
    lines = {line.split(": ")[0]: line for line in result.output.splitlines()}
    assert lines[f"OK      CBC cmcc cmcc CBC primary {cmcc.url()}"].endswith("answered 202")
    assert f"FAILED  CBC cucc cucc CBC failover {closed_port_url()[:16]}" in result.output
    assert "ctcc" not in result.output and CBC_TOKEN not in result.output
    operators = {o.code: o for o in db.session.query(CbcOperator)}
    assert (operators["cmcc"].link_primary_ok, operators["cmcc"].link_failover_ok, operators["cmcc"].link_down) \
        == (True, True, False)
    assert (operators["cucc"].link_primary_ok, operators["cucc"].link_failover_ok, operators["cucc"].link_down) \
        == (True, False, True)
    assert "failover: connection" in operators["cucc"].link_detail and operators["ctcc"].link_checked_at is None


def test_no_active_cbc_is_a_failure(app, monkeypatch):
    monkeypatch.setitem(app.config, "CELL_BROADCAST_GATEWAY", "cap")
    result = check(app)
    assert result.exit_code == 1 and "FAILED  cell broadcast centres: none active" in result.output
