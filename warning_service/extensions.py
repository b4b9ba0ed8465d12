"""Flask extensions and shared clients, created once and bound in create_app()."""
from __future__ import annotations

from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
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


def init_redis(app: Flask) -> None:
    app.extensions["redis"] = Redis.from_url(app.config["REDIS_URL"])


def redis_client() -> Redis:
    return current_app.extensions["redis"]


def queues(connection: Redis | None = None) -> list[Queue]:
    """The priority queues, highest first."""
    connection = connection or redis_client()
    return [Queue(name, connection=connection) for name in QUEUE_NAMES]
