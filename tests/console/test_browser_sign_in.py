"""The sign-in page in a real browser (Playwright driving /usr/bin/chromium): nothing it loads is missing,
the reader switches its language before signing in, and the language buttons are of one size."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.support.browser import shot


def button_heights(page: Page) -> dict[str, float]:
    buttons = page.locator("#language-form button")
    return {buttons.nth(i).get_attribute("value"): buttons.nth(i).bounding_box()["height"]
            for i in range(buttons.count())}


def test_browser_the_sign_in_page_in_chinese_then_tibetan(page, request):
    failed: list[str] = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.locator("h1")).to_have_text("登录")
    assert page.locator("link[rel=icon]").count() == 1
    heights = button_heights(page)
    assert set(heights) == {"zh", "bo", "en"} and len(set(heights.values())) == 1, heights
    shot(page, f"sign-in-zh-{request.node.callspec.id}")

    page.click("#language-form button[value=bo]")
    expect(page.locator("html")).to_have_attribute("lang", "bo")
    expect(page.locator("#language-form button[value=bo]")).to_have_attribute("aria-current", "true")
    heights = button_heights(page)
    assert len(set(heights.values())) == 1, heights
    shot(page, f"sign-in-bo-{request.node.callspec.id}")
    assert failed == []
