"""`flask demo serve`: the banner, and a Redis check that says what to install."""
from __future__ import annotations

import json
import re
import shlex
import socket

import pyotp

from tests.support.console import csrf_token
from warning_service.cli.demo import banner, example_alert, issue_demo_keys
from warning_service.extensions import db
from warning_service.security.api_keys import agency_for_key


def test_banner_shows_labelled_keys_logins_address_and_curl(app):
    assert app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", "0"]).exit_code == 0
    keys = {key.variable: key for key in issue_demo_keys()}
    weather, seismic = agency_for_key(db.session, keys["WEATHER_KEY"].key), agency_for_key(db.session, keys["SEISMIC_KEY"].key)
    assert (weather.kind.value, weather.auto_publish) == ("weather", False)
    assert (seismic.kind.value, seismic.auto_publish) == ("seismic", True)

    text = banner(list(keys.values()), "http://127.0.0.1:5000")
    lines = text.splitlines()
    for variable, agency in (("WEATHER_KEY", weather), ("SEISMIC_KEY", seismic)):
        label = lines[lines.index(f"  {variable}={keys[variable].key}") - 1]
        assert agency.name in label and ", ".join(agency.hazards) in label
    assert "rainstorm" in text and "wait in the duty officers' inbox" in text and "publishes at once" in text
    key = keys["SEISMIC_KEY"].key
    assert "http://127.0.0.1:5000/" in text
    for login in ("demo-admin / demo-admin-pass", "demo-officer / demo-officer-pass",
                  "demo-officer2 / demo-officer2-pass", "demo-auditor / demo-auditor-pass"):
        assert login in text
    curl = text[text.index("curl "):].replace("\\\n", " ")
    words = shlex.split(curl)
    assert "http://127.0.0.1:5000/api/v1/alerts" in words
    assert f"Authorization: Bearer {key}" in words
    assert json.loads(words[words.index("-d") + 1])["status"] == "Exercise"


def test_example_alert_is_for_the_seismic_agency():
    alert = example_alert()
    assert alert["hazard"] == "earthquake" and alert["area"]["counties"] == ["513301"]


def test_serve_without_seed_says_so(app):
    result = app.test_cli_runner().invoke(args=["demo", "serve"])
    assert result.exit_code != 0 and "flask seed demo" in result.output


def test_serve_says_what_to_install_without_redis(app, monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv("PATH", str(tmp_path))
    result = app.test_cli_runner().invoke(args=["demo", "serve", "--port", "5999"])
    assert result.exit_code != 0
    assert "apt-get install redis-server" in result.output and "REDIS_URL" in result.output
    assert "Traceback" not in result.output


def test_serve_says_the_sentinels_do_not_answer_and_starts_no_redis(app, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in (("REDIS_SENTINELS", f"127.0.0.1:{port}"), ("REDIS_SENTINEL_MASTER", "ews"), ("REDIS_FAILOVER_SECONDS", 0.2)):
        monkeypatch.setitem(app.config, name, value)
    result = app.test_cli_runner().invoke(args=["demo", "serve", "--port", "5999"])
    assert result.exit_code != 0 and f"through the sentinels 127.0.0.1:{port}" in result.output
    assert "started redis-server" not in result.output and "Traceback" not in result.output


def test_example_alert_is_accepted_with_the_demo_key(app, client):
    assert app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", "50"]).exit_code == 0
    key = next(key.key for key in issue_demo_keys() if key.variable == "SEISMIC_KEY")
    response = client.post("/api/v1/alerts", json=example_alert(), headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.get_json()


def test_the_demo_prints_the_totp_secrets_that_sign_its_officers_in(app, client):
    """MFA is required (as the tests set it): the printed secret of a demo officer gets them in."""
    assert app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", "0"]).exit_code == 0
    text = banner(issue_demo_keys(), "http://127.0.0.1:5000")
    secret = re.search(r"demo-officer / .*\n    TOTP secret ([A-Z2-7]+)", text).group(1)
    client.post("/login", data={"username": "demo-officer", "password": "demo-officer-pass",
                                "csrf_token": csrf_token(client, "/login")})
    signed_in = client.post("/login/code", data={"code": pyotp.TOTP(secret).now(),
                                                 "csrf_token": csrf_token(client, "/login/code")})
    assert signed_in.status_code == 302 and client.get("/").status_code == 200
