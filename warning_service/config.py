"""Settings, read from the environment in one place.

Every setting has a safe default for development; production must set
SECRET_KEY (create_app refuses to start without it outside development).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEV_SECRET_KEY = "dev-only-insecure-secret-key"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"setting {name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass
class Settings:
    """The service's settings. `from_env` is the only place that reads os.environ."""

    ENV: str = "development"
    SECRET_KEY: str = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI: str = ""
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    # Agency API bodies: real messages with embedded audio or detailed polygons
    # run to about 1 MiB, so 10 MiB leaves room without inviting abuse.
    MAX_CONTENT_LENGTH: int = 10 * 1024 * 1024
    # Gateways per channel: null, log (development), or a real one (twilio, http, serial).
    SMS_GATEWAY: str = "log"
    BROADCAST_GATEWAY: str = "log"
    BEIDOU_GATEWAY: str = "log"
    # Fan-out: targets written per chunk (each chunk is queued before the next is written),
    # deliveries per RQ job, and the retry policy for transient gateway failures.
    FANOUT_CHUNK_SIZE: int = 20_000
    FANOUT_BATCH_SIZE: int = 500
    DELIVERY_MAX_ATTEMPTS: int = 5
    RETRY_BASE_SECONDS: float = 2.0
    RETRY_MAX_SECONDS: float = 300.0
    # Reconciler: a row claimed this long ago with no result is presumed lost with its
    # worker; a pending row queued this long ago is queued again.
    SENDING_TIMEOUT_SECONDS: int = 120
    PENDING_TIMEOUT_SECONDS: int = 300
    RECONCILE_INTERVAL_SECONDS: int = 5
    # Channel budgets (CHANNELS.md): SMS segments to China, BeiDou card capacity, broadcast read-out.
    SMS_MAX_SEGMENTS: int = 8
    BEIDOU_CAPACITY_BITS: int = 14_000
    BEIDOU_MAX_PARTS: int = 1
    BROADCAST_MAX_SECONDS: int = 60
    SQLALCHEMY_ENGINE_OPTIONS: dict = field(default_factory=dict)
    SQLALCHEMY_TRACK_MODIFICATIONS: bool = False
    TESTING: bool = False

    @classmethod
    def from_env(cls, instance_path: str) -> "Settings":
        env = os.environ.get("WARNING_SERVICE_ENV", os.environ.get("FLASK_ENV", "development"))
        default_db = "sqlite:///" + str(Path(instance_path) / "warning_service.sqlite3")
        return cls(
            ENV=env,
            SECRET_KEY=os.environ.get("SECRET_KEY", DEV_SECRET_KEY if env == "development" else ""),
            SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL") or default_db,
            REDIS_URL=os.environ.get("REDIS_URL", cls.REDIS_URL),
            MAX_CONTENT_LENGTH=_env_int("MAX_CONTENT_LENGTH", cls.MAX_CONTENT_LENGTH),
            TESTING=_env_bool("TESTING", False),
            SMS_GATEWAY=os.environ.get("SMS_GATEWAY", cls.SMS_GATEWAY),
            BROADCAST_GATEWAY=os.environ.get("BROADCAST_GATEWAY", cls.BROADCAST_GATEWAY),
            BEIDOU_GATEWAY=os.environ.get("BEIDOU_GATEWAY", cls.BEIDOU_GATEWAY),
            FANOUT_CHUNK_SIZE=_env_int("FANOUT_CHUNK_SIZE", cls.FANOUT_CHUNK_SIZE),
            FANOUT_BATCH_SIZE=_env_int("FANOUT_BATCH_SIZE", cls.FANOUT_BATCH_SIZE),
            DELIVERY_MAX_ATTEMPTS=_env_int("DELIVERY_MAX_ATTEMPTS", cls.DELIVERY_MAX_ATTEMPTS),
            SENDING_TIMEOUT_SECONDS=_env_int("SENDING_TIMEOUT_SECONDS", cls.SENDING_TIMEOUT_SECONDS),
            PENDING_TIMEOUT_SECONDS=_env_int("PENDING_TIMEOUT_SECONDS", cls.PENDING_TIMEOUT_SECONDS),
            RECONCILE_INTERVAL_SECONDS=_env_int("RECONCILE_INTERVAL_SECONDS", cls.RECONCILE_INTERVAL_SECONDS),
            SMS_MAX_SEGMENTS=_env_int("SMS_MAX_SEGMENTS", cls.SMS_MAX_SEGMENTS),
            BEIDOU_CAPACITY_BITS=_env_int("BEIDOU_CAPACITY_BITS", cls.BEIDOU_CAPACITY_BITS),
            BEIDOU_MAX_PARTS=_env_int("BEIDOU_MAX_PARTS", cls.BEIDOU_MAX_PARTS),
            BROADCAST_MAX_SECONDS=_env_int("BROADCAST_MAX_SECONDS", cls.BROADCAST_MAX_SECONDS),
        )

    def as_flask_config(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def normalise_database_url(url: str) -> str:
    """Route PostgreSQL URLs to psycopg 3, whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
