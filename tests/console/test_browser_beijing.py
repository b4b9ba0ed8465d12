"""The alert page in a real browser, in Chinese and Tibetan: the expiry in Beijing time with its label,
and delivery progress at the top of the page, counties by name, as the page's own polling redraws it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from tests.support.browser import shot, sign_in
from tests.support.console import near_midnight_utc, shown, waiting_alert, work
from warning_service.extensions import db
from warning_service.models import Alert

NAMES = {"zh": ("康定市", "泸定县"), "bo": ("དར་མདོ་གྲོང་ཁྱེར", "ལྕགས་ཟམ་རྫོང")}


@pytest.mark.parametrize("language", ["zh", "bo"])
def test_browser_the_alert_page_shows_beijing_time_and_progress_by_county_first(app, page, people, request, language):
    expires = near_midnight_utc(1)
    alert_id = waiting_alert()
    db.session.execute(update(Alert).where(Alert.id == alert_id).values(expires=expires))
    db.session.commit()
    sign_in(page, "officer")
    page.click(f"#language-form button[value={language}]")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"/alerts/{alert_id}")
    beijing, utc = shown(expires)
    expect(page.locator("#expires")).to_have_text(f"北京时间 {beijing}")  # bo: the catalog's Chinese stand-in
    page.check("input[name=confirm_status]")
    page.click("button.publish")
    work(app)
    progress = page.locator("#progress")
    expect(progress).to_have_attribute("data-settled", "true", timeout=20_000)
    rows = progress.locator("tbody tr")
    expect(rows.first.locator("td").nth(1)).to_have_text(NAMES[language][0])
    expect(rows.nth(1).locator("td").nth(1)).to_have_text(NAMES[language][1])
    expect(progress).not_to_contain_text("513301")
    assert progress.bounding_box()["y"] < page.locator("table.reach").bounding_box()["y"]
    assert progress.bounding_box()["y"] < page.viewport_size["height"]  # seen without scrolling
    assert utc not in page.locator("main").inner_text()
    shot(page, f"alert-beijing-progress-{request.node.callspec.id}")
