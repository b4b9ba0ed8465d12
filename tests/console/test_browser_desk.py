"""The translation desk in a real browser (Playwright driving /usr/bin/chromium), issue 18's test: translator A
proposes the Tibetan for the red flash-flood protective action, an auditor (no translator role) is refused
the approval (403), translator B approves, and the alert's next preview carries it in the Tibetan SMS with
one fewer term missing; the ledger has both steps. The Tibetan is a fixture typed as the translator would
(tests/support/text.py), never made up by the program. Screenshots in test-artifacts/."""
from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.support.browser import shot, sign_in
from tests.support.console import make_user, waiting_alert
from tests.support.text import TIBETAN
from warning_service.extensions import db
from warning_service.models import AuditEvent, Level, Role, User
from warning_service.services.translations import entry_by_key

ACTION = "action:flash_flood:red"
SMS_BO = "tr[data-channel=sms] td[lang=bo]"


def sign_out(page: Page) -> None:
    page.click("#sign-out")
    page.wait_for_url("**/login")


def missing_terms(page: Page, alert_id: int) -> int:
    page.goto(f"/alerts/{alert_id}")
    return int(page.locator(f"{SMS_BO} .missing-terms").get_attribute("data-count"))


def test_browser_four_eyes_put_an_approved_action_in_the_next_preview(app, page, people):
    make_user("tr-a", Role.TRANSLATOR), make_user("tr-b", Role.TRANSLATOR)
    alert_id = waiting_alert(level=Level.RED, hazard="flash_flood")
    entry_id = entry_by_key(db.session, ACTION).id
    db.session.commit()
    sign_in(page, "officer")
    before = missing_terms(page, alert_id)
    expect(page.locator(f"{SMS_BO} .message")).to_contain_text("立即向高处转移")
    expect(page.locator("#publish-untranslated")).to_be_visible()
    shot(page, "desk-preview-before")
    sign_out(page)

    sign_in(page, "tr-a")
    expect(page.locator("h1")).to_have_text("翻译审校台")
    page.select_option("#desk-filters select[name=hazard]", "flash_flood")
    page.select_option("#desk-filters select[name=status]", "missing")
    page.click("#desk-filters button[type=submit]")
    page.click(f"#desk-entries tr[data-key='{ACTION}'] a")
    page.fill("#propose-form textarea[name=bo]", TIBETAN)
    page.click("#propose")
    expect(page.locator(".flash.ok")).to_contain_text("已提交第 1 版")
    expect(page.locator("#desk-fits")).to_be_visible()
    expect(page.locator("#entry-status")).to_have_text("已提交")
    expect(page.locator("#approve")).to_have_count(0)
    expect(page.locator("#four-eyes")).to_contain_text("须由另一名译员审定")
    shot(page, "desk-proposed")
    sign_out(page)

    sign_in(page, "auditor")   # reads the desk, may not decide
    page.goto(f"/translations/{entry_id}")
    expect(page.locator("#approve")).to_have_count(0)
    token = page.locator("#language-form input[name=csrf_token]").get_attribute("value")
    proposal_id = entry_by_key(db.session, ACTION).proposals[0].id
    refused = page.request.post(f"/translations/{entry_id}/approve", form={"csrf_token": token,
                                                                          "proposal": str(proposal_id)})
    assert refused.status == 403
    sign_out(page)

    sign_in(page, "tr-b")
    page.goto(f"/translations/{entry_id}")
    page.click("#approve")
    expect(page.locator(".flash.ok")).to_contain_text("已批准")
    expect(page.locator("#entry-bo")).to_have_text(TIBETAN)
    shot(page, "desk-approved")
    sign_out(page)

    sign_in(page, "officer")
    assert missing_terms(page, alert_id) == before - 1
    expect(page.locator(f"{SMS_BO} .message")).to_contain_text(TIBETAN)
    expect(page.locator(f"{SMS_BO} .message")).not_to_contain_text("立即向高处转移")
    shot(page, "desk-preview-after")
    db.session.expire_all()
    users = {user.id: user.username for user in db.session.scalars(select(User))}
    steps = [(event.action, users[event.actor_id]) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("translation.%")).order_by(AuditEvent.id))]
    assert steps == [("translation.propose", "tr-a"), ("translation.approve", "tr-b")]
