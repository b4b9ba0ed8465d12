"""`flask demo serve`: what `make run` starts once the database is set up.

It makes sure Redis answers, prints how to use the demo (a fresh API key, the
logins, a curl example), then runs the gateway peers, an RQ worker and the web
server until Ctrl-C or SIGTERM, and stops them all.

The peers (peers/, started as `python -m peers`) play Twilio, the
county broadcast platforms, a BeiDou terminal and the three operators' Cell
Broadcast Centres on loopback, and the worker uses the real adapters against them
(SMS_GATEWAY=twilio, BROADCAST_GATEWAY=http, BEIDOU_GATEWAY=serial,
CELL_BROADCAST_GATEWAY=cap): a new user sees the traffic the field would carry.
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup
from redis.exceptions import RedisError
from sqlalchemy import select

from ..demo_data import DEMO_CBC_OPERATORS, DEMO_KEY_AGENCIES, DEMO_USERS, DemoAgency, point_demo_cbc, point_demo_endpoints
from ..extensions import connect_redis, db
from ..models import Agency, utcnow
from ..security.api_keys import issue_agency_key

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
REDIS_START_SECONDS = 10.0
STOP_SECONDS = 35.0  # gunicorn's graceful timeout is 30 s
PEERS_MODULE = "peers"
DEMO_CARD = "0241636"
DEMO_CARD_INTERVAL = 1.0  # seconds; a real card's is 30-60, which would make the demo slow to watch
DEMO_SMS_PER_SECOND = 50
PEER_PORTS = 3 + 2 * len(DEMO_CBC_OPERATORS)  # broadcast, Twilio, BeiDou, and a primary and failover per CBC

demo_cli = AppGroup("demo", help="Run the service with the demo data.")


class _Stop(Exception):
    """SIGTERM arrived."""


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def redis_answers(settings: Mapping[str, Any]) -> bool:
    try:
        with connect_redis(settings) as client:
            return bool(client.ping())
    except (RedisError, OSError, ValueError):
        return False


def ensure_redis(settings: Mapping[str, Any]) -> str | None:
    """Make Redis answer where the settings say, starting a local redis-server if need be (never behind
    Sentinel: the sentinels' master is the operator's to run).

    Returns a note when it started one, None when Redis already answered.
    """
    if redis_answers(settings):
        return None
    if settings.get("REDIS_SENTINELS"):
        raise click.ClickException(f"Redis does not answer through the sentinels {settings['REDIS_SENTINELS']} "
                                   f"(master {settings.get('REDIS_SENTINEL_MASTER')!r}); start them, or unset "
                                   "REDIS_SENTINELS to use REDIS_URL")
    url = str(settings["REDIS_URL"])
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.hostname not in LOCAL_HOSTS:
        raise click.ClickException(f"Redis does not answer at {_redacted(url)}; start it, or set REDIS_URL "
                                   "to a Redis server that runs")
    binary = shutil.which("redis-server")
    if binary is None:
        raise click.ClickException(
            f"Redis does not answer at {_redacted(url)} and there is no redis-server on PATH. "
            "Install it (Debian/Ubuntu: `sudo apt-get install redis-server`), "
            "or set REDIS_URL to a Redis server that runs.")
    port = parts.port or 6379
    started = subprocess.run([binary, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port),
                              "--save", "", "--appendonly", "no"], capture_output=True, text=True)
    if started.returncode != 0:
        raise click.ClickException(f"redis-server failed to start: {started.stderr.strip() or started.stdout.strip()}")
    deadline = time.monotonic() + REDIS_START_SECONDS
    while not redis_answers(settings):
        if time.monotonic() > deadline:
            raise click.ClickException(f"started redis-server on port {port}, but it does not answer at {_redacted(url)}")
        time.sleep(0.2)
    return f"started redis-server on 127.0.0.1:{port} (it keeps running; stop it with `redis-cli -p {port} shutdown`)"


@dataclass(frozen=True)
class DemoKey:
    """A fresh API key of a demo agency, and the shell variable the README's examples read it from."""

    variable: str
    agency: DemoAgency
    key: str

    def describe(self) -> str:
        """Who the key speaks for and what it may do, so nobody posts a rainstorm with the seismic key."""
        review = ("publishes at once, no review" if self.agency.auto_publish
                  else "its alerts wait in the duty officers' inbox")
        return f"API key of {self.agency.name}, {self.agency.kind.value}: may issue {', '.join(self.agency.hazards)}; {review}"


