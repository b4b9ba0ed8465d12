"""`flask channels check`: can each channel's configured gateway be reached? Sends no alert.

One line per thing checked, OK or FAILED with the reason; exits 1 when anything failed, so a
deployment script or a cron job can act on it. With BROADCAST_GATEWAY=http every active broadcast
endpoint is sent a signed heartbeat with its own secret. Secrets are never printed.
"""
from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..channels.base import ChannelAdapter, GatewayUnavailable
from ..channels.registry import SETTING_FOR_CHANNEL, build_adapter
from ..extensions import db
from ..models import BroadcastEndpoint

# Endpoints checked at once: 31 counties, each given BROADCAST_TIMEOUT_SECONDS.
_PARALLEL_CHECKS = 8

channels_cli = AppGroup("channels", help="Check the channels' gateways.")


@dataclass(frozen=True)
class Check:
    what: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'OK' if self.ok else 'FAILED':<6}  {self.what}: {self.detail}"


def check_channels(session: Session, settings: Mapping[str, object]) -> list[Check]:
    checks = []
    for channel, setting in SETTING_FOR_CHANNEL.items():
        check, adapter = check_gateway(channel, f"{channel} ({setting}={settings.get(setting) or 'log'})", settings)
        checks.append(check)
        if adapter is not None and channel == "broadcast" and adapter.name == "http":
            checks.extend(check_broadcast_endpoints(session, settings))
    return checks


def check_gateway(channel: str, what: str, settings: Mapping[str, object]) -> tuple[Check, ChannelAdapter | None]:
    try:
        adapter = build_adapter(channel, settings)
        return Check(what, True, adapter.check()), adapter
    except Exception as exc:  # a diagnostic reports every failure (a bad setting, a missing module) and goes on
        return Check(what, False, f"{type(exc).__name__}: {exc}"), None


def check_broadcast_endpoints(session: Session, settings: Mapping[str, object]) -> list[Check]:
    endpoints = session.scalars(select(BroadcastEndpoint).where(BroadcastEndpoint.active)
                                .order_by(BroadcastEndpoint.county_code, BroadcastEndpoint.id)).all()
    if not endpoints:
        return [Check("broadcast endpoints", False, "none active: broadcasts would reach no one "
                                                    "(add one with `flask endpoints add-broadcast`)")]
    targets = [(f"broadcast endpoint {e.id} {e.county_code} {e.name} {e.url}", e.url, e.secret) for e in endpoints]
    with ThreadPoolExecutor(max_workers=_PARALLEL_CHECKS) as pool:
        return list(pool.map(lambda target: _check_endpoint(*target, settings), targets))


def _check_endpoint(what: str, url: str, secret: str, settings: Mapping[str, object]) -> Check:
    from ..channels.broadcast import check_endpoint  # requests and the EBM format only when checked

    try:
        return Check(what, True, check_endpoint(url, secret, settings))
    except GatewayUnavailable as exc:
        return Check(what, False, str(exc))


@channels_cli.command("check")
def check() -> None:
    """Reach every channel's gateway, and each active broadcast endpoint, without sending an alert."""
    checks = check_channels(db.session, current_app.config)
    for item in checks:
        click.echo(item.line())
    if not all(item.ok for item in checks):
        raise click.exceptions.Exit(1)
