"""The `flask --app wsgi ...` commands, one module per group."""
from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from . import cbc_operators  # noqa: F401  (its commands join the endpoints group)
    from .agency import agency_cli
    from .areas import areas_cli
    from .audit import audit_cli
    from .channels import channels_cli
    from .demo import demo_cli
    from .dispatch import alert_cli, dispatch_cli
    from .endpoints import endpoints_cli
    from .seed import seed_cli
    from .templates import templates_cli
    from .translations import translations_cli
    from .user import user_cli

    for group in (agency_cli, alert_cli, areas_cli, audit_cli, channels_cli, demo_cli, dispatch_cli, endpoints_cli, seed_cli, templates_cli,
                  translations_cli, user_cli):
        app.cli.add_command(group)
