"""The auditor's path in a real browser: from a published alert to its report and the CSV log,
with masked numbers throughout."""
from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect
from sqlalchemy import select

from tests.console.browser import shot, sign_in
from tests.console.test_reports import published_alert
from warning_service.audit.report import mask_phone
from warning_service.extensions import db
from warning_service.models import Recipient


def test_browser_an_auditor_reads_the_report_and_downloads_the_log(app, client, page, people, request):
    alert_id = published_alert(app, client)
    phones = list(db.session.scalars(select(Recipient.phone)))
    sign_in(page, "auditor")
    page.goto(f"/alerts/{alert_id}")
    page.click("#report-link")
    expect(page.locator("#reach-sms")).to_contain_text("康定")
    expect(page.locator("#speed")).to_contain_text(re.compile(r"\d+\.\d s"))
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
