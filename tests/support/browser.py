"""Helpers of the browser tests (their `browser` and `page` fixtures are in tests/console/conftest.py)."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.console import PASSWORD, enrolled, fresh_code

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, name: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")  # not the language switch above it
    if enrolled(name):
        page.wait_for_url("**/login/code")
        page.fill("input[name=code]", fresh_code(name))
        page.click("form.login button[type=submit]")  # not the language switch above it
    expect(page.locator(".who")).to_contain_text(name)


def in_language(page: Page, language: str) -> None:
    """The signed-in user switches the console to `language` (zh, bo or en)."""
    page.click(f"#language-form button[value={language}]")
    expect(page.locator("html")).to_have_attribute("lang", language)


def pick_county(page: Page, search: str) -> None:
    page.fill("#county-search", search)
    page.locator("#county-list li:visible input").first.check()


def begin_compose(page: Page, kind: str, level: str) -> None:
    """Open Compose and choose the kind (its banner shows at once) and a rainstorm at `level`."""
    page.click("#nav-compose")
    page.check(f"input[name=status][value={kind}]")
    expect(page.locator("#kind-banner")).to_contain_text(kind.upper())
    page.select_option("select[name=hazard]", "rainstorm")
    page.select_option("select[name=level]", level)
