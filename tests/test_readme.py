"""The README's curl examples, run as written by bash and sent to the app: README and API cannot drift.

Each ```sh block that calls curl runs in bash (its dates computed by `date`, its heredocs written)
with `curl` replaced by a function that records its arguments; every recorded call is then made
against the app with the demo keys `make run` prints.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from warning_service.cli.demo import issue_demo_keys

README = Path(__file__).resolve().parents[1] / "README.md"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
RECORD_CURL = 'curl() { n=$((n + 1)); printf "%s\\0" "$@" > "$CALLS/$(printf %03d "$n")"; }\nn=0\n'


def curl_blocks() -> list[str]:
    return [block for block in SH_BLOCK.findall(README.read_text(encoding="utf-8")) if "curl " in block]


def recorded_calls(block: str, workdir: Path, env: dict[str, str]) -> list[list[str]]:
    calls = workdir / "calls"
    calls.mkdir()
    done = subprocess.run(["bash", "-euc", RECORD_CURL + block], cwd=workdir, env={**env, "CALLS": str(calls)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [path.read_text(encoding="utf-8").split("\0")[:-1] for path in sorted(calls.iterdir())]


def request_of(arguments: list[str], workdir: Path) -> dict:
    """curl's arguments as a test-client request; an option this reader does not know fails the test."""
    request: dict = {"method": "GET", "headers": {}, "data": None}
    words = iter(arguments)
    for word in words:
        if word == "-sS":
            continue
        if word == "-X":
            request["method"] = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            request["headers"][name.strip()] = value.strip()
        elif word in ("-d", "--data-binary"):
            data = next(words)
            request["data"] = (workdir / data[1:]).read_bytes() if data.startswith("@") else data.encode()
            if request["method"] == "GET":
                request["method"] = "POST"
        elif word.startswith("http://"):
            request["path"] = urlsplit(word).path
        else:
            pytest.fail(f"the README's curl uses {word!r}, which this test does not read")
    return request


def test_the_readme_has_curl_examples_for_both_demo_keys():
    text = "".join(curl_blocks())
    assert "$WEATHER_KEY" in text and "$SEISMIC_KEY" in text and "@alert.xml" in text


def test_every_readme_curl_example_works_against_the_app(app, client, tmp_path):
    assert app.test_cli_runner().invoke(args=["seed", "demo", "--recipients", "0"]).exit_code == 0
    keys = {key.variable: key.key for key in issue_demo_keys()}
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **keys}
    sent = 0
    for index, block in enumerate(curl_blocks()):
        workdir = tmp_path / str(index)
        workdir.mkdir()
        for arguments in recorded_calls(block, workdir, env):
            request = request_of(arguments, workdir)
            response = client.open(request["path"], method=request["method"], headers=request["headers"],
                                   data=request["data"])
            assert response.status_code in (200, 201), (arguments, response.get_data(as_text=True)[:500])
            sent += 1
            if request["path"] == "/api/v1/alerts" and request["method"] == "POST":
                key = request["headers"]["Authorization"].removeprefix("Bearer ")
                expected = "pending_review" if key == keys["WEATHER_KEY"] else "publishing"
                assert response.get_json()["state"] == expected, response.get_json()
    assert sent >= 5
