"""The alert page and compose in Chinese and in Tibetan, in a real browser (Chromium via Playwright):
labels in the interface language, codes kept in data- attributes; screenshots in test-artifacts/."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.support.browser import shot, sign_in
from tests.support.console import waiting_alert
from warning_service.extensions import db
from warning_service.models import Level, User

# What each interface calls a waiting alert, an orange level and the text-message channel (zh, and bo's
# marked Chinese stand-ins from its catalog).
WORDS = {"zh": ("待审核", "橙色", "短信"), "bo": ("待审核", "橙色", "短信")}


@pytest.mark.parametrize("language", sorted(WORDS))
def test_the_alert_page_and_compose_show_labels_in_the_interface_language(app, page, people, language):
    user = db.session.scalar(select(User).where(User.username == "officer"))
    user.locale = language
    db.session.commit()
    alert_id = waiting_alert(level=Level.ORANGE)
    sign_in(page, "officer")
    page.goto(f"/alerts/{alert_id}")
    waiting, orange, sms = WORDS[language]
    expect(page.locator("#state")).to_have_attribute("data-state", "pending_review")
    expect(page.locator("#state")).to_have_text(waiting)
    expect(page.locator("h1 .level[data-level=orange]")).to_have_text(orange)
    expect(page.locator("tr[data-channel=sms] th")).to_have_text(sms)
    shot(page, f"alert-{language}")
    page.click("#nav-compose")
    expect(page.locator("input[name=circle_lat]")).to_have_attribute("placeholder", "纬度")
    expect(page.locator("select[name=level] option[value=orange]")).to_have_text(orange)
    shot(page, f"compose-{language}")
