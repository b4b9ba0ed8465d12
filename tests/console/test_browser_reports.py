"""The auditor's path in a real browser: from a published alert to its report (reach per channel and
county, speed, delivery over time, gaps), the CSV log and the PDF report, with masked numbers
throughout; and the period report."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from tests.support.browser import SHOTS, shot, sign_in
from tests.support.console import published_cancellation
from tests.support.reports import check_pdf_report, failed_sms, published_alert
from warning_service.audit.period import today_in_beijing
from warning_service.audit.report import mask_phone
from warning_service.extensions import db
from warning_service.models import Recipient


def test_browser_an_auditor_reads_the_report_and_downloads_the_log(app, client, page, people, request, tmp_path):
    alert_id = published_alert(app, client)
    _, failed_phone = failed_sms(alert_id)
    phones = list(db.session.scalars(select(Recipient.phone)))
    sign_in(page, "auditor")
    page.goto(f"/alerts/{alert_id}")
    page.click("#report-link")
    expect(page.locator("#reach-sms")).to_contain_text("康定")
    expect(page.locator("#reach-sms")).to_contain_text("泸定")
    expect(page.locator("#reach-sms tr.total")).to_contain_text("6")
    expect(page.locator("#speed")).to_contain_text(re.compile(r"\d+\.\d s"))
    chart = page.locator("#chart-sms svg")
    expect(chart).to_be_visible()
    expect(chart.locator("text.axis-label")).to_contain_text("后秒数")  # settled within seconds: drawn in seconds
    expect(chart.locator("polyline.accepted")).to_have_count(1)
    assert chart.bounding_box()["height"] > 100
    gaps = page.locator("#gaps")
    expect(gaps).to_contain_text("21211")
    expect(gaps).to_contain_text(re.compile(r"\d{3}\*{4}\d{4}"))
    body = page.locator("main").inner_text()
    assert not any(phone[3:] in body for phone in phones)
    shot(page, f"report-{request.node.callspec.id}")

    with page.expect_download() as download:
        page.click("#export-csv")
    text = open(download.value.path(), encoding="utf-8").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and all(row["target"] in {mask_phone(p) for p in phones} for row in rows if row["channel"] == "sms")
    assert not any(phone[3:] in text for phone in phones)

    with page.expect_download() as download:
        page.click("#export-pdf")
    assert download.value.suggested_filename == f"alert-{alert_id}-report.pdf"
    pdf = SHOTS / f"report-{request.node.callspec.id}.pdf"
    download.value.save_as(pdf)
    check_pdf_report(pdf, failed_phone, tmp_path)


def test_browser_an_auditor_reads_the_period_report(app, client, page, people, request):
    alert_id = published_alert(app, client)
    cancel = published_cancellation()
    sign_in(page, "auditor")
    page.click("#nav-period")
    expect(page.locator("#actual-alerts")).to_contain_text(f"#{alert_id}")
    expect(page.locator("#actual-alerts")).not_to_contain_text(f"#{cancel.id}")  # not a second warning
    expect(page.locator("#amendments")).to_contain_text(f"#{cancel.id}")
    expect(page.locator("#amendments")).to_contain_text("撤销")
    expect(page.locator("#actual-alerts")).to_contain_text("83.3 %")
    expect(page.locator("#by-county")).to_contain_text("康定")
    expect(page.locator("#exercise-alerts")).to_contain_text("—")
    shot(page, f"period-{request.node.callspec.id}")
    first = today_in_beijing() - timedelta(days=3 * 365)  # a month long before the alert
    page.fill("input[name=from]", first.isoformat())
    page.fill("input[name=to]", (first + timedelta(days=30)).isoformat())
    page.click("#period-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text(first.isoformat())
    expect(page.locator("#actual-alerts")).not_to_contain_text(f"#{alert_id}")
