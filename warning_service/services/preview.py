"""What a message would say on every channel and whom it would reach, without storing anything.

For the agency API's POST /preview and, later, the duty officers' console. The
message is read with the region's rules as intake reads it (`interpret`, the
agency's right to the hazard and to the alerts it references), rendered from the
templates per channel and language, and its targets are counted with
`target_select`, one grouped query per channel. Unlike intake, a preview does not
refuse references to alerts no longer in force or of another status: it shows
what the text would be. No Flask here; the session is only read.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..cap.message import AlertMessage
from ..channels.catalog import budget_for, county_channels, texts
from ..channels.cell_broadcast import CHANNEL as CELL_BROADCAST
from ..dispatch.targets import target_select
from ..hazards import PARAMETER_RULES, Hazard, HazardCatalogue, ProtectiveAction
from ..intake.errors import forbidden, invalid
from ..intake.interpret import interpret, language_key
from ..models import Agency, Alert, CapStatus, CbcOperator, Level, MsgType, User, referenced_alerts
from ..rendering.formatting import place_name
from ..rendering.render import LANGUAGES, FittedText, render_fitted
from ..rendering.views import view_of
from .ingest import check_sender
from .named_areas import resolve_named_areas

# Fields an AlertDraft and an Alert have in common, under the same name and in the same form.
_SHARED_WITH_DRAFT = ("county_codes", "onset", "expires", "response_types", "parameters", "headline", "description",
                      "instruction")


@dataclass(frozen=True)
class DraftAlert:
    """The parts of an Alert that `view_of` and `target_select` read, for a message that is not stored."""

    hazard_code: str | None
    level: Level | None
    status: CapStatus
    msg_type: MsgType
    county_codes: list[str]
    onset: datetime | None
    expires: datetime | None
    sent: datetime
    agency: Agency
    references: list[str]             # "sender,identifier,sent", as an Alert stores them
    response_types: list[str]
    parameters: dict[str, str]
    headline: dict[str, str]
    description: dict[str, str]
    instruction: dict[str, str]
    named_places: list[dict[str, Any]]


def preview(session: Session, message: AlertMessage, agency: Agency, hazards: HazardCatalogue,
            settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The preview document; raises IntakeError (403, 422) where intake would refuse the message."""
    alert = draft_alert(session, message, agency, hazards)
    hazard = hazards.get(alert.hazard_code)
    view = view_of(alert)
    return {
        "hazard": hazard_json(hazard, hazards.protective_actions),
        "level": alert.level.value if alert.level else None,
        "status": alert.status.value,
        "msg_type": alert.msg_type.value,
        "counties": [
            {"code": code, "name_zh": place_name(code, "zh"), "name_bo": place_name(code, "bo")}
            for code in alert.county_codes
        ],
        "texts": {
            channel: {
                language: fitted_json(render_fitted(view, channel, language, budget_for(channel, settings)))
                for language in LANGUAGES
            }
            for channel in texts()
        },
        "reach": reach(session, alert),
        "tibetan_free_text": _unreviewed(alert),
        "cell_broadcast": {"operators": [{"code": operator.code, "name": operator.name}
                                         for operator in cbc_operators(session, alert)]},
    }


def draft_alert(session: Session, message: AlertMessage, agency: Agency, hazards: HazardCatalogue) -> DraftAlert:
    """The message as intake would store it: interpreted, authorised, a Cancel without <info> taking
    hazard, level and counties from the first alert it references."""
    check_sender(agency, message)
    named_places = resolve_named_areas(session, message)
    draft = interpret(message, hazards)
    alert = DraftAlert(
        hazard_code=draft.hazard.code if draft.hazard else None,
        level=Level(draft.level) if draft.level else None,
        status=CapStatus(message.status),
        msg_type=MsgType(message.msg_type),
        sent=message.sent,
        agency=agency,
        references=[f"{r.sender},{r.identifier},{r.sent}" for r in message.references],
        named_places=named_places,
        **{name: getattr(draft, name) for name in _SHARED_WITH_DRAFT},
    )
    referenced = referenced_alerts(session, alert)
    if foreign := [earlier.identifier for earlier in referenced if earlier.agency_id != agency.id]:
        raise forbidden(f"alert {foreign[0]!r} belongs to another agency")
    if alert.hazard_code is not None and not agency.may_issue(alert.hazard_code):
        raise forbidden(f"agency {agency.name!r} may not issue {alert.hazard_code!r} alerts")
    if alert.hazard_code is None:
        if not referenced:
            raise invalid("the message names no hazard and references no alert this service holds")
        alert = replace(alert, hazard_code=referenced[0].hazard_code, county_codes=referenced[0].county_codes,
                        named_places=referenced[0].named_places)
    if referenced and alert.level is None:
        alert = replace(alert, level=referenced[0].level)
    return alert


