"""Auditors' reports: an alert's reach per channel and county, its speed, its gaps, and the
delivery log as CSV (streamed; phone numbers masked). Exports are recorded in the audit ledger."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, abort, render_template, stream_with_context
from flask_login import current_user

from ..audit.events import record
from ..audit.report import ACCEPTED, counts, county_names, delivery_rows, gaps, latency, published_at
from ..extensions import db
from ..models import Alert, Delivery, Role
from .auth import roles_required

reports = Blueprint("reports", __name__)

READERS = (Role.AUDITOR, Role.ADMIN, Role.DUTY_OFFICER)
CSV_HEADER = ("delivery", "channel", "county", "target", "status", "attempts", "gateway_id", "gateway_code",
              "gateway_text", "sent_at", "delivered_at")
COLUMNS = ("targeted", "accepted", "delivered", "failed", "pending")


def _alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        abort(404, f"No alert {alert_id}.")
    return alert


def summarise(statuses: dict[str, int]) -> dict[str, int]:
    """One county's (or channel's) statuses as the report's columns."""
    return {
        "targeted": sum(statuses.values()),
        "accepted": sum(statuses.get(status.value, 0) for status in ACCEPTED),
        "delivered": statuses.get("delivered", 0),
        "failed": statuses.get("failed", 0) + statuses.get("undelivered", 0),
        "pending": statuses.get("pending", 0) + statuses.get("sending", 0),
    }


@reports.get("/alerts/<int:alert_id>")
@roles_required(*READERS)
def alert_report(alert_id: int):
    alert = _alert(alert_id)
    table = counts(db.session, alert.id)
    by_channel = {channel: {county: summarise(statuses) for county, statuses in counties.items()}
                  for channel, counties in table.items()}
    totals = {channel: {column: sum(row[column] for row in rows.values()) for column in COLUMNS}
              for channel, rows in by_channel.items()}
    since = published_at(db.session, alert.id)
    return render_template(
        "reports/alert.html", alert=alert, by_channel=by_channel, totals=totals, columns=COLUMNS, since=since,
        accepted=latency(db.session, alert.id, Delivery.sent_at, since),
        delivered=latency(db.session, alert.id, Delivery.delivered_at, since),
        gaps=list(gaps(db.session, alert)), places=county_names(db.session, alert.county_codes),
    )


@reports.get("/alerts/<int:alert_id>/deliveries.csv")
@roles_required(*READERS)
def deliveries_csv(alert_id: int):
    alert = _alert(alert_id)
    record(db.session, current_user._get_current_object(), "report.export", alert, format="csv", masked=True)
    db.session.commit()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_HEADER)
        for row in delivery_rows(db.session, alert_id):
            writer.writerow(row)
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="alert-{alert.id}-deliveries.csv"'})
