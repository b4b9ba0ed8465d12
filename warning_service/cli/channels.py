"""`flask channels check`: can each channel's configured gateway be reached? Sends no alert.

One line per thing checked, OK or FAILED with the reason; exits 1 when anything failed, so a
deployment script or a cron job can act on it. A channel may check its targets too
(`ChannelSpec.check_targets`: with BROADCAST_GATEWAY=http every active broadcast endpoint is sent a
signed heartbeat with its own secret). Secrets are never printed.
"""
from __future__ import annotations

from collections.abc import Mapping

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from ..channels.base import ChannelAdapter
from ..channels.catalog import channels
from ..channels.gateways import build_adapter
from ..channels.spec import Check
from ..extensions import db

channels_cli = AppGroup("channels", help="Check the channels' gateways.")


def check_channels(session: Session, settings: Mapping[str, object]) -> list[Check]:
    checks = []
    for channel in channels():
        setting = channel.gateway_setting
        check, adapter = check_gateway(channel.name, f"{channel.name} ({setting}={settings.get(setting) or 'log'})",
                                       settings)
        checks.append(check)
        if adapter is not None and channel.check_targets is not None:
            checks.extend(channel.check_targets(session, settings, adapter))
    return checks


def check_gateway(channel: str, what: str, settings: Mapping[str, object]) -> tuple[Check, ChannelAdapter | None]:
    try:
        adapter = build_adapter(channel, settings)
        return Check(what, True, adapter.check()), adapter
    except Exception as exc:  # a diagnostic reports every failure (a bad setting, a missing module) and goes on
        return Check(what, False, f"{type(exc).__name__}: {exc}"), None


@channels_cli.command("check")
def check() -> None:
    """Reach every channel's gateway, and the targets a channel checks (each active broadcast endpoint),
    without sending an alert."""
    checks = check_channels(db.session, current_app.config)
    for item in checks:
        click.echo(item.line())
    if not all(item.ok for item in checks):
        raise click.exceptions.Exit(1)
