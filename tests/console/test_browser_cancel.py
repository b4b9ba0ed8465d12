"""Cancelling and rejecting in a real browser (Playwright driving /usr/bin/chromium), in Chinese and in
Tibetan: a cancel asks once, in a dialog that names the alert, its counties and its reach; a reject
asks for the reason. Screenshots in test-artifacts/."""
from __future__ import annotations

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import func, select

from tests.support.browser import in_language, shot, sign_in
from tests.support.console import waiting_alert, work
from warning_service.extensions import db
from warning_service.models import Alert, AlertState, Delivery, DeliveryStatus, MsgType

COUNTIES = {"zh": ("康定市", "泸定县"), "bo": ("དར་མདོ་གྲོང་ཁྱེར", "ལྕགས་ཟམ་རྫོང")}


def published(app, page: Page) -> int:
    """An Actual alert the signed-in officer publishes, its deliveries worked off."""
    alert_id = waiting_alert()
    page.goto(f"/alerts/{alert_id}")
    page.check("input[name=confirm_status]")
    page.click("button.publish")
    work(app)
    expect(page.locator("#progress")).to_have_attribute("data-settled", "true", timeout=20_000)
    return alert_id


def sent_so_far(alert_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Delivery).where(
        Delivery.alert_id == alert_id, Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.DELIVERED])))


@pytest.mark.parametrize("language", ["zh", "bo"])
def test_browser_cancel_an_actual_alert_after_one_question(app, page, people, request, language):
    sign_in(page, "officer")
    in_language(page, language)
    alert_id = published(app, page)  # the page was drawn before the fan-out: the question counts the latest poll
    expect(page.locator("#cancel-confirm")).to_be_hidden()  # with JavaScript the dialog asks, not the box
    expect(page.locator("#cancel-preview .banner.cancelled")).to_be_visible()
    expect(page.locator("#cancel-preview [lang=zh]")).to_contain_text("已取消，该预警不再有效")
    shot(page, f"cancel-preview-{request.node.callspec.id}")

    questions: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.click("#cancel-alert")
    expect(page.locator("#state")).to_have_attribute("data-state", "published")  # dismissed: nothing cancelled
    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.click("#cancel-alert")
    expect(page.locator("#cancellation-banner")).to_be_visible()
    assert len(questions) == 2 and questions[0] == questions[1]
    question, reached = questions[0], sent_so_far(alert_id)
    assert reached > 0 and str(reached) in question
    assert all(county in question for county in COUNTIES[language])
    assert ("暴雨预警" if language == "zh" else "དྲག་ཆར") in question  # the headline, in the officer's language
    assert db.session.get(Alert, alert_id).state == AlertState.CANCELLED
    assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.msg_type == MsgType.CANCEL)) == 1
    shot(page, f"cancellation-{request.node.callspec.id}")
    page.click(f"#cancellation-banner a[href='/alerts/{alert_id}']")
    expect(page.locator("#cancelled-banner")).to_be_visible()
    expect(page.locator("#cancel-alert")).to_have_count(0)
    shot(page, f"cancelled-{request.node.callspec.id}")


@pytest.mark.parametrize("language", ["zh", "bo"])
def test_browser_reject_with_a_reason(page, people, request, language):
    alert_id = waiting_alert()
    sign_in(page, "officer")
    in_language(page, language)
    page.goto(f"/alerts/{alert_id}")
    page.click("#reject-alert")  # no reason: the browser does not send the form
    db.session.expire_all()
    assert db.session.get(Alert, alert_id).state == AlertState.PENDING_REVIEW
    page.fill("#reject-reason-input", "区域填错：应为泸定县")
    shot(page, f"reject-reason-{request.node.callspec.id}")
    page.click("#reject-alert")
    expect(page.locator(".flash.ok")).to_contain_text("已驳回")
    page.goto(f"/alerts/{alert_id}")
    expect(page.locator("#reject-reason")).to_contain_text("驳回理由：区域填错：应为泸定县")
    db.session.expire_all()
    assert db.session.get(Alert, alert_id).reject_reason == "区域填错：应为泸定县"
    shot(page, f"rejected-{request.node.callspec.id}")
