"""In a real browser (Playwright, Debian's Chromium): a duty officer enrolled in the second factor signs
in with password and TOTP code, publishes an alert, signs out, and the cookie copied before signing
out no longer opens the console. Screenshots (zh) in test-artifacts/."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from tests.support.browser import begin_compose, pick_county, shot
from tests.support.console import PASSWORD
from warning_service.audit.period import BEIJING
from warning_service.extensions import db
from warning_service.models import User


def test_browser_an_officer_signs_in_with_a_code_publishes_and_the_old_cookie_dies(browser, page, served_app, people):
    secret = db.session.scalar(select(User.mfa_secret).where(User.username == "officer"))
    page.goto("/login")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_url("**/login/code")
    expect(page.locator("h1")).to_have_text("两步登录")
    shot(page, "second-factor-zh")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("form.login button[type=submit]")
    expect(page.locator(".who")).to_contain_text("officer")

    begin_compose(page, "Exercise", "blue")
    pick_county(page, "康定")
    expires = (datetime.now(BEIJING) + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    page.fill("input[name=expires]", expires)
    page.click("#save-alert")
    page.check("input[name=confirm_status]")
    page.click("button.publish")
    expect(page.locator(".flash.ok")).to_contain_text("已发布")
    shot(page, "published-after-two-step-sign-in-zh")

    captured = page.context.cookies()
    page.click("#sign-out")
    expect(page.locator(".flash.ok")).to_contain_text("所有设备")
    thief = browser.new_context(base_url=served_app, locale="zh-CN")
    thief.add_cookies(captured)
    stolen = thief.new_page()
    stolen.goto("/")
    expect(stolen).to_have_url(re.compile(r"/login"))
    expect(stolen.locator(".who")).to_have_count(0)
    thief.close()
