"""A multi-host DATABASE_URL whose first host is down (issue 19, database failover): libpq tries the next, the
app answers /healthz naming the host it reached, and an alert is published and worked."""
from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from peers.ports import free_ports
from tests.ha.conftest import publish_earthquake, wait_until_sent
from tests.support.backends import POSTGRES_ADMIN_URL, empty_redis
from tests.support.dispatch import work
from warning_service.extensions import db


@pytest.fixture
def primary(sentinel_database) -> str:
    """host:port of the PostgreSQL server that runs (the one the list names second)."""
    return urlsplit(sentinel_database).netloc.rpartition("@")[2]


@pytest.fixture
def app(app_builder, sentinel_database, primary, redis_url):
    """The app on libpq's multi-host URL, as an operator writes it: the first host a port nothing listens on."""
    parts = urlsplit(sentinel_database)
    user = parts.netloc.rpartition("@")[0]
    url = f"postgresql://{user}@127.0.0.1:{free_ports(1)},{primary}{parts.path}?target_session_attrs=read-write"
    empty_redis(redis_url)
    app = app_builder(url, redis_url)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def cut_every_connection(database_url: str) -> int:
    """What a failover does to the pool: every connection to the database ends under it."""
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        return len(admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchall())


def test_the_app_answers_and_publishes_when_the_first_database_host_is_down(
        app, client, sentinel_database, primary, seismic, people, counting):
    response = client.get("/healthz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["database"] == {"ok": True, "node": primary}
    # The pooled connections die (as in a failover): each is found dead before use and replaced, never a 500.
    db.session.remove()
    assert cut_every_connection(sentinel_database) >= 1
    alert_id = publish_earthquake(client, seismic[1])
    work(app)
    assert wait_until_sent(alert_id)
