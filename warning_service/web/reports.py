"""Auditors' reports: an alert's reach per channel, county and township, its speed and delivery over
time, its gaps, its delivery log (searchable; as CSV, streamed), the report as PDF; and the period
report across alerts. Phone numbers are masked; an admin may search by number and unmask one,
giving a reason. Exports and unmaskings are recorded in the audit ledger."""
from __future__ import annotations

import io
from collections.abc import Iterator

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..audit.charts import channel_charts, delivery_over_time, time_unit
from ..audit.delivery_log import (
    STATUSES,
    LogFilter,
    LogQueryError,
    check_filter,
    delivery_rows,
    parse_paging,
    search_log,
)
from ..audit.events import record
from ..audit.pdf import html_to_pdf
from ..audit.period import Period, PeriodError, period_report, today_in_beijing
from ..audit.report import (
    ACCEPTED,
    REACHED,
    counts,
    county_names,
    gaps,
    operator_progress,
    published_at,
)
from ..audit.timing import latency, time_histogram
from ..audit.townships import township_counts, unreached_townships
from ..channels import catalog
from ..csv_cells import SafeCsvWriter
from ..extensions import db
from ..models import Alert, Delivery, Role
from .auth import roles_required
from .console import READERS, alert_or_404, operator_rows

reports = Blueprint("reports", __name__)

LOG_COLUMNS = ("delivery", "channel", "county", "target", "status", "attempts", "gateway_id", "gateway_code",
               "gateway_text", "sent_at", "delivered_at")
# The export says which clock its times are on (delivery_rows writes Beijing time).
CSV_HEADER = tuple(f"{column} (Beijing time)" if column.endswith("_at") else column for column in LOG_COLUMNS)
COLUMNS = ("targeted", "accepted", "delivered", "failed", "pending")
MIN_REASON = 10
FILTERS = ("county", "township", "channel", "status", "phone")
UTF8_BOM = "\ufeff"  # so Excel reads the CSV as UTF-8 (Chinese and Tibetan), not the local code page
# The delivery log's refusals (audit/delivery_log.py LogQueryError codes) in the reader's language.
LOG_REFUSALS = {
    "unknown_county": _l("No county is called or coded “%(value)s”: give a code (513301) or a name in Chinese, "
                         "Tibetan, English or pinyin."),
    "unknown_channel": _l("Unknown channel “%(value)s”: choose one of %(allowed)s."),
    "unknown_status": _l("Unknown state “%(value)s”: choose one of %(allowed)s."),
    "bad_township": _l("“%(value)s” is not a township code: a township is given by its 12-digit code."),
    "bad_page": _l("There is no page “%(value)s”: the pages are %(allowed)s."),
    "bad_per_page": _l("Rows per page must be a whole number in %(allowed)s, not “%(value)s”."),
}
# The domain's reasons for refusing a period (audit/period.py PERIOD_ERROR_TEXTS) in the reader's language.
PERIOD_REFUSALS = {
    "format": _l("Dates are written YYYY-MM-DD, e.g. %(example)s."),
    "out_of_range": _l("A period lies between %(earliest)s and %(latest)s."),
    "order": _l("The period's first day comes after its last."),
    "too_long": _l("A period is at most %(days)s days."),
}


def summarise(statuses: dict[str, int]) -> dict[str, int]:
    """One county's (or channel's) statuses as the report's columns."""
    return {
        "targeted": sum(statuses.values()),
        "accepted": sum(statuses.get(status.value, 0) for status in ACCEPTED),
        "delivered": statuses.get("delivered", 0),
        "failed": statuses.get("failed", 0) + statuses.get("undelivered", 0),
        "pending": statuses.get("pending", 0) + statuses.get("sending", 0),
    }


def summarise_places(table: dict[str, dict[str, dict[str, int]]]) -> dict[str, dict[str, dict[str, int]]]:
    """channel -> place -> statuses, as channel -> place -> the report's columns."""
    return {channel: {place: summarise(statuses) for place, statuses in places.items()}
            for channel, places in table.items()}


def report_figures(alert: Alert) -> dict:
    """Everything the alert report shows, for the page and for the PDF alike."""
    table = counts(db.session, alert.id)
    by_channel = summarise_places(table)
    totals = {channel: {column: sum(row[column] for row in rows.values()) for column in COLUMNS}
              for channel, rows in by_channel.items()}
    townships = township_counts(db.session, alert.id)
    since = published_at(db.session, alert.id)
    histogram = time_histogram(db.session, alert.id, since)  # every time figure from one pass
    unit = time_unit(histogram)
    return dict(
        alert=alert, by_channel=by_channel, totals=totals, columns=COLUMNS, since=since,
        accepted=latency(histogram, "accepted", timed=since is not None),
        delivered=latency(histogram, "delivered", timed=since is not None),
        charts=channel_charts(delivery_over_time(histogram, unit) if since else {},
                              {channel: row["targeted"] for channel, row in totals.items()}, unit),
        by_township=summarise_places(townships), township_gaps=list(unreached_townships(townships, REACHED)),
        gaps=list(gaps(db.session, alert, table)), places=county_names(db.session, alert.county_codes),
        operators=operator_rows(operator_progress(db.session, alert.id)),
    )


