"""Settings, read from the environment in one place.

Every field of `Settings` is read from the environment variable of the same
name (DATABASE_URL for the database), typed as its default, and so is every
setting a channel declares in its package (channels/catalog.py settings_schema,
which the app factory passes in: this module knows no channel). Every setting has a
safe default for development; production must set SECRET_KEY (create_app
refuses to start without it outside development). MFA_REQUIRED defaults to on
outside development.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEV_SECRET_KEY = "dev-only-insecure-secret-key"
MULTI_HOST_CONNECT_TIMEOUT_SECONDS = 5  # per host of a multi-host DATABASE_URL that sets none


# Settings whose environment variable has another name than the setting.
ENVIRONMENT_NAMES = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}
# Settings that are not read from the environment as they are.
DERIVED = {"ENV", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "SQLALCHEMY_TRACK_MODIFICATIONS",
           "CHANNEL_SETTINGS"}


def _parse(name: str, raw: str, like: object) -> object:
    """The environment's text as the type of the setting's default; a clear error otherwise."""
    if isinstance(like, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(like, (int, float)):
        try:
            return type(like)(raw)
        except ValueError as exc:
            kind = "a whole number" if isinstance(like, int) else "a number"
            raise RuntimeError(f"setting {name} must be {kind}, got {raw!r}") from exc
    return raw


@dataclass
class Settings:
    """The service's settings. `from_env` is the only place that reads os.environ."""

    ENV: str = "development"
    SECRET_KEY: str = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI: str = ""
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    # Redis behind Sentinel (docs/OPERATIONS.md): `host:port,host:port,...` of the sentinels and the name they
    # monitor the master by. Set, they replace REDIS_URL: every process asks the sentinels where the master is,
    # and asks again after a failover. The password is the master's and the sentinels' (the same).
    REDIS_SENTINELS: str = ""
    REDIS_SENTINEL_MASTER: str = ""
    REDIS_SENTINEL_PASSWORD: str = ""
    # How long a Redis command is retried while the sentinels promote a replica; above their
    # down-after-milliseconds plus the election, so a command during a switch lands on the new master.
    REDIS_FAILOVER_SECONDS: float = 10.0
    # Agency API bodies: real messages with embedded audio or detailed polygons
    # run to about 1 MiB, so 10 MiB leaves room without inviting abuse.
    MAX_CONTENT_LENGTH: int = 10 * 1024 * 1024
    # What one alert (or preview) may ask of the intake, counted before any point is read or any
    # geometry built (intake/limits.py). The largest of the 42 real messages in tests/data/cap-real:
    # 1,352 <area> (DWD, 169 areas in each of 8 languages) with 1,344 geocodes; one polygon of 41,009
    # points (a WMO composer message for Burkina Faso), 3,200 points in all in another (DWD); 2
    # circles; 9 references (ECCC). Each default leaves room above those, and no more.
    MAX_ALERT_AREAS: int = 2_000
    MAX_POLYGON_POINTS: int = 50_000
    MAX_ALERT_POINTS: int = 100_000  # all polygons of the alert together, every <info> counted
    MAX_ALERT_GEOCODES: int = 5_000
    MAX_ALERT_REFERENCES: int = 100
    MAX_ALERT_CIRCLES: int = 100
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
    # Sealing settled deliveries into the audit ledger (audit/seals.py): rows per seal, rows per
    # reconciler pass, and how old a row must be before it is sealed (no transaction still writing
    # rows around it). A channel with delivery receipts says how long a sent row waits for one.
    DELIVERY_SEAL_CHUNK: int = 10_000
    SEAL_ROWS_PER_PASS: int = 100_000
    SEAL_MIN_AGE_SECONDS: float = 60.0
    # The Ed25519 private key the ledger's head is signed with (PEM); unset: audit-signing-key.pem in
    # the instance folder. `flask audit generate-key` writes one, and its public key beside it (.pub).
    AUDIT_SIGNING_KEY: str = ""
    # The reconciler signs the ledger's head at most once per this many seconds, when it moved, and
    # keeps each signed head in the database and as a file in LEDGER_HEADS_DIR (unset: ledger-heads in
    # the instance folder; production: another disk or host, docs/OPERATIONS.md). An attacker who can
    # write the database can rewrite the entries of the last interval unseen, no older ones.
    LEDGER_SIGN_INTERVAL_SECONDS: int = 60
    LEDGER_HEADS_DIR: str = ""
    # The address the outside world reaches this service at (gateways' status callbacks, behind a proxy).
    PUBLIC_BASE_URL: str = "http://127.0.0.1:5000"
    # Console sign-in: the session cookie, the idle time after which it ends, failed logins.
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = False  # True in production, behind HTTPS
    CONSOLE_IDLE_MINUTES: float = 30.0  # fractions allowed: 0.05 is 3 s (tests)
    LOGIN_MAX_FAILURES: int = 5
    LOGIN_LOCKOUT_SECONDS: int = 300
    # Password spraying (one guess for each of many usernames) is slowed per client address instead.
    LOGIN_MAX_FAILURES_PER_ADDRESS: int = 20
    # Duty officers and admins must enrol in the second factor (TOTP) before using the console. Default:
    # on everywhere but development (from_env), where the demo users come enrolled instead.
    MFA_REQUIRED: bool = True
    # A red Actual warning needs a second duty officer's approval (earthquake early warning may override).
    RED_NEEDS_SECOND_OFFICER: bool = True
    # The CAP sender of messages the console makes (cancellations).
    CONSOLE_CAP_SENDER: str = "console@ews.garze-ngawa.example"
    # Logs: JSON lines (json) or plain text (text) on stderr, from this level up.
    LOG_FORMAT: str = "json"
    LOG_LEVEL: str = "INFO"
    # /metrics: a scraper sends `Authorization: Bearer <token>`; this is the token's SHA-256 in hex
    # (`printf %s "$TOKEN" | sha256sum`), so the token itself is never in the settings. Empty: admins only.
    METRICS_TOKEN_SHA256: str = ""
    # A directory shared by every gunicorn and worker.py process for their metrics, emptied before
    # they start. prometheus-client reads this same variable itself, at import. Empty: one process.
    PROMETHEUS_MULTIPROC_DIR: str = ""
    # A database restart leaves every pooled connection dead: test one before use, so the first
    # request or job after a restart does not fail with it (the fault suite restarts PostgreSQL).
    SQLALCHEMY_ENGINE_OPTIONS: dict = field(default_factory=lambda: {"pool_pre_ping": True})
    SQLALCHEMY_TRACK_MODIFICATIONS: bool = False
    TESTING: bool = False
    # Each channel's own settings by name (its gateway, its budget, its gateway's account), declared with
    # their defaults in its package (channels/catalog.py settings_schema) and read like the fields above.
    CHANNEL_SETTINGS: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, instance_path: str, channel_schema: Mapping[str, object] = MappingProxyType({})) -> Settings:
        """The settings from the environment; `channel_schema`: the channels' own settings and their
        defaults (the config knows no channel: the app factory passes the catalog's)."""
        env = os.environ.get("WARNING_SERVICE_ENV", os.environ.get("FLASK_ENV", "development"))
        values: dict[str, object] = {
            "ENV": env,
            "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY if env == "development" else ""),
            "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL")
            or "sqlite:///" + str(Path(instance_path) / "warning_service.sqlite3"),
            "AUDIT_SIGNING_KEY": str(Path(instance_path) / "audit-signing-key.pem"),
            "LEDGER_HEADS_DIR": str(Path(instance_path) / "ledger-heads"),
            "MFA_REQUIRED": env != "development",
            "CHANNEL_SETTINGS": {name: _parse(name, raw, default) if (raw := _environment(name)) else default
                                 for name, default in channel_schema.items()},
        }
        defaults = cls()
        for setting in fields(cls):
            raw = _environment(setting.name)
            if setting.name not in DERIVED and raw:
                values[setting.name] = _parse(setting.name, raw, getattr(defaults, setting.name))
        return cls(**values)  # type: ignore[arg-type]  # each value parsed to its field's type by _parse

    def as_flask_config(self) -> dict:
        """Every setting by name, the channels' among them."""
        config = {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "CHANNEL_SETTINGS"}
        return {**config, **self.CHANNEL_SETTINGS}


