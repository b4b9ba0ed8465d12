"""Losing a machine (issue 19): the app on Redis behind Sentinel, and on a multi-host DATABASE_URL. Each test module
gets a PostgreSQL database of its own (sentinel_*) and its own `app` over it; SQLite has no second host to fail to."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.chaos.servers import wait_for
from tests.support.backends import scratch_database
from tests.support.dispatch import statuses
from warning_service.extensions import db
from warning_service.models import Delivery

SETTLE_SECONDS = 60  # generous: the machine is shared; no speed is asserted


@pytest.fixture(scope="module")
def sentinel_database() -> Iterator[str]:
    with scratch_database("sentinel") as url:
        yield url


def publish_earthquake(client, headers) -> int:
    """An Actual earthquake report from the seismic agency (published at once) to the people's counties."""
    response = client.post("/api/v1/alerts", headers=headers, json={
        "status": "Actual", "hazard": "earthquake", "area": {"counties": ["513301", "513322"]},
        "expires": (datetime.now(UTC) + timedelta(hours=2)).isoformat(), "parameters": {"magnitude": 5.2, "depth_km": 10}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def wait_until_sent(alert_id: int) -> dict[str, int]:
    """Every delivery of the alert sent; fails after SETTLE_SECONDS with what was seen."""
    def all_sent() -> bool:
        db.session.remove()  # a fresh look at what the worker wrote
        total = db.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.alert_id == alert_id))
        return bool(total) and statuses(alert_id) == {"sent": total}

    try:
        wait_for(all_sent, SETTLE_SECONDS, f"every delivery of alert {alert_id} to be sent", interval=0.2)
    except TimeoutError as error:
        raise AssertionError(f"{error}: {statuses(alert_id)}") from None
    return statuses(alert_id)
