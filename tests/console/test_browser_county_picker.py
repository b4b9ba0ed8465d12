"""The compose page's county picker in a real browser, in every interface language and at a desk's
and a phone's width: each box beside its own name, the map naming the county under the pointer,
and pinyin's tone marks drawn (not blank glyphs of a CJK font). Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.support.browser import shot, sign_in

WIDTHS = (1280, 420)  # a duty officer's desk, a phone
LUDING = {"zh": "泸定县", "bo": "ལྕགས་ཟམ", "en": "Luding County"}  # counties.csv, 513322

# For every county box: whether it sits in its <label>, and the geometry of the box and of the
# label's text (one rect per line fragment), as the browser laid them out.
BOX_AND_TEXT = """() => [...document.querySelectorAll('#county-list input[type=checkbox]')].map(box => {
    const label = box.closest('label');
    const rect = r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
    const text = [];
    if (label) {
        const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!node.textContent.trim()) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            text.push(...[...range.getClientRects()].map(rect));
        }
    }
    return {code: box.value, inLabel: !!label, box: rect(box.getBoundingClientRect()), text,
            column: box.closest('li').offsetWidth};
})"""


# Every county's name, shown as the pointer enters it: where it is not its <title> or runs off the map.
OUTSIDE_THE_MAP = """() => {
    const map = document.getElementById('county-map'), name = document.getElementById('county-map-name');
    const bounds = map.getBoundingClientRect(), wrong = {};
    for (const county of map.querySelectorAll('path[data-code]')) {
        county.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
        const drawn = name.getBoundingClientRect();
        if (name.textContent !== county.querySelector('title').textContent) wrong[county.dataset.code] = name.textContent;
        else if (drawn.left < bounds.left - 1 || drawn.right > bounds.right + 1 || drawn.top < bounds.top - 1
                 || drawn.bottom > bounds.bottom + 1) wrong[county.dataset.code] = 'outside the map';
    }
    return wrong; }"""


def misplaced(county: dict) -> str | None:
    """Why this county's box could be read as another's name, or None when it cannot."""
    box, text = county["box"], county["text"]
    if not county["inLabel"]:
        return "the box is not inside its label"
    if not text:
        return "the label has no text"
    first = text[0]
    if not (first["top"] < box["bottom"] and first["bottom"] > box["top"]):
        return f"the name starts on another line than the box ({first} vs {box})"
    if not 0 <= first["left"] - box["right"] < 24:
        return f"the name does not start right after the box ({first} vs {box})"
    for line in text:
        if line["left"] < box["left"] - 1 or line["right"] > box["left"] + county["column"] + 1:
            return f"the name runs into another column ({line}, box {box}, column {county['column']})"
        if line["bottom"] <= box["top"]:
            return f"part of the name is on a line above its box ({line} vs {box})"
    return None


def choose_language(page: Page, language: str) -> None:
    page.click(f"#language-form button[value={language}]")
    expect(page.locator("html")).to_have_attribute("lang", language)


def ink(page: Page, selector: str) -> int:
    """Pixels of an element's screenshot darker than mid-grey: zero when its glyphs draw nothing."""
    picture = Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("L")
    return sum(picture.histogram()[:128])


@pytest.mark.parametrize("language", ["zh", "bo", "en"])
def test_browser_every_county_box_sits_beside_its_own_name(page, people, request, language):
    sign_in(page, "officer")
    choose_language(page, language)
    page.click("#nav-compose")
    expect(page.locator("#county-list input[type=checkbox]")).to_have_count(31)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        counties = page.evaluate(BOX_AND_TEXT)
        problems = {county["code"]: misplaced(county) for county in counties if misplaced(county)}
        shot(page, f"county-picker-{language}-{width}-{request.node.callspec.id}")
        assert problems == {}, f"{language} at {width} px: {problems}"
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
        page.locator("#county-list label:has(input[value='513322'])").click()  # the name ticks its own box
        expect(page.locator("#county-list input[value='513322']")).to_be_checked()
        page.locator("#county-list label:has(input[value='513322'])").click()
        expect(page.locator("#county-list input[value='513322']")).not_to_be_checked()


@pytest.mark.parametrize("language", ["zh", "bo", "en"])
def test_browser_the_map_names_the_county_under_the_pointer(page, people, request, language):
    sign_in(page, "officer")
    choose_language(page, language)
    page.click("#nav-compose")
    luding = page.locator("#county-map path[data-code='513322']")
    expect(luding.locator("title")).to_have_text(LUDING[language])  # the browser's own tooltip
    tip = page.locator("#county-map-name")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        luding.hover()
        expect(tip).to_be_visible()
        expect(tip).to_have_text(LUDING[language])
        shot(page, f"county-map-hover-{language}-{width}-{request.node.callspec.id}")
        assert page.evaluate(OUTSIDE_THE_MAP) == {}, f"{language} at {width} px"
        luding.click()  # a click still picks the county
        expect(page.locator("#county-list input[value='513322']")).to_be_checked()
        luding.click()
        expect(page.locator("#county-list input[value='513322']")).not_to_be_checked()
        page.locator("#county-search").hover()  # off the map: no name left standing on it
        expect(tip).to_be_hidden()


def test_browser_pinyin_tone_marks_chinese_and_tibetan_all_have_ink(page, people, request):
    sign_in(page, "officer")
    page.click("#nav-compose")
    # Probes inside a county's label, so they are drawn with exactly the label's fonts.
    page.evaluate("""() => {
        const label = document.querySelector('#county-list label');
        for (const [id, text] of [['probe-a', 'ǎ'], ['probe-i', 'ǐ'], ['probe-u', 'ǔ'], ['probe-zh', '泸定'],
                                  ['probe-bo', 'ལྕགས']]) {
            const probe = document.createElement('span');
            probe.id = id; probe.textContent = text;
            probe.style.cssText = 'font-size: 40px; display: inline-block; padding: 4px; background: #fff; color: #000';
            label.appendChild(probe);
        } }""")
    shot(page, f"county-picker-probes-{request.node.callspec.id}")
    for probe in ("probe-a", "probe-i", "probe-u", "probe-zh", "probe-bo"):
        assert ink(page, f"#{probe}") > 30, f"#{probe} is drawn blank"