def _environment(name: str) -> str | None:
    """The setting's environment variable, None when unset (or empty: unset)."""
    return os.environ.get(ENVIRONMENT_NAMES.get(name, name)) or None


def normalise_database_url(url: str) -> str:
    """Route PostgreSQL URLs to psycopg 3, whatever scheme the operator wrote, with libpq's multi-host forms
    (`postgresql://u@a:5432,b:5432/db`, `?host=a:5432,b:5432`) written as SQLAlchemy reads them (`?host=a:5432&host=b:5432`)."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return _multi_host("postgresql+psycopg://" + url[len(prefix):])
    return url


def _multi_host(url: str) -> str:
    """SQLAlchemy cannot parse a host list in the authority and hands `host=a:p,b:p` to libpq, which takes
    `a:p` for a host name: each host becomes its own `host=` parameter, its port with it."""
    parts = urlsplit(url)
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    query = parse_qsl(parts.query, keep_blank_values=True)
    hosts, netloc = ([host for host in hostlist.split(",") if host], userinfo + at) if "," in hostlist else ([], parts.netloc)
    named = [value for key, value in query if key == "host"]
    if len(named) == 1 and "," in named[0] and ":" in named[0] and not any(key == "port" for key, _ in query):
        hosts += [host for host in named[0].split(",") if host]
        query = [(key, value) for key, value in query if key != "host"]
    query = [("host", host) for host in hosts] + query
    if sum(len(value.split(",")) for key, value in query if key == "host") < 2:
        return url
    if not any(key == "connect_timeout" for key, _ in query):  # libpq waits on a dead host for minutes, not trying the next
        query.append(("connect_timeout", str(MULTI_HOST_CONNECT_TIMEOUT_SECONDS)))
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe=":,/")))