def reach(session: Session, alert: DraftAlert) -> dict[str, dict[str, int]]:
    """county code -> channel -> targets, every county of the alert listed (zero where none), on the channels
    counted per county (a cell broadcast covers the whole area through each operator: `cbc_operators`).

    Exercise and Test messages count only targets marked for exercises, and a
    Cancel counts whoever the alerts it cancels may have reached: `target_select` decides.
    """
    carried = county_channels()
    counts = {code: {channel.name: 0 for channel in carried} for code in alert.county_codes}
    for channel in carried:
        targets = target_select(session, alert, channel).subquery()
        rows = session.execute(select(targets.c.county_code, func.count()).group_by(targets.c.county_code))
        for county_code, count in rows:
            counts.setdefault(county_code, {each.name: 0 for each in carried})[channel.name] = count
    return counts


def cbc_operators(session: Session, alert: Alert | DraftAlert) -> list[CbcOperator]:
    """The operators' CBCs the alert goes (or would go) to, by code: `target_select` decides, as for any channel."""
    targets = target_select(session, alert, CELL_BROADCAST).subquery()
    return list(session.scalars(select(CbcOperator).where(CbcOperator.id.in_(select(targets.c.target_id)))
                                .order_by(CbcOperator.code)))


def _unreviewed(alert: DraftAlert) -> dict[str, Any] | None:
    """The agency's own Tibetan free text, as the officer's is marked: whose it is, and that no translator
    reviewed it (the texts carry it as written)."""
    fields = [name for name in ("headline", "description", "instruction")
              if any(language_key(tag) == "bo" and text for tag, text in getattr(alert, name).items())]
    if not fields:
        return None
    return {"fields": fields, "written_by": alert.agency.name, "reviewed": False,
            "label_zh": f"由{alert.agency.name}撰写，未经审校"}


def tibetan_written_by(session: Session, alert: Alert) -> str | None:
    """The officer who typed an alert's Tibetan free text in the console, or None: no translator reviewed
    it, so wherever it is shown it is marked as theirs and not reviewed."""
    if alert.created_by_id is None or not any(language_key(tag) == "bo" for name in ("headline", "description",
                                                                                      "instruction")
                                              for tag, text in (getattr(alert, name) or {}).items() if text):
        return None
    officer = session.get(User, alert.created_by_id)
    return officer.username if officer is not None else None


def hazard_json(hazard: Hazard, protective: Mapping[str, ProtectiveAction]) -> dict[str, Any]:
    """A catalogue entry as integrators read it (GET /api/v1/hazards), with the protective actions each level
    offers by code (sent as `actions`, or CAP ACTION_CODE parameters); bo only where sourced."""
    return {
        "code": hazard.code,
        "names": dict(hazard.names),
        "bo_status": hazard.bo_status,
        "levels": list(hazard.levels),
        "cap_category": hazard.cap_category,
        "cap_events": list(hazard.cap_events),
        "zh_aliases": list(hazard.zh_aliases),
        "oasis_event_codes": list(hazard.oasis_event_codes),
        "national_event_codes": list(hazard.national_event_codes),
        "agency_kinds": sorted(hazard.agency_kinds),
        "parameters": [parameter_json(name) for name in hazard.parameters],
        "validity_hours": hazard.validity_hours,
        "actions": {level: [{"code": code, "zh": protective[code].zh, "en": protective[code].en,
                             "bo": protective[code].bo or None} for code in codes]
                    for level, codes in hazard.choices.items()},
    }


def parameter_json(name: str) -> dict[str, Any]:
    """A hazard's numeric parameter with its unit and the range intake accepts, so agencies can check before posting."""
    rule = PARAMETER_RULES[name]
    return {"name": name, "unit": rule.unit, "minimum": float(rule.minimum), "maximum": float(rule.maximum)}


def fitted_json(fitted: FittedText) -> dict[str, Any]:
    measure = fitted.fit.measure
    return {
        "text": fitted.text,
        "measure": {"units": measure.units, "parts": measure.parts, "encoding": measure.encoding,
                    "fits": measure.fits, "describe": measure.describe()},
        "shortened": fitted.fit.shortened,
        "cut": fitted.fit.cut,
        "warnings": list(fitted.warnings),
        "reviewed": all(rendered.reviewed for rendered in fitted.rendered),
        "missing_terms": list(dict.fromkeys(term for rendered in fitted.rendered for term in rendered.missing_terms)),
        "chinese_sections": [section for rendered in fitted.rendered for section in rendered.chinese_sections],
        "templates": [rendered.template for rendered in fitted.rendered],
    }
