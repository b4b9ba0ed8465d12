"""The duty officers' console: the inbox, composing an alert or a correction, an alert's bilingual
preview and reach, publish with its safeguards, reject with a reason, cancel after one confirmation that
names what it withdraws, and live delivery progress.

Every route names the roles that may use it (`roles_required`); auditors read, duty
officers decide. Forms carry CSRF tokens (CSRFProtect in create_app).
"""
from __future__ import annotations

import json

from babel.lists import format_list
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh as refresh_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit.report import OperatorProgress, counts, operator_progress
from ..channels import catalog
from ..dispatch.queueing import Fanout, start_fanout
from ..dispatch.review import (
    INPUT_REFUSALS,
    ReviewRefused,
    approvals,
    cancel,
    decide_publish,
    needs_second_officer,
    reject,
)
from ..extensions import db, redis_client
from ..geography.county_map import county_map
from ..geography.named_areas import map_path
from ..hazards import catalogue
from ..intake.cap_json import parse_alert_json
from ..intake.errors import IntakeError
from ..intake.limits import IntakeLimits
from ..models import (
    REJECT_REASON_MAX_CHARS,
    Alert,
    AlertState,
    CapStatus,
    CbcState,
    County,
    DeliveryStatus,
    MsgType,
    Role,
    referenced_alerts,
    without_bulky_columns,
)
from ..rendering.formatting import place_name
from ..rendering.render import LANGUAGES, FittedText, free_text, render_fitted
from ..rendering.views import cancellation_view, view_of
from ..services.alert_map import alert_map
from ..services.ingest import ingest
from ..services.named_areas import named_areas, named_in
from ..services.preview import reach, tibetan_written_by
from .auth import passive, roles_required
from .forms import PARAMETER_FIELDS, PARAMETER_LABELS, ComposeForm
from .i18n import CODES, area_name, beijing, console_locale, counties_named, county_name, county_name_attribute
from .labels import channel_label, label_of

console = Blueprint("console", __name__)

READERS = (Role.ADMIN, Role.DUTY_OFFICER, Role.AUDITOR)
OFFICERS = (Role.DUTY_OFFICER,)
INBOX_SIZE = 50
PROGRESS_STATUSES = ("pending", "sending", "sent", "delivered", "failed")  # then "other": undelivered, cancelled
# The domain's refusals (dispatch/review.py REFUSAL_TEXTS) in the officer's language, by code.
REFUSALS = {
    "publish_not_waiting": _l("This alert is %(state)s; only an alert waiting for review can be published."),
    "status_mismatch": _l("The confirmation says %(confirmed)s, but this alert is %(status)s. Nothing was published."),
    "override_not_allowed": _l("Only an earthquake early warning may skip the second officer."),
    "already_approved": _l("You have approved this alert already; a second duty officer must approve it."),
    "reject_not_waiting": _l("This alert is %(state)s; only an alert waiting for review can be rejected."),
    "cancel_not_published": _l("This alert is %(state)s; only a published alert can be cancelled."),
    "cancel_unconfirmed": _l("Nothing was cancelled: the cancellation was not confirmed. Confirm it, "
                             "after reading which alert, counties and reach it names."),
    "reason_missing": _l("Nothing was rejected: give the reason for rejecting this alert."),
    "reason_too_long": _l("Nothing was rejected: the reason has %(length)s characters; at most %(limit)s."),
    "reason_control_characters": _l("Nothing was rejected: the reason contains control characters; "
                                    "write it as one line of plain text."),
}


DETAIL_KINDS = {"state": AlertState, "status": CapStatus, "confirmed": CapStatus}  # details that are codes


def refusal_text(refused: ReviewRefused) -> str:
    details = {name: label_of(DETAIL_KINDS[name], value) if name in DETAIL_KINDS else value
               for name, value in refused.details.items()}
    return str(REFUSALS[refused.code]) % details


def refused_response(alert_id: int, refused: ReviewRefused):
    """A refused decision, worded in the officer's language: bad input answers 422 with the alert's page
    and the reason on it; a decision the alert's state no longer allows goes back to its page."""
    db.session.rollback()
    flash(refusal_text(refused), "error")
    if refused.code in INPUT_REFUSALS:
        return alert_page(alert_id), 422
    return redirect(url_for("console.alert_page", alert_id=alert_id), 303)