@reports.get("/alerts/<int:alert_id>")
@roles_required(*READERS)
def alert_report(alert_id: int):
    return render_template("reports/alert.html", **report_figures(alert_or_404(alert_id)))


@reports.get("/alerts/<int:alert_id>/report.pdf")
@roles_required(*READERS)
def alert_report_pdf(alert_id: int):
    """The report as PDF, numbers masked as on the page; recorded in the ledger like the CSV export."""
    alert = alert_or_404(alert_id)
    pdf = html_to_pdf(render_template("reports/alert_print.html", **report_figures(alert)))
    record(db.session, current_user._get_current_object(), "report.export", alert, format="pdf", masked=True)
    db.session.commit()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="alert-{alert.id}-report.pdf"'})


@reports.get("/period")
@roles_required(*READERS)
def period():
    """Alerts published between two dates (Beijing time): by hazard, level, agency and county; reach
    and speed per alert and per day; exercises apart."""
    try:
        wanted = Period.parse(request.args.get("from"), request.args.get("to"), today_in_beijing())
    except PeriodError as error:
        abort(400, str(PERIOD_REFUSALS[error.code]) % error.details)
    report = period_report(db.session, wanted)
    return render_template("reports/period.html", report=report,
                           places=county_names(db.session, report.breakdown["county"]))


def log_filter() -> LogFilter:
    """The delivery log's filters from the query string; a phone number only from an admin."""
    wanted = LogFilter(**{name: request.args.get(name) or None for name in FILTERS})
    if wanted.phone and current_user.role != Role.ADMIN:
        abort(403, _("Only an admin may search by phone number."))
    return wanted


def refusal_text(refused: LogQueryError) -> str:
    return str(LOG_REFUSALS[refused.code]) % {"value": refused.value, "allowed": refused.allowed}


@reports.get("/alerts/<int:alert_id>/deliveries.csv")
@roles_required(*READERS)
def deliveries_csv(alert_id: int):
    """Every delivery the log's filters match (all of them without filters), streamed a chunk at a time."""
    alert = alert_or_404(alert_id)
    wanted = log_filter()
    try:
        check_filter(db.session, alert.id, wanted)
    except LogQueryError as refused:
        abort(400, refusal_text(refused))
    filters = {name: value for name, value in vars(wanted).items() if value and name != "phone"}
    record(db.session, current_user._get_current_object(), "report.export", alert, format="csv", masked=True,
           **({"filters": filters} if filters else {}), **({"phone_search": True} if wanted.phone else {}))
    db.session.commit()

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write(UTF8_BOM)
        writer = SafeCsvWriter(buffer)
        writer.writerow(CSV_HEADER)
        for row in delivery_rows(db.session, alert_id, wanted):
            writer.writerow(row)
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="alert-{alert.id}-deliveries.csv"'})


@reports.get("/alerts/<int:alert_id>/log")
@roles_required(*READERS)
def delivery_log(alert_id: int):
    """A page of the delivery log with its totals; a filter or page that names nothing is answered 400
    with the reason on the page, in the reader's language."""
    alert = alert_or_404(alert_id)
    wanted = log_filter()
    filters = {name: value for name in FILTERS if (value := request.args.get(name))}
    shown = dict(alert=alert, wanted=wanted, columns=LOG_COLUMNS, channels=catalog.names(), statuses=STATUSES,
                 phone_channels=[channel.name for channel in catalog.channels() if channel.phone is not None],
                 filters=filters, query={**filters, **({"per_page": request.args["per_page"]}
                                                      if request.args.get("per_page") else {})})
    try:
        page, per_page = parse_paging(request.args.get("page"), request.args.get("per_page"))
        log = search_log(db.session, alert.id, wanted, page, per_page)
    except LogQueryError as refused:
        return render_template("reports/log.html", log=None, refusal=refusal_text(refused), **shown), 400
    return render_template("reports/log.html", log=log, refusal=None, **shown,
                           found=county_names(db.session, log.counties) if wanted.county else {})


@reports.post("/deliveries/<bigid:delivery_id>/unmask")
@roles_required(Role.ADMIN)
def unmask(delivery_id: int):
    """Show one recipient's full number to an admin who gives a reason; the ledger keeps both. Only for a
    delivery on a channel that reaches phones (`ChannelSpec.phone`)."""
    delivery = db.session.get(Delivery, delivery_id)
    phoned = {channel.name: channel for channel in catalog.channels() if channel.phone is not None}
    channel = phoned.get(delivery.channel) if delivery is not None else None
    if delivery is None or channel is None or channel.phone is None:
        abort(404, _("No SMS delivery %(id)s.", id=delivery_id))
    reason = (request.form.get("reason") or "").strip()
    if len(reason) < MIN_REASON:
        abort(422, _("Give the reason for seeing the full number (at least %(count)d characters).", count=MIN_REASON))
    recipient = db.session.get(channel.target, delivery.target_id)
    record(db.session, current_user._get_current_object(), "recipient.unmask", delivery, reason=reason[:500],
           recipient=delivery.target_id)
    db.session.commit()
    page = render_template("reports/unmasked.html", delivery=delivery, phone=getattr(recipient, channel.phone.key),
                           reason=reason)
    return page, 200, {"Cache-Control": "no-store"}
