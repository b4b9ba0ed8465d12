"""The duty officers' console: the inbox, composing an alert or a correction, an alert's bilingual
preview and reach, publish with its safeguards, reject, one-click cancel, and live delivery progress.

Every route names the roles that may use it (`roles_required`); auditors read, duty
officers decide. Forms carry CSRF tokens (CSRFProtect in create_app).
"""
from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import refresh as refresh_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit.report import counts
from ..dispatch.queueing import start_fanout
from ..dispatch.review import ReviewRefused, approvals, cancel, decide_publish, needs_second_officer, reject
from ..extensions import db, redis_client
from ..hazards import catalogue
from ..intake.cap_json import parse_alert_json
from ..intake.errors import IntakeError
from ..intake.limits import IntakeLimits
from ..intake.service import ingest
from ..models import Alert, AlertState, CapStatus, Channel, County, Role, without_bulky_columns
from ..rendering.formatting import place_name
from ..rendering.preview import reach
from ..rendering.render import CHANNELS, LANGUAGES, budget_for, render_fitted
from ..rendering.views import view_of
from ..targeting.county_map import county_map
from .auth import passive, roles_required
from .forms import PARAMETER_FIELDS, PARAMETER_LABELS, ComposeForm
from .i18n import CODES, county_name, county_name_attribute
from .labels import label_of

console = Blueprint("console", __name__)

READERS = (Role.ADMIN, Role.DUTY_OFFICER, Role.AUDITOR)
OFFICERS = (Role.DUTY_OFFICER,)
INBOX_SIZE = 50
PROGRESS_STATUSES = ("pending", "sending", "sent", "delivered", "failed")  # then "other": undelivered, cancelled
CHANNEL_ORDER = tuple(channel.value for channel in Channel)
# The domain's refusals (dispatch/review.py REFUSAL_TEXTS) in the officer's language, by code.
REFUSALS = {
    "publish_not_waiting": _l("This alert is %(state)s; only an alert waiting for review can be published."),
    "status_mismatch": _l("The confirmation says %(confirmed)s, but this alert is %(status)s. Nothing was published."),
    "override_not_allowed": _l("Only an earthquake early warning may skip the second officer."),
    "already_approved": _l("You have approved this alert already; a second duty officer must approve it."),
    "reject_not_waiting": _l("This alert is %(state)s; only an alert waiting for review can be rejected."),
    "cancel_not_published": _l("This alert is %(state)s; only a published alert can be cancelled."),
}


DETAIL_KINDS = {"state": AlertState, "status": CapStatus, "confirmed": CapStatus}  # details that are codes


def refusal_text(refused: ReviewRefused) -> str:
    details = {name: label_of(DETAIL_KINDS[name], value) if name in DETAIL_KINDS else value
               for name, value in refused.details.items()}
    return str(REFUSALS[refused.code]) % details


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


def _compose_form() -> ComposeForm:
    counties = list(db.session.scalars(select(County).order_by(County.code)))
    return ComposeForm().offer(catalogue(), counties)


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
    return render_template("console/compose.html", form=form, problems=problems, correcting=correcting,
                           county_map=county_map(), county_names=names, parameter_labels=PARAMETER_LABELS,
                           parameter_uses=uses)


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


def progress_rows(table: dict[str, dict[str, dict[str, int]]]) -> list[dict]:
    """The progress table from `counts`, as the page draws it and its polling redraws it: channels in
    their fixed order, counties by code and named in the officer's language, so rows never jump."""
    return [{"channel": channel, "label": label_of(Channel, channel), "county": code, "name": county_name(code),
             "cells": [statuses.get(status, 0) for status in PROGRESS_STATUSES]
             + [statuses.get("undelivered", 0) + statuses.get("cancelled", 0)]}
            for channel in sorted(table, key=CHANNEL_ORDER.index) for code, statuses in sorted(table[channel].items())]


@console.get("/alerts/<int:alert_id>")
@roles_required(*READERS)
def alert_page(alert_id: int):
    alert = alert_or_404(alert_id)
    view = view_of(alert)
    texts = {channel: {language: render_fitted(view, channel, language, budget_for(channel, current_app.config))
                       for language in LANGUAGES} for channel in CHANNELS}
    targets = reach(db.session, alert)
    places = {code: (place_name(code, "zh"), place_name(code, "bo")) for code in targets}
    return render_template(
        "console/alert.html", alert=alert, hazard=catalogue().get(alert.hazard_code), texts=texts, reach=targets,
        places=places, approvals=approvals(db.session, alert),
        needs_second=needs_second_officer(alert, current_app.config),
        progress=progress_rows(counts(db.session, alert.id)),
    )


@console.get("/alerts/<int:alert_id>/progress")
@roles_required(*READERS)
@passive
def alert_progress(alert_id: int):
    alert = alert_or_404(alert_id)
    table = counts(db.session, alert.id)
    unsettled = sum(count for counties in table.values() for statuses in counties.values()
                    for status, count in statuses.items() if status in ("pending", "sending"))
    return jsonify(state=alert.state.value, state_label=label_of(AlertState, alert.state), progress=table, rows=progress_rows(table), unsettled=unsettled)


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
    db.session.commit()
    if published:
        start_fanout(redis_client(), alert)
        flash(_("Published. Delivery progress follows below."), "ok")
    else:
        flash(_("Your approval is recorded. A second duty officer must approve this red warning."), "ok")
    return redirect(url_for("console.alert_page", alert_id=alert_id), 303)


@console.post("/alerts/<int:alert_id>/reject")
@roles_required(*OFFICERS)
def reject_alert(alert_id: int):
    alert = alert_or_404(alert_id)
    try:
        reject(db.session, alert, current_user)
    except ReviewRefused as refused:
        db.session.rollback()
        flash(refusal_text(refused), "error")
        return redirect(url_for("console.alert_page", alert_id=alert_id), 303)
    db.session.commit()
    flash(_("Rejected: nothing was sent."), "ok")
    return redirect(url_for("console.inbox"), 303)


@console.post("/alerts/<int:alert_id>/cancel")
@roles_required(*OFFICERS)
def cancel_alert(alert_id: int):
    alert = alert_or_404(alert_id)
    try:
        cancellation = cancel(db.session, alert, current_user, current_app.config)
    except ReviewRefused as refused:
        db.session.rollback()
        flash(refusal_text(refused), "error")
        return redirect(url_for("console.alert_page", alert_id=alert_id), 303)
    db.session.commit()
    start_fanout(redis_client(), cancellation)
    flash(_("Cancelled: pending deliveries stopped; those already reached are being told."), "ok")
    return redirect(url_for("console.alert_page", alert_id=cancellation.id), 303)


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