def alert_or_404(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        abort(404, _("No alert %(id)s.", id=alert_id))
    return alert


def _inbox_alerts() -> tuple[list[Alert], list[Alert]]:
    """The rows the inbox shows, in a fixed number of queries, without the alerts' polygons and originals
    (the page polls this every few seconds)."""
    listed = select(Alert).options(*without_bulky_columns(), selectinload(Alert.counties), selectinload(Alert.agency))
    waiting = db.session.scalars(listed.where(Alert.state == AlertState.PENDING_REVIEW)
                                 .order_by(Alert.received_at.desc()).limit(INBOX_SIZE)).all()
    recent = db.session.scalars(listed.where(Alert.state != AlertState.PENDING_REVIEW)
                                .order_by(Alert.received_at.desc()).limit(INBOX_SIZE)).all()
    return list(waiting), list(recent)


@console.get("/")
@roles_required(*READERS)
def inbox():
    waiting, recent = _inbox_alerts()
    return render_template("console/inbox.html", waiting=waiting, recent=recent, hazards=catalogue())


@console.get("/inbox/rows")
@roles_required(*READERS)
@passive
def inbox_rows():
    """The inbox's tables alone, which the page fetches every few seconds."""
    waiting, recent = _inbox_alerts()
    return render_template("console/_inbox_rows.html", waiting=waiting, recent=recent, hazards=catalogue())


@console.app_context_processor
def tibetan_authorship() -> dict[str, object]:
    """`unreviewed_tibetan(alert)`: "written by <officer>, not reviewed" where an officer typed the Tibetan
    free text, for every page that shows an alert's texts (alert page, report)."""
    def label(alert: Alert) -> str:
        officer = tibetan_written_by(db.session, alert)
        return _("written by %(officer)s, not reviewed", officer=officer) if officer else ""
    return {"unreviewed_tibetan": label}


def _compose_form() -> ComposeForm:
    counties = list(db.session.scalars(select(County).order_by(County.code)))
    return ComposeForm().offer(catalogue(), counties, named_areas(db.session, active_only=True))


@console.route("/compose", methods=["GET", "POST"])
@roles_required(*OFFICERS)
def compose():
    """A new alert (or, with `references`, a correction) through the agency API's rules; it waits for review."""
    form = _compose_form()
    problems: list[str] = []
    if form.validate_on_submit():
        body = json.dumps(form.alert_json(), ensure_ascii=False).encode()
        try:
            message = parse_alert_json(body, str(current_app.config["CONSOLE_CAP_SENDER"]),
                                       IntakeLimits.from_settings(current_app.config))
            alert = ingest(db.session, message, body, current_user, catalogue()).alert
        except IntakeError as error:
            db.session.rollback()
            problems = [error.detail] + [f"{e.location}: {e.message}" for e in error.errors]
        else:
            db.session.commit()
            flash(_("Saved. Check the preview, then publish."), "ok")
            return redirect(url_for("console.alert_page", alert_id=alert.id), 303)
    status = 422 if problems or (request.method == "POST" and form.errors) else 200
    return _compose_page(form, problems), status


def _compose_page(form: ComposeForm, problems: list[str], correcting: Alert | None = None) -> str:
    attribute = county_name_attribute()  # the map names each county in the officer's language
    names = {county.code: getattr(county, attribute) for county in db.session.scalars(select(County))}
    uses = {name: [hazard.code for hazard in form.hazards if name in hazard.parameters] for name in PARAMETER_FIELDS}
    outlines = {area.code: map_path(area.geometry_geojson) for area in form.areas}
    return render_template("console/compose.html", form=form, problems=problems, correcting=correcting,
                           county_map=county_map(), county_names=names, parameter_labels=PARAMETER_LABELS,
                           parameter_uses=uses, outlines=outlines)


@console.get("/alerts/<int:alert_id>/correct")
@roles_required(*OFFICERS)
def correct(alert_id: int):
    """The compose form with the alert's own wording, as an Update of it."""
    alert = alert_or_404(alert_id)
    if alert.state not in (AlertState.PUBLISHING, AlertState.PUBLISHED):
        flash(_("This alert is %(state)s; only a published alert can be corrected.", state=label_of(AlertState, alert.state)), "error")
        return redirect(url_for("console.alert_page", alert_id=alert_id), 303)
    form = _compose_form()
    form.fill_from(alert)
    return _compose_page(form, [], correcting=alert)


def operator_rows(progress: list[OperatorProgress]) -> list[dict]:
    """The cell broadcast table, one row per operator as the page draws it and its polling redraws it."""
    return [{"code": row.code, "name": row.name, "status": row.status.value,
             "accepted": beijing(row.accepted_at) if row.accepted_at else "—",
             "state": row.state.value if row.state else "", "state_label": cbc_state_label(row),
             "cells": row.cells, "failed_cells": row.failed_cells} for row in progress]


def cbc_state_label(row: OperatorProgress) -> str:
    """What the CBC last said; before any callback, how the delivery stands (sent: accepted, no report yet)."""
    if row.state is not None:
        return label_of(CbcState, row.state)
    if row.status == DeliveryStatus.SENT:
        return _("Accepted, no report yet")
    return label_of(DeliveryStatus, row.status) + (f" ({row.detail})" if row.detail else "")


def progress_rows(table: dict[str, dict[str, dict[str, int]]]) -> list[dict]:
    """The progress table from `counts`, as the page draws it and its polling redraws it: channels in
    the catalog's order, counties by code and named in the officer's language, so rows never jump."""
    order = catalog.names()
    return [{"channel": channel, "label": channel_label(channel), "county": code, "name": county_name(code),
             "cells": [statuses.get(status, 0) for status in PROGRESS_STATUSES]
             + [statuses.get("undelivered", 0) + statuses.get("cancelled", 0)]}
            for channel in sorted(table, key=order.index) for code, statuses in sorted(table[channel].items())]


@console.get("/alerts/<int:alert_id>")
@roles_required(*READERS)
def alert_page(alert_id: int):
    alert = alert_or_404(alert_id)
    view = view_of(alert)
    texts = {text: {language: render_fitted(view, text, language, catalog.budget_for(text, current_app.config))
                    for language in LANGUAGES} for text in catalog.texts()}
    targets = reach(db.session, alert)
    operators = operator_progress(db.session, alert.id)
    places = {code: (place_name(code, "zh"), place_name(code, "bo")) for code in targets}
    named = [(area_name(area), counties_named(area.county_codes)) for area in named_in(db.session, alert.area)]
    table = counts(db.session, alert.id)
    reached = reached_so_far(table)
    cancellable = alert.state in (AlertState.PUBLISHING, AlertState.PUBLISHED) and alert.msg_type != MsgType.CANCEL
    area_map = alert_map(db.session, alert, str(current_app.config["CONSOLE_CAP_SENDER"]))
    return render_template(
        "console/alert.html", alert=alert, hazard=catalogue().get(alert.hazard_code), texts=texts, reach=targets,
        area_map=area_map,
        places=places, named_areas=named, channels=catalog.county_channels(), reach_sentence=reach_sentence(targets),
        approvals=approvals(db.session, alert),
        needs_second=needs_second_officer(alert, current_app.config),
        progress=progress_rows(table), reason_limit=REJECT_REASON_MAX_CHARS, operators=operator_rows(operators),
        cbc_targets=[operator.name for operator in area_map.operators],
        cancelled_by=db.session.get(Alert, alert.superseded_by_id) if alert.state == AlertState.CANCELLED
        and alert.superseded_by_id else None,
        withdraws=referenced_alerts(db.session, alert) if alert.msg_type == MsgType.CANCEL else [],
        cancel_question=cancel_question(alert, texts["headline"], **reached) if cancellable else "",
        cancel_dialog=cancel_question(alert, texts["headline"], delivered="{delivered}", sent="{sent}")
        if cancellable else "", reached=reached,
        cancel_preview=cancel_preview(alert) if cancellable else {},
        untranslated=untranslated(texts),
    )


def untranslated(texts: dict[str, dict[str, FittedText]]) -> dict[str, object]:
    """Never silent: how many Tibetan sections still carry Chinese, over every text, and the terms missing."""
    rendered = [each for by_language in texts.values() for each in by_language["bo"].rendered if each.language == "bo"]
    return {"sections": sum(len(each.chinese_sections) for each in rendered),
            "terms": list(dict.fromkeys(term for each in rendered for term in each.missing_terms))}


def reach_sentence(reach: dict[str, dict[str, int]]) -> str:
    """Whom publishing reaches, summed over the counties: each channel's targets in its own words, listed
    as the officer's language lists things."""
    parts = [_(channel.reach_count, count=sum(counts.get(channel.name, 0) for counts in reach.values()))
             for channel in catalog.county_channels()]
    return _("Goes to %(targets)s in %(counties)d counties.", targets=format_list(parts, locale=console_locale()),
             counties=len(reach))


def message_language() -> str:
    """The language of the warning texts an officer is shown: the console's, Chinese for English."""
    return locale if (locale := console_locale()) in LANGUAGES else "zh"


def reached_so_far(table: dict[str, dict[str, dict[str, int]]]) -> dict[str, int]:
    """Deliveries sent and delivered so far, over every channel and county of the progress table."""
    return {status: sum(statuses.get(status, 0) for counties in table.values() for statuses in counties.values())
            for status in ("sent", "delivered")}


def cancel_question(alert: Alert, headlines: dict[str, FittedText], delivered: int | str, sent: int | str) -> str:
    """The one question before a cancel: which alert (its headline), where (its counties, in the
    officer's language) and whom it has reached (deliveries delivered and sent). The page passes
    "{delivered}" and "{sent}" for the dialog, which fills in the counts of the latest poll."""
    language = message_language()
    headline = free_text(alert.headline or {}, language) or headlines[language].text
    counties = counties_named(alert.county_codes)
    return _("Cancel “%(headline)s” in %(counties)s? So far %(delivered)s deliveries were delivered and %(sent)s "
             "more sent; those reached will be told it is cancelled, and nothing more of it will be sent.",
             headline=headline, counties=counties, delivered=delivered, sent=sent)


def cancel_preview(alert: Alert) -> dict[str, FittedText]:
    """What those the alert reached would receive if it were cancelled, in both languages, as the first
    channel of the catalog (the one people read most: text messages) carries it."""
    view = cancellation_view(view_of(alert))
    first = catalog.channels()[0]
    return {language: render_fitted(view, first.template, language, first.budget(current_app.config))
            for language in LANGUAGES}


@console.get("/alerts/<int:alert_id>/progress")
@roles_required(*READERS)
@passive
def alert_progress(alert_id: int):
    alert = alert_or_404(alert_id)
    table = counts(db.session, alert.id)
    operators = operator_progress(db.session, alert.id)
    unsettled = sum(count for counties in table.values() for statuses in counties.values()
                    for status, count in statuses.items() if status in ("pending", "sending"))
    unsettled += sum(not operator.settled for operator in operators)  # a CBC's cells are reported after it accepts
    return jsonify(state=alert.state.value, state_label=label_of(AlertState, alert.state), progress=table,
                   rows=progress_rows(table), operators=operator_rows(operators), unsettled=unsettled,
                   reached=reached_so_far(table))


@console.post("/alerts/<int:alert_id>/publish")
@roles_required(*OFFICERS)
def publish_alert(alert_id: int):
    alert = alert_or_404(alert_id)
    try:
        published = decide_publish(db.session, alert, current_user, request.form.get("confirm_status", ""),
                                   current_app.config, emergency_override=request.form.get("emergency_override") == "1")
    except ReviewRefused as refused:
        db.session.rollback()
        flash(refusal_text(refused), "error")
        return redirect(url_for("console.alert_page", alert_id=alert_id), 303)
    fanout = Fanout.of(alert)
    db.session.commit()
    if published:
        start_fanout(redis_client(), fanout)
        flash(_("Published. Delivery progress follows below."), "ok")
    else:
        flash(_("Your approval is recorded. A second duty officer must approve this red warning."), "ok")
    return redirect(url_for("console.alert_page", alert_id=alert_id), 303)


@console.post("/alerts/<int:alert_id>/reject")
@roles_required(*OFFICERS)
def reject_alert(alert_id: int):
    alert = alert_or_404(alert_id)
    try:
        reject(db.session, alert, current_user, request.form.get("reason", ""))
    except ReviewRefused as refused:
        return refused_response(alert_id, refused)
    db.session.commit()
    flash(_("Rejected: nothing was sent."), "ok")
    return redirect(url_for("console.inbox"), 303)


@console.post("/alerts/<int:alert_id>/cancel")
@roles_required(*OFFICERS)
def cancel_alert(alert_id: int):
    alert = alert_or_404(alert_id)
    try:
        cancellation = cancel(db.session, alert, current_user, current_app.config,
                              confirmed=request.form.get("confirm_cancel") == str(alert.id))
    except ReviewRefused as refused:
        return refused_response(alert_id, refused)
    fanout = Fanout.of(cancellation)
    db.session.commit()
    start_fanout(redis_client(), fanout)
    flash(_("Cancelled: pending deliveries stopped; those already reached are being told."), "ok")
    return redirect(url_for("console.alert_page", alert_id=fanout.alert_id), 303)


@console.post("/language")
@roles_required(*READERS)
def set_language():
    """Keep the signed-in user's choice of interface language."""
    language = request.form.get("language", "")
    if language not in CODES:
        abort(400, _("Unknown interface language: choose one the page offers."))
    current_user.locale = language
    db.session.commit()
    refresh_locale()  # the choice holds from this response on
    return redirect(url_for("console.inbox"), 303)