def issue_demo_keys() -> list[DemoKey]:
    """Fresh keys for the demo weather and seismic agencies (earlier ones stay live)."""
    keys = []
    for variable, spec in DEMO_KEY_AGENCIES:
        agency = db.session.scalar(select(Agency).where(Agency.name == spec.name))
        if agency is None:
            raise click.ClickException("the demo agencies are missing; run `flask seed demo` (or `make setup`) first")
        keys.append(DemoKey(variable, spec, issue_agency_key(db.session, agency)))
    db.session.commit()
    return keys


def example_alert() -> dict:
    """An exercise alert, so trying the demo reaches only targets marked for exercises."""
    return {
        "status": "Exercise",
        "hazard": "earthquake",
        "area": {"counties": ["513301"]},
        "expires": (utcnow() + timedelta(hours=2)).replace(microsecond=0).isoformat(),
        "headline": {"zh": "康定市地震演练 (demo)"},
        "description": {"zh": "这是演示系统的地震演练信息，不是真实预警。"},
        "instruction": {"zh": "请按演练方案行动。"},
    }


def banner(keys: list[DemoKey], base_url: str) -> str:
    """What `demo serve` prints before the servers start: the keys as shell assignments, ready to paste
    before the README's examples, and an exercise earthquake posted with the seismic one."""
    seismic = next(key for key in keys if key.agency.auto_publish)
    body = json.dumps(example_alert(), ensure_ascii=False)
    curl = (f"curl -sS -X POST {base_url}/api/v1/alerts \\\n"
            f"    -H {shlex.quote('Authorization: Bearer ' + seismic.key)} \\\n"
            f"    -H 'Content-Type: application/json' \\\n"
            f"    -d {shlex.quote(body)}")
    logins = "\n".join(user.login_line() for user in DEMO_USERS)
    shown = "\n".join(f"{key.describe()}:\n  {key.variable}={key.key}" for key in keys)
    return (f"Early-warning service demo (demo data only, never real warnings)\n"
            f"\n"
            f"Console: {base_url}/\n"
            f"Demo logins (demo-only passwords):\n{logins}\n"
            f"\n"
            f"Fresh API keys (shown once; the README's examples read them from these shell variables):\n{shown}\n"
            f"\n"
            f"Post an exercise earthquake (published at once, to exercise targets only):\n{curl}\n")


def gateway_peers(first_port: int, web_base_url: str) -> tuple[dict, dict[str, str]]:
    """The peers' configuration (without the broadcast secrets) and the settings that aim the worker at them."""
    ports = {"broadcast": first_port, "twilio": first_port + 1, "beidou": first_port + 2}
    twilio = {"account_sid": "AC" + secrets.token_hex(16), "auth_token": secrets.token_hex(16)}
    config = {"ports": ports, "twilio": twilio, "beidou": {"card": DEMO_CARD, "interval": DEMO_CARD_INTERVAL}}
    settings = {
        "SMS_GATEWAY": "twilio",
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{ports['twilio']}",
        "TWILIO_ACCOUNT_SID": twilio["account_sid"],
        "TWILIO_AUTH_TOKEN": twilio["auth_token"],
        "TWILIO_FROM": "+8610690000000",
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_MAX_MPS": str(DEMO_SMS_PER_SECOND),
        "PUBLIC_BASE_URL": web_base_url,
        "BROADCAST_GATEWAY": "http",
        "BEIDOU_GATEWAY": "serial",
        "BEIDOU_SERIAL_URL": f"socket://127.0.0.1:{ports['beidou']}",
        "CELL_BROADCAST_GATEWAY": "cap",
        # Rows the rate limits deferred come back with the reconciler: with the demo card's
        # short interval, a 5 s round would set the pace rather than the card.
        "RECONCILE_INTERVAL_SECONDS": "1",
    }
    return config, settings


