"""The fan-out tests' own fixture: every channel through the counting gateway."""
from __future__ import annotations

import pytest
from redis import Redis

from tests.support.gateways import register


@pytest.fixture
def counting(app, monkeypatch):
    """Every channel through the counting gateway."""
    register()
    for setting in ("SMS_GATEWAY", "BROADCAST_GATEWAY", "BEIDOU_GATEWAY", "CELL_BROADCAST_GATEWAY"):
        monkeypatch.setitem(app.config, setting, "counting")
    app.extensions.pop("sender", None)
    yield Redis.from_url(app.config["REDIS_URL"])
    app.extensions.pop("sender", None)
