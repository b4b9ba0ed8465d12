"""The console tests' own fixtures: an alert with more deliveries than a page, and the browser tests'
Chromium and page. The people, the signed-in client's helpers and the alerts are in tests/support."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import insert

from tests.support.console import waiting_alert
from tests.support.reports import KANGDING, LUDING
from warning_service.extensions import db
from warning_service.models import Channel, Delivery, DeliveryStatus

CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by `make browser`


@pytest.fixture
def crowded_alert(app, people) -> int:
    """An alert with 330 broadcast and SMS deliveries, 220 in Kangding (513301) and 110 in Luding (513322)."""
    alert_id = waiting_alert()
    rows = [dict(alert_id=alert_id, channel=Channel.SMS if target % 2 else Channel.BROADCAST, target_id=target,
                 county_code="513301" if target < KANGDING else "513322",
                 status=DeliveryStatus.FAILED if target % 10 == 0 else DeliveryStatus.DELIVERED)
            for target in range(KANGDING + LUDING)]
    db.session.execute(insert(Delivery), rows)
    db.session.commit()
    return alert_id


def browser_environment() -> dict[str, str]:
    """The browser runs on the machine's real clock even when the suite runs time-shifted
    (`make test-future`): Chromium under libfaketime loads no page. The browser is the officer's
    own machine; the service's clock is the one moved ahead."""
    return {name: value for name, value in os.environ.items() if name != "LD_PRELOAD"}


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], env=browser_environment())
        yield launched
        launched.close()


@pytest.fixture
def page(browser, served_app) -> Iterator[Page]:
    context = browser.new_context(base_url=served_app, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
