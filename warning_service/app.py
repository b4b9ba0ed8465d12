"""The application factory: settings, extensions, blueprints and CLI commands, wired once."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, has_app_context

from .channels.catalog import settings_schema
from .config import Settings, normalise_database_url
from .extensions import db, init_redis, migrate
from .logs import configure_logging
from .rendering.overlay import EMPTY, Overlay, use_overlay


def create_app(overrides: dict | None = None) -> Flask:
    """Build the Flask application: settings, extensions, blueprints, CLI."""
    app = Flask("warning_service", instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env(app.instance_path, settings_schema())
    app.config.update(settings.as_flask_config())
    app.config.update(overrides or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("SECRET_KEY must be set outside development (WARNING_SERVICE_ENV)")

    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"), render_as_batch=True, compare_type=True)
    init_redis(app)

    from . import models  # noqa: F401  (register the tables with the metadata)
    from .cli import register_commands
    from .web import register_blueprints

    register_blueprints(app)
    register_commands(app)
    use_overlay(_desk_overlay)
    return app


def _desk_overlay() -> Overlay:
    """The translation desk's approved Tibetan, for whichever app is rendering (none outside one)."""
    from .services.translations import overlay

    return overlay(db.session) if has_app_context() else EMPTY
