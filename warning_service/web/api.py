"""The agency API, /api/v1: agency systems post CAP 1.2 XML or JSON alerts, preview them and read their own.

Public, without a key: the hazard catalogue, the Atom feed of published warnings
and their CAP messages.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import wraps

from flask import Blueprint, Response, abort, current_app, g, jsonify, request, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..cap.errors import FieldError
from ..cap.message import AlertMessage
from ..dispatch.queueing import Fanout, start_fanout
from ..extensions import db, redis_client
from ..hazards import action_codes, catalogue
from ..intake.cap_json import parse_alert_json
from ..intake.cap_xml import parse_cap_xml
from ..intake.errors import IntakeError
from ..intake.limits import IntakeLimits
from ..models import Alert, AlertState, Delivery, without_bulky_columns
from ..rendering.cap_fields import CAP_MIMETYPE
from ..security.api_keys import agency_for_key
from ..services.cap_out import cap_message
from ..services.feed import ATOM_MIMETYPE, atom_feed, is_public, public_alerts
from ..services.ingest import ingest
from ..services.preview import hazard_json, preview
from .openapi import MAX_PAGE, openapi_document

api = Blueprint("api", __name__)

XML_TYPES = {"application/cap+xml", "application/xml", "text/xml"}
JSON_TYPES = {"application/json"}
MAX_PER_PAGE = 100


def agency_required(view):
    """Authenticate `Authorization: Bearer <key>`; the agency is in g.agency."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            abort(401, "Send the agency's API key as 'Authorization: Bearer <key>'.")
        agency = agency_for_key(db.session, key.strip())
        if agency is None:
            abort(401, "The API key is unknown or has been revoked.")
        g.agency = agency
        return view(*args, **kwargs)

    return wrapper


@api.post("/alerts")
@agency_required
def post_alert():
    body = _body()
    message = _parse(body)
    agency_id = g.agency.id  # read now: a rollback expires the agency
    try:
        result = ingest(db.session, message, body, g.agency, catalogue())
        # Answered from what is in hand: after the commit the alert would be read back just for this.
        answer = _alert_created(result.alert, result.created, result.notes)
        fanout = Fanout.of(result.alert) if result.created and result.alert.state == AlertState.PUBLISHING else None
        db.session.commit()
    except IntakeError:
        db.session.rollback()
        raise
    except IntegrityError:
        # The agency holds this (sender, identifier) already (a replay, or a concurrent request): intake
        # leaves the duplicate to the alerts' unique constraint, and answers with the alert it kept.
        db.session.rollback()
        existing = Alert.by_cap_key(db.session, message.sender, message.identifier, agency_id)
        if existing is None:
            raise
        return _alert_created(existing, created=False)
    if fanout is not None:
        start_fanout(redis_client(), fanout)
    return answer


def _body() -> bytes:
    """The request body, whole. Werkzeug answers 413 to a declared Content-Length over MAX_CONTENT_LENGTH,
    but only cuts a chunked body (no length declared) at the limit: one that fills it is refused too,
    never parsed cut short (a valid message followed by megabytes of padding would otherwise pass)."""
    body = request.get_data(cache=False)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit and len(body) >= limit:
        abort(413, f"The body is larger than the {limit} bytes this API accepts.")
    return body


def _parse(body: bytes) -> AlertMessage:
    """The request body as a message, CAP XML or JSON by its content type, within the settings' limits;
    IntakeError 400/413/422 as intake."""
    content_type = request.mimetype
    if content_type not in XML_TYPES | JSON_TYPES:
        abort(415, f"Send CAP 1.2 XML ({', '.join(sorted(XML_TYPES))}) or JSON (application/json), not {content_type or 'no content type'!r}.")
    limits = IntakeLimits.from_settings(current_app.config)
    if content_type in XML_TYPES:
        return parse_cap_xml(body, limits)
    return parse_alert_json(body, default_sender=g.agency.default_sender, limits=limits)


@api.post("/preview")
@agency_required
def preview_alert():
    """What the message would say on each channel and whom it would reach; nothing is stored."""
    message = _parse(_body())
    return jsonify(preview(db.session, message, g.agency, catalogue(), current_app.config))


def _alert_created(alert: Alert, created: bool, notes: list[str] | None = None) -> Response:
    """The summary, with `notes` on what intake filled in (a default expiry) so the sender learns of it."""
    summary = alert_summary(alert)
    response = jsonify({**summary, **({"notes": notes} if notes else {})})
    response.status_code = 201 if created else 200
    response.headers["Location"] = summary["links"]["self"]
    return response


