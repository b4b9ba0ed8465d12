"""Where the test sessions find PostgreSQL and Redis, databases of their own there, and the key by which a
session claims a Redis database."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from redis import Redis

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
REDIS_CLAIM_KEY = "ews:test-session"


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A PostgreSQL database of this process's own (`prefix`_pid_random), dropped afterwards; yields its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_redis(url: str) -> None:
    """Everything in this session's Redis database but its claim on it."""
    connection = Redis.from_url(url)
    keys = [key for key in connection.scan_iter() if key != REDIS_CLAIM_KEY.encode()]
    if keys:
        connection.delete(*keys)
