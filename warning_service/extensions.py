"""Flask extensions and shared clients, created once and bound in create_app()."""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from rq import Queue
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .models.base import Base

# Queue names in the order a worker serves them: an earthquake early warning
# published during a large low-priority fan-out is the next job every worker takes.
QUEUE_NAMES: tuple[str, ...] = ("critical", "high", "default", "low")

db = SQLAlchemy(model_class=Base)
migrate = Migrate()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the web process and the workers share one SQLite file."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


T = TypeVar("T")
SENTINEL_TIMEOUT_SECONDS = 1.0  # a sentinel that does not answer in this time is skipped for the next one
MASTER_TIMEOUT_SECONDS = 5.0    # a master that went silent (powered off, no reset) is given up on after this; RQ's
                                # workers lengthen it for their blocking waits


class FailoverRetry(Retry):
    """Retries a Redis command until `seconds` have passed, not a number of times: redis-py retries connecting
    inside each retried command, so counted retries multiply, while a deadline bounds the wait for a new master."""

    def __init__(self, seconds: float):
        super().__init__(ExponentialBackoff(cap=0.5, base=0.05), retries=-1)
        self.seconds = seconds

    def call_with_retry(self, do: Callable[[], T], fail: Callable[[Exception], Any],
                        is_retryable: Callable[[Exception], bool] | None = None) -> T:
        deadline = time.monotonic() + self.seconds
        self._backoff.reset()
        failures = 0
        while True:
            try:
                return do()
            except self._supported_errors as error:
                if is_retryable and not is_retryable(error):
                    raise
                failures += 1
                fail(error)
                if time.monotonic() >= deadline:
                    raise
                time.sleep(self._backoff.compute(failures))


class MasterConnection(SentinelManagedConnection):
    """Two fixes to redis-py 7.1's Sentinel connection. It asks the sentinels for the master before every
    connection attempt: redis-py retries a failed command by reconnecting to the address it had, the dead
    master's, until its retries run out (redis/redis-py#3874). And it drops itself when a read is interrupted,
    as a plain connection does: redis-py's keeps the unread reply for the next command (redis/redis-py#4292),
    so a worker stopped by SIGTERM in its blocking wait for a job hung on its last write until that wait ran out."""

    def _connect(self):
        if self.connection_pool.is_master:
            self.host, self.port = self.connection_pool.get_master_address()
        return super()._connect()

    def read_response(self, disable_decoding=False, *, disconnect_on_error=True, push_request=False):
        return super().read_response(disable_decoding=disable_decoding, disconnect_on_error=disconnect_on_error,
                                     push_request=push_request)


def sentinel_addresses(text: str) -> list[tuple[str, int]]:
    """`host:port,host:port` as pairs; a clear error for a malformed entry (the process does not start)."""
    addresses = []
    for entry in filter(None, (part.strip() for part in text.split(","))):
        host, _, port = entry.rpartition(":")
        if not host or not port.isdigit():
            raise RuntimeError(f"REDIS_SENTINELS: {entry!r} is not host:port")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def connect_redis(settings: Mapping[str, Any]) -> Redis:
    """The one way every process reaches Redis: the master the sentinels name (REDIS_SENTINELS), asked again
    after a failover with each command retried meanwhile, or else the server at REDIS_URL."""
    sentinels = sentinel_addresses(str(settings.get("REDIS_SENTINELS") or ""))
    if not sentinels:
        return Redis.from_url(settings["REDIS_URL"])
    master = str(settings.get("REDIS_SENTINEL_MASTER") or "")
    if not master:
        raise RuntimeError("REDIS_SENTINELS is set but REDIS_SENTINEL_MASTER (the monitored master's name) is not")
    password = str(settings.get("REDIS_SENTINEL_PASSWORD") or "") or None
    sentinel = Sentinel(sentinels, sentinel_kwargs={
        "password": password, "socket_timeout": SENTINEL_TIMEOUT_SECONDS,
        "socket_connect_timeout": SENTINEL_TIMEOUT_SECONDS, "retry": Retry(NoBackoff(), 0)})
    return sentinel.master_for(master, connection_class=MasterConnection, password=password, socket_timeout=MASTER_TIMEOUT_SECONDS,
                               socket_connect_timeout=MASTER_TIMEOUT_SECONDS,
                               retry=FailoverRetry(float(settings["REDIS_FAILOVER_SECONDS"])))


def redis_node(connection: Redis) -> dict[str, str]:
    """Which Redis this connection uses, for /healthz: the master's host:port, and the sentinels' name for it."""
    pool = connection.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        host, port = pool.get_master_address()
        return {"node": f"{host}:{port}", "via": f"sentinel {pool.service_name}"}
    options = pool.connection_kwargs
    return {"node": options.get("path") or f"{options.get('host')}:{options.get('port')}"}


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = connect_redis(app.config)


def redis_client() -> Redis:
    return current_app.extensions["redis"]


def queues(connection: Redis | None = None) -> list[Queue]:
    """The priority queues, highest first."""
    connection = connection or redis_client()
    return [Queue(name, connection=connection) for name in QUEUE_NAMES]
