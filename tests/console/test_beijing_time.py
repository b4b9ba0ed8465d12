"""Every time a person reads (console, reports, CSV, PDF) is Beijing time and says so, in each
interface language; and the alert page's progress names its counties, in a stable order, at the top.

The instants are 20:30 UTC, computed from today: in Beijing that is 04:30 of the next day, so the
UTC and the Beijing rendering differ in the date as well as the hour."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.support.console import near_midnight_utc, post_form, shown, sign_in, waiting_alert, work
from tests.support.pdf import run
from tests.support.reports import published_alert
from warning_service.extensions import db
from warning_service.models import Alert, AuditEvent, Delivery

TEMPLATES = Path(__file__).resolve().parents[2] / "warning_service" / "templates"
LABELS = {"zh": "北京时间", "bo": "北京时间", "en": "Beijing time"}  # bo: the catalog's Chinese stand-in
EXPRESSION = re.compile(r"{{(.*?)}}", re.S)
# A time of the models, or the report's publish time, as the value an expression renders (not a
# macro's argument, nor a form field: forms.py fills those in Beijing time); quoted text left out.
INSTANT = re.compile(r"\b(\w+_at|expires|onset|sent|since)\b(?!\s*[(,)=])")
QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


def assert_beijing(text: str, moment: datetime, label: str = "北京时间") -> None:
    beijing, utc = shown(moment)
    assert f"{label} {beijing}" in text or f"{beijing} {label}" in text, f"no {label} {beijing}"
    assert utc not in text and "UTC" not in text


def test_no_template_renders_an_instant_without_the_beijing_filter():
    """A guard: a raw strftime/isoformat of a time, or a time not piped through |beijing, cannot come back."""
    found = []
    for template in TEMPLATES.rglob("*.html"):
        for expression in EXPRESSION.findall(template.read_text(encoding="utf-8")):
            code = QUOTED.sub("", expression)
            raw = "strftime" in code or (INSTANT.search(code) and "|beijing" not in code)
            if raw:
                found.append(f"{template.relative_to(TEMPLATES)}: {{{{{expression}}}}}")
    assert not found, "times rendered without |beijing:\n" + "\n".join(found)


@pytest.mark.parametrize("language", ["zh", "bo", "en"])
def test_the_alert_page_and_the_inbox_show_beijing_time_in_every_language(client, people, language):
    expires, received = near_midnight_utc(1), near_midnight_utc(-1)
    alert_id = waiting_alert()
    db.session.execute(update(Alert).where(Alert.id == alert_id).values(expires=expires, received_at=received))
    db.session.commit()
    sign_in(client, "auditor")
    post_form(client, "/language", "/", language=language)
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert_beijing(page.split('id="expires">')[1].split("</span>")[0], expires, LABELS[language])
    for inbox in (client.get("/").get_data(as_text=True), client.get("/inbox/rows").get_data(as_text=True)):
        assert_beijing(inbox, received, LABELS[language])


def backdate(alert_id: int, moment: datetime) -> None:
    """The alert published, and its deliveries sent and delivered, at `moment`."""
    db.session.execute(update(AuditEvent).where(AuditEvent.action == "alert.publish",
                                                AuditEvent.subject_id == alert_id).values(at=moment))
    db.session.execute(update(Delivery).where(Delivery.alert_id == alert_id).values(sent_at=moment,
                                                                                     delivered_at=moment))
    db.session.commit()


def test_the_report_its_log_csv_and_pdf_show_beijing_time(app, client, people, tmp_path):
    moment = near_midnight_utc(-1)
    alert_id = published_alert(app, client)
    backdate(alert_id, moment)
    sign_in(client, "auditor")
    report = client.get(f"/reports/alerts/{alert_id}").get_data(as_text=True)
    assert_beijing(report.split('id="published-at">')[1].split("</span>")[0], moment)
    axis = report.split('class="axis-label">')[1].split("</text>")[0]
    assert_beijing(axis, moment)

    log = client.get(f"/reports/alerts/{alert_id}/log").get_data(as_text=True)
    assert "发送时间（北京时间）" in log and "送达时间（北京时间）" in log
    beijing, utc = shown(moment)
    assert f"<td>{beijing}:00</td>" in log and utc not in log

    rows = list(csv.DictReader(io.StringIO(client.get(f"/reports/alerts/{alert_id}/deliveries.csv").text)))
    assert rows and {row["sent_at (Beijing time)"] for row in rows} == {f"{beijing}:00"}
    assert {row["delivered_at (Beijing time)"] for row in rows} == {f"{beijing}:00"}

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(client.get(f"/reports/alerts/{alert_id}/report.pdf").data)
    assert_beijing(" ".join(run("pdftotext", "-raw", str(pdf), "-").split()), moment)


def progress_names(page: str) -> list[str]:
    body = page.split('id="progress"')[1].split("</tbody>")[0]
    return re.findall(r"<tr data-county=\"\d+\" data-channel=\"\w+\"><td>[^<]+</td><td>([^<]+)</td>", body)


@pytest.mark.parametrize(("language", "names"), [
    ("zh", ["康定市", "泸定县"]), ("bo", ["དར་མདོ་གྲོང་ཁྱེར", "ལྕགས་ཟམ་རྫོང"]), ("en", ["Kangding City", "Luding County"]),
])
def test_progress_names_counties_in_a_stable_order_at_the_top(app, client, people, language, names):
    sign_in(client, "officer")
    alert_id = waiting_alert()
    post_form(client, f"/alerts/{alert_id}/publish", f"/alerts/{alert_id}", confirm_status="Actual")
    work(app)
    post_form(client, "/language", "/", language=language)
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert page.index('id="progress"') < page.index('class="reach"') < page.index('class="preview"')
    channels = [c for c in ("sms", "broadcast", "beidou") if db.session.scalar(
        select(Delivery.id).where(Delivery.alert_id == alert_id, Delivery.channel == c).limit(1))]
    assert progress_names(page) == names * len(channels)  # by channel, then county by code
    assert "<td>513301</td>" not in page
    rows = client.get(f"/alerts/{alert_id}/progress").get_json()["rows"]
    assert [(row["channel"], row["name"]) for row in rows] == [(c, name) for c in channels for name in names]
    assert all(len(row["cells"]) == 6 for row in rows)
