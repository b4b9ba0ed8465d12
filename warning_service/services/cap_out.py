"""The service's own CAP 1.2 message for an alert: one <info> per language, Tibetan first.

The instruction is the rendered `instruction` channel, what the service broadcasts.
The headline and description are the agency's own where it gave them in that
language (an integrator re-publishing the warning should not lose the issuer's
wording), and the rendered channels otherwise.
Every message is read back through the intake's parser before it leaves, which
validates it against the bundled CAP 1.2 schema: the service never hands out a
CAP message that it would itself refuse.
"""
from __future__ import annotations

from lxml import etree

from ..hazards import ACTION_PARAMETER, Hazard, catalogue
from ..intake.cap_json import GEOCODE_NAME, HAZARD_CODE, LEVEL_PARAMETER
from ..intake.cap_xml import parse_cap_xml
from ..intake.errors import IntakeError
from ..models import Alert
from ..rendering.cap_fields import CAP12, add_pair, add_text, cap_tag, cap_time, certainty, severity, urgency
from ..rendering.formatting import places
from ..rendering.overlay import current_overlay, rendering_with
from ..rendering.render import AlertView, render_fitted
from ..rendering.views import view_of

# Our languages as CAP tags, in the order of the <info> blocks.
INFO_LANGUAGES: tuple[tuple[str, str], ...] = (("bo", "bo-CN"), ("zh", "zh-CN"))


class CapBuildError(RuntimeError):
    """The built message does not pass the CAP 1.2 schema: a bug here, never the agency's fault."""


def cap_message(alert: Alert) -> bytes:
    """The alert as a CAP 1.2 document, UTF-8 with an XML declaration; raises CapBuildError if invalid."""
    root = etree.Element(cap_tag("alert"), nsmap={None: CAP12})
    for name, value in (
        ("identifier", alert.identifier),
        ("sender", alert.sender),
        ("sent", cap_time(alert.sent)),
        ("status", alert.status.value),
        ("msgType", alert.msg_type.value),
        ("source", alert.source),
        ("scope", alert.scope),
        ("restriction", alert.restriction),
        ("addresses", alert.addresses),
        ("note", alert.note),
        ("references", " ".join(alert.references or ())),
        ("incidents", " ".join(alert.incidents or ())),
    ):
        add_text(root, name, value)
    # A hazard code the catalogue no longer has (or none) gives a message without <info>, as CAP allows.
    hazard = catalogue().get(alert.hazard_code or "")
    if hazard is not None:
        view = view_of(alert)
        for language, tag in INFO_LANGUAGES:
            _info(root, alert, view, hazard, language, tag)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    try:
        parse_cap_xml(document)
    except IntakeError as exc:
        problems = "; ".join(f"{error.location}: {error.message}" for error in exc.errors)
        raise CapBuildError(f"CAP for alert {alert.id} is not valid: {exc.detail} {problems}") from exc
    return document


def _info(root: etree._Element, alert: Alert, view: AlertView, hazard: Hazard, language: str, tag: str) -> None:
    info = etree.SubElement(root, cap_tag("info"))
    add_text(info, "language", tag)
    for value in alert.categories or [hazard.cap_category]:
        add_text(info, "category", value)
    # The hazard's name in this language; Chinese while its Tibetan name awaits review.
    add_text(info, "event", hazard.names[language] or hazard.names["zh"])
    for value in alert.response_types or ():
        add_text(info, "responseType", value)
    level = alert.level.value if alert.level else None
    add_text(info, "urgency", urgency(alert.urgency))
    add_text(info, "severity", severity(alert.severity, level))
    add_text(info, "certainty", certainty(alert.certainty))
    add_pair(info, "eventCode", HAZARD_CODE, alert.hazard_code)
    for name, value in (("effective", alert.effective), ("onset", alert.onset), ("expires", alert.expires)):
        add_text(info, name, cap_time(value) if value else None)
    add_text(info, "senderName", view.sender_name)
    for channel, given in (("headline", alert.headline), ("description", alert.description), ("instruction", None)):
        add_text(info, channel, (given or {}).get(language) or render_fitted(view, channel, language).text)
    for name, value in (alert.parameters or {}).items():
        if name not in (LEVEL_PARAMETER, ACTION_PARAMETER):
            add_pair(info, "parameter", name, value)
    for code in view.actions:   # one <parameter> per chosen protective action
        add_pair(info, "parameter", ACTION_PARAMETER, code)
    if level:
        add_pair(info, "parameter", LEVEL_PARAMETER, level)
    if alert.county_codes:
        area = etree.SubElement(info, cap_tag("area"))
        with rendering_with(current_overlay()):   # the desk's approved county names, as in the texts
            add_text(area, "areaDesc", places(alert.county_codes, language))
        for code in alert.county_codes:
            add_pair(area, "geocode", GEOCODE_NAME, code)
