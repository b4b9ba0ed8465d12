"""The delivery log in a real browser, in Chinese and in Tibetan: 330 rows paged 200 at a time with
their totals, the next page followed, and the county found by its Chinese name and by its pinyin."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support.browser import shot, sign_in


@pytest.mark.parametrize("language", ["zh", "bo"])
def test_browser_an_auditor_pages_the_log_and_finds_a_county_by_name(page, crowded_alert, request, language):
    sign_in(page, "auditor")
    if language != "zh":
        page.click(f"#language-form button[value={language}]")
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"/reports/alerts/{crowded_alert}/log")
    expect(page.locator("#log-range")).to_have_text("第 1–200 条，共 330 条")
    expect(page.locator("#log tbody tr")).to_have_count(200)
    shot(page, f"delivery-log-{language}-{request.node.callspec.id}")
    page.click("#page-next")
    expect(page.locator("#log-range")).to_have_text("第 201–330 条，共 330 条")
    expect(page.locator("#log tbody tr")).to_have_count(130)
    expect(page.locator("#page-next")).to_have_count(0)

    page.fill("input[name=county]", "康定市")
    page.click("#log-filters button[type=submit]")
    expect(page.locator("#log-range")).to_have_text("第 1–200 条，共 220 条")
    expect(page.locator("#log-counties")).to_contain_text("康定市")
    page.fill("input[name=county]", "kangding")
    page.select_option("select[name=status]", "failed")
    page.click("#log-filters button[type=submit]")
    expect(page.locator("#log-range")).to_have_text("第 1–22 条，共 22 条")
    shot(page, f"delivery-log-kangding-{language}-{request.node.callspec.id}")

    page.fill("input[name=county]", "成都")
    page.click("#log-filters button[type=submit]")
    expect(page.locator("#log-refusal")).to_contain_text("没有名称或代码为“成都”的县")
    shot(page, f"delivery-log-refused-{language}-{request.node.callspec.id}")