@api.get("/alerts/<int:alert_id>")
@agency_required
def get_alert(alert_id: int):
    return jsonify(alert_detail(_own_alert(alert_id)))


@api.get("/alerts/<int:alert_id>/cap")
@agency_required
def get_alert_cap(alert_id: int):
    return _cap_response(_own_alert(alert_id))


@api.get("/public/alerts/<int:alert_id>/cap")
def get_public_alert_cap(alert_id: int):
    alert = db.session.get(Alert, alert_id)
    if alert is None or not is_public(alert):
        abort(404, f"No published warning {alert_id}.")
    return _cap_response(alert)


@api.get("/hazards")
def list_hazards():
    return jsonify([hazard_json(hazard, catalogue().protective_actions) for hazard in catalogue()])


@api.get("/feed.atom")
def feed():
    document = atom_feed(
        public_alerts(db.session),
        self_url=url_for("api.feed", _external=True),
        cap_url=lambda alert: url_for("api.get_public_alert_cap", alert_id=alert.id, _external=True),
    )
    return Response(document, mimetype=ATOM_MIMETYPE)


def _own_alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        abort(404, f"No alert {alert_id}.")
    if alert.agency_id != g.agency.id:
        abort(403, f"Alert {alert_id} belongs to another agency.")
    return alert


def _cap_response(alert: Alert) -> Response:
    return Response(cap_message(alert), mimetype=CAP_MIMETYPE)


@api.get("/alerts")
@agency_required
def list_alerts():
    page = _int_arg("page", default=1, minimum=1, maximum=MAX_PAGE)
    per_page = _int_arg("per_page", default=50, minimum=1, maximum=MAX_PER_PAGE)
    query = select(Alert).where(Alert.agency_id == g.agency.id)
    if state := request.args.get("state"):
        try:
            query = query.where(Alert.state == AlertState(state))
        except ValueError:
            _bad_query("state", f"state must be one of {', '.join(s.value for s in AlertState)}")
    if since := request.args.get("since"):
        query = query.where(Alert.received_at >= _aware_datetime_arg("since", since))
    total = db.session.scalar(query.with_only_columns(func.count(), maintain_column_froms=True))  # no column read
    alerts = db.session.scalars(
        query.options(*without_bulky_columns())
        .order_by(Alert.received_at.desc(), Alert.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return jsonify(
        items=[alert_summary(alert) for alert in alerts],
        page=page,
        per_page=per_page,
        total=total,
    )


@api.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


def alert_summary(alert: Alert) -> dict:
    return {
        "id": alert.id,
        "identifier": alert.identifier,
        "sender": alert.sender,
        "state": alert.state.value,
        "links": {"self": url_for("api.get_alert", alert_id=alert.id, _external=True)},
    }


def alert_detail(alert: Alert) -> dict:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(Delivery.channel, Delivery.status, func.count())
        .where(Delivery.alert_id == alert.id)
        .group_by(Delivery.channel, Delivery.status)
    )
    for channel, status, count in rows:
        counts[channel][status.value] = count
    return {
        **alert_summary(alert),
        "status": alert.status.value,
        "msg_type": alert.msg_type.value,
        "sent": alert.sent.isoformat(),
        "references": alert.references,
        "hazard": alert.hazard_code,
        "level": alert.level.value if alert.level else None,
        "event": alert.event,
        "onset": alert.onset.isoformat() if alert.onset else None,
        "expires": alert.expires.isoformat() if alert.expires else None,
        "counties": alert.county_codes,
        "headline": alert.headline,
        "description": alert.description,
        "instruction": alert.instruction,
        "parameters": alert.parameters,
        "actions": list(action_codes(alert.parameters)),
        "info_count": len(alert.infos),
        "received_at": alert.received_at.isoformat(),
        "state_changed_at": alert.state_changed_at.isoformat(),
        "superseded_by": alert.superseded_by_id,
        "deliveries": counts,
    }


def _bad_query(name: str, message: str):
    raise IntakeError(400, "Bad query parameter", message, [FieldError(name, message)])


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        _bad_query(name, f"{name} must be a whole number")
    if value < minimum or (maximum is not None and value > maximum):
        _bad_query(name, f"{name} must be between {minimum} and {maximum or 'any'}")
    return value


def _aware_datetime_arg(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        _bad_query(name, f"{name} must be an ISO 8601 date-time with a zone, e.g. 2026-11-24T08:00:00+08:00")
    if value.tzinfo is None:
        _bad_query(name, f"{name} needs a time zone, e.g. +08:00")
    return value