def server_command(host: str, port: int) -> list[str]:
    if importlib.util.find_spec("gunicorn") is not None:
        return [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"{host}:{port}", "wsgi:app"]
    return [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", host, "--port", str(port)]


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    try:
        for process in processes:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        pass  # too slow to stop, or a second Ctrl-C: stop waiting
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_until_stopped(commands: dict[str, list[str]], env: dict[str, str] | None = None,
                      stdin: dict[str, bytes] | None = None) -> tuple[str, int] | None:
    """Run the commands from the repository root until one exits or we get Ctrl-C/SIGTERM.

    Children get their own session, so a Ctrl-C reaches only us and each child
    is stopped exactly once, with SIGTERM (a second signal would make the RQ
    worker abandon its job). `stdin` feeds a child its input by name. Returns
    (name, exit code) of a child that ended on its own, or None when we were
    told to stop.
    """
    def on_sigterm(_signum, _frame):
        raise _Stop

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            fed = (stdin or {}).get(name)
            processes[name] = subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True,
                                               stdin=subprocess.PIPE if fed is not None else None)
            if fed is not None:
                processes[name].stdin.write(fed)
                processes[name].stdin.close()
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    return name, process.returncode
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        return None
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # already stopping
        _stop(list(processes.values()))
        signal.signal(signal.SIGTERM, previous)


@demo_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the web server listens on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--peers/--no-peers", default=True, show_default=True,
              help="Play the gateways with the loopback peers, or use the gateways the settings name.")
@click.option("--peers-port", type=click.IntRange(1, 65535 - PEER_PORTS + 1), default=8701, show_default=True,
              help=f"First of {PEER_PORTS} ports for the peers: broadcast, Twilio, BeiDou, then each operator's CBC "
                   "(primary and failover).")
def serve(host: str, port: int, peers: bool, peers_port: int) -> None:
    """Check Redis, print a fresh demo key and how to use it, run the gateway peers, a worker and the web server."""
    note = ensure_redis(current_app.config)
    if note:
        click.echo(note)
    keys = issue_demo_keys()
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{shown_host}:{port}"
    commands = {"worker": [sys.executable, "worker.py"], "web server": server_command(host, port)}
    env, stdin = dict(os.environ), {}
    if peers:
        if not (REPO_ROOT / PEERS_MODULE.replace(".", "/") / "__main__.py").is_file():
            raise click.ClickException(f"the gateway peers ({PEERS_MODULE}) are not here; run from a checkout "
                                       "of the repository, or pass --no-peers")
        config, settings = gateway_peers(peers_port, base_url)
        config["broadcast_secrets"] = point_demo_endpoints(db.session, f"http://127.0.0.1:{peers_port}/ebm")
        config["cbc"] = {"callback_base": base_url, "operators": point_demo_cbc(db.session, peers_port + 3)}
        db.session.commit()
        env.update(settings)
        stdin["gateway peers"] = json.dumps(config).encode()
        commands = {"gateway peers": [sys.executable, "-m", PEERS_MODULE], **commands}
    click.echo(banner(keys, base_url))
    click.echo(f"Starting {', '.join(commands)}; Ctrl-C stops them all.")
    ended = run_until_stopped(commands, env, stdin)
    if ended is not None:
        name, code = ended
        raise click.ClickException(f"the {name} exited (code {code}); stopped the rest")
    click.echo("stopped")
