"""Helpers of the browser tests (their `browser` and `page` fixtures are in conftest.py)."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.console.conftest import PASSWORD, enrolled, fresh_code

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
