"""The console in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

The app runs on a loopback HTTP server (the `served_app` fixture); jobs are worked
off in the test as a worker would, and the page's own polling shows the progress.
Screenshots land in test-artifacts/ (not committed) for people to look at.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import begin_compose, pick_county, shot, sign_in
from tests.support.console import expiry_in, waiting_alert, work
from warning_service.extensions import db
from warning_service.models import Alert, AlertState, CapStatus, Level
from warning_service.web.auth import idle_lifetime

TIBETAN = re.compile(r"[\u0F40-\u0FBC]")


def test_browser_compose_preview_publish_and_watch_progress(app, page, people, request):
    sign_in(page, "officer")
    begin_compose(page, "Actual", "yellow")
    pick_county(page, "康定")
    page.click("#county-map path[data-code='513322']")  # Luding, on the map
    expect(page.locator("#county-list input[value='513322']")).to_be_checked()
    expect(page.locator("#county-map path[data-code='513301']")).to_have_class(re.compile("selected"))
    page.fill("input[name=expires]", expiry_in()[0])
    page.fill("input[name=headline]", "康定市、泸定县暴雨黄色预警")
    page.click("#save-alert")

    tibetan_sms = page.locator("tr[data-channel=sms] td[lang=bo] .message")
    expect(tibetan_sms).to_contain_text(TIBETAN)
    expect(page.locator("tr[data-channel=sms] td[lang=zh] .message")).to_contain_text("暴雨")
    expect(page.locator("table.reach")).to_contain_text("泸定")
    shot(page, f"preview-{request.node.callspec.id}")

    page.check("input[name=confirm_status]")
    page.click("button.publish")
    expect(page.locator(".flash.ok")).to_contain_text("已发布")
    work(app)
    expect(page.locator("#progress")).to_have_attribute("data-settled", "true", timeout=20_000)
    expect(page.locator("#state")).to_have_attribute("data-state", "published")  # the code; the label is Chinese
    expect(page.locator("#state")).to_have_text("已发布")
    expect(page.locator("#progress tbody tr[data-channel=sms]").first).to_contain_text("短信")
    shot(page, f"progress-{request.node.callspec.id}")


def test_browser_an_exercise_shows_its_banner_on_every_step(app, page, people):
    sign_in(page, "officer")
    begin_compose(page, "Exercise", "blue")
    pick_county(page, "དར་མདོ")  # Kangding, found by its Tibetan name
    page.fill("input[name=expires]", expiry_in()[0])
    page.click("#save-alert")
    expect(page.locator(".banner.exercise")).to_contain_text("EXERCISE")
    expect(page.locator("button.publish")).to_contain_text("EXERCISE")
    expect(page.locator("label.confirm")).to_contain_text("EXERCISE")
    page.check("input[name=confirm_status]")
    page.click("button.publish")
    expect(page.locator(".banner.exercise")).to_contain_text("EXERCISE")
    assert "ACTUAL" not in page.locator("main").inner_text()


def test_browser_an_auditor_cannot_publish(page, people):
    alert_id = waiting_alert()
    sign_in(page, "auditor")
    page.goto(f"/alerts/{alert_id}")
    expect(page.locator("table.preview")).to_be_visible()
    expect(page.locator("#publish-form")).to_have_count(0)
    expect(page.locator("#nav-compose")).to_have_count(0)
    status = page.evaluate("""async (id) => {
        const response = await fetch(`/alerts/${id}/publish`, {method: "POST",
            headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "confirm_status=Actual"});
        return response.status; }""", alert_id)
    assert status in (400, 403)  # refused either way: no CSRF token, and no right
    db.session.expire_all()
    assert db.session.get(Alert, alert_id).state == AlertState.PENDING_REVIEW


def test_browser_a_red_alert_waits_for_a_second_officer(page, people):
    alert_id = waiting_alert(level=Level.RED)
    sign_in(page, "officer")
    page.goto(f"/alerts/{alert_id}")
    expect(page.locator("#second-officer")).to_contain_text("两名值班员")
    page.check("input[name=confirm_status]")
    page.click("button.publish")
    expect(page.locator(".flash.ok")).to_contain_text("第二名值班员")
    expect(page.locator("#state")).to_have_attribute("data-state", "pending_review")
    page.click("#sign-out")
    sign_in(page, "officer2")
    page.goto(f"/alerts/{alert_id}")
    expect(page.locator("#second-officer")).to_contain_text("已有 1 名")
    page.check("input[name=confirm_status]")
    page.click("button.publish")
    expect(page.locator("#state")).to_have_attribute("data-state", re.compile("publishing|published"))
    db.session.expire_all()
    assert db.session.get(Alert, alert_id).status == CapStatus.ACTUAL


def test_browser_the_tibetan_interface_renders_in_a_tibetan_font(page, people, request):
    alert_id = waiting_alert()
    sign_in(page, "officer")
    page.click("#language-form button[value=bo]")
    expect(page.locator("html")).to_have_attribute("lang", "bo")
    page.goto(f"/alerts/{alert_id}")
    publish = page.locator("button.publish")
    expect(publish).to_contain_text("ཁྱབ་བསྒྲགས")  # 发布, sourced in the glossary
    # A font that has the Tibetan glyphs is in use, so the text is not drawn as empty boxes.
    assert page.evaluate("document.fonts.check('16px \"Noto Serif Tibetan\"', 'ཉེན་བརྡ')")
    width = publish.evaluate("node => { const probe = document.createElement('span'); probe.textContent = 'ཉེན་བརྡ';"
                             " node.appendChild(probe); const w = probe.getBoundingClientRect().width; probe.remove();"
                             " return w; }")
    assert width > 20
    shot(page, f"tibetan-interface-{request.node.callspec.id}")
    page.click("#language-form button[value=zh]")
    expect(page.locator("html")).to_have_attribute("lang", "zh")


def test_browser_the_session_ends_after_the_idle_time(app, page, people, monkeypatch):
    monkeypatch.setitem(app.config, "CONSOLE_IDLE_MINUTES", 0.05)  # 3 s, as CONSOLE_IDLE_MINUTES=0.05 would set it
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", idle_lifetime(app.config))
    sign_in(page, "officer")
    for _ in range(3):  # a page opened now and then keeps the session well past the idle time
        page.wait_for_timeout(1500)
        page.goto("/compose")
        expect(page.locator(".who")).to_contain_text("officer")
    page.goto("/")
    # The inbox polling by itself is not activity: after the idle time its requests are sent to sign in.
    statuses = page.evaluate("""async () => {
        const seen = [];
        for (let i = 0; i < 5; i++) {
            await new Promise(done => setTimeout(done, 1000));
            seen.push((await fetch("/inbox/rows", {redirect: "manual"})).status);
        }
        return seen; }""")
    assert statuses[0] == 200 and statuses[-1] == 0, statuses  # 0: an opaque redirect, to the sign-in page
    page.goto("/compose")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator(".who")).to_have_count(0)


def test_browser_counties_found_by_pinyin_and_the_hazards_parameters_shown(page, people):
    sign_in(page, "officer")
    page.click("#nav-compose")
    luding, kangding = (page.locator(f"#county-list li:has(input[value='{code}'])") for code in ("513322", "513301"))
    for typed in ("lu ding", "Lúdìng", "ludingxian"):  # spaces, tone marks, the whole name
        page.fill("#county-search", typed)
        expect(luding).to_be_visible()
        expect(kangding).to_be_hidden()
    page.fill("#county-search", "kāngdìng")
    expect(kangding).to_be_visible()
    expect(luding).to_be_hidden()

    magnitude = page.locator("label.parameter:has(input[name=magnitude])")
    rain = page.locator("label.parameter:has(input[name=rain_mm])")
    page.select_option("select[name=hazard]", "earthquake")
    expect(magnitude).to_be_visible()
    expect(rain).to_be_hidden()
    page.select_option("select[name=hazard]", "rainstorm")
    expect(rain).to_be_visible()
    expect(magnitude).to_be_hidden()
    page.select_option("select[name=hazard]", "fog")
    expect(page.locator("#parameters")).to_be_hidden()  # fog defines none
