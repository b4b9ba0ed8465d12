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

from datetime import datetime

from lxml import etree

from ..hazards import Hazard, catalogue
from ..intake.cap_json import GEOCODE_NAME, HAZARD_CODE, LEVEL_PARAMETER
from ..intake.cap_xml import CAP12, parse_cap_xml
from ..intake.errors import IntakeError
from ..models import Alert
from ..rendering.formatting import LOCAL_TIME, places
from ..rendering.render import AlertView, render_fitted
from ..rendering.views import view_of

CAP_MIMETYPE = "application/cap+xml"
# Our languages as CAP tags, in the order of the <info> blocks.
INFO_LANGUAGES: tuple[tuple[str, str], ...] = (("bo", "bo-CN"), ("zh", "zh-CN"))
SEVERITY_BY_LEVEL = {"red": "Extreme", "orange": "Severe", "yellow": "Moderate", "blue": "Minor"}
URGENCIES = frozenset({"Immediate", "Expected", "Future", "Past", "Unknown"})
SEVERITIES = frozenset({*SEVERITY_BY_LEVEL.values(), "Unknown"})
# CAP 1.1's "Very Likely" was dropped in 1.2, which says to read it as "Likely".
CERTAINTIES = {"Observed": "Observed", "Likely": "Likely", "Very Likely": "Likely", "Possible": "Possible",
               "Unlikely": "Unlikely", "Unknown": "Unknown"}
UNKNOWN = "Unknown"


class CapBuildError(RuntimeError):
    """The built message does not pass the CAP 1.2 schema: a bug here, never the agency's fault."""


def cap_message(alert: Alert) -> bytes:
    """The alert as a CAP 1.2 document, UTF-8 with an XML declaration; raises CapBuildError if invalid."""
    root = etree.Element(_tag("alert"), nsmap={None: CAP12})
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
        _text(root, name, value)
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


def cap_time(value: datetime) -> str:
    """CAP's date-time: seconds, a numeric zone, no 'Z'; Beijing time, the region's civil time."""
    return value.astimezone(LOCAL_TIME).replace(microsecond=0).isoformat()


def _info(root: etree._Element, alert: Alert, view: AlertView, hazard: Hazard, language: str, tag: str) -> None:
    info = etree.SubElement(root, _tag("info"))
    _text(info, "language", tag)
    for value in alert.categories or [hazard.cap_category]:
        _text(info, "category", value)
    # The hazard's name in this language; Chinese while its Tibetan name awaits review.
    _text(info, "event", hazard.names[language] or hazard.names["zh"])
    for value in alert.response_types or ():
        _text(info, "responseType", value)
    level = alert.level.value if alert.level else None
    _text(info, "urgency", alert.urgency if alert.urgency in URGENCIES else UNKNOWN)
    _text(info, "severity", alert.severity if alert.severity in SEVERITIES else SEVERITY_BY_LEVEL.get(level, UNKNOWN))
    _text(info, "certainty", CERTAINTIES.get(alert.certainty or "", UNKNOWN))
    _pair(info, "eventCode", HAZARD_CODE, alert.hazard_code)
    for name, value in (("effective", alert.effective), ("onset", alert.onset), ("expires", alert.expires)):
        _text(info, name, cap_time(value) if value else None)
    _text(info, "senderName", view.sender_name)
    for channel, given in (("headline", alert.headline), ("description", alert.description), ("instruction", None)):
        _text(info, channel, (given or {}).get(language) or render_fitted(view, channel, language).text)
    for name, value in (alert.parameters or {}).items():
        if name != LEVEL_PARAMETER:
            _pair(info, "parameter", name, value)
    if level:
        _pair(info, "parameter", LEVEL_PARAMETER, level)
    if alert.county_codes:
        area = etree.SubElement(info, _tag("area"))
        _text(area, "areaDesc", places(alert.county_codes, language))
        for code in alert.county_codes:
            _pair(area, "geocode", GEOCODE_NAME, code)


def _tag(name: str) -> str:
    return f"{{{CAP12}}}{name}"


def _text(parent: etree._Element, name: str, value: str | None) -> None:
    """A child element with text; nothing when the value is empty (CAP leaves optional elements out)."""
    if value:
        etree.SubElement(parent, _tag(name)).text = value


def _pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    """A valueName/value pair (eventCode, parameter, geocode); both are required, even when empty."""
    element = etree.SubElement(parent, _tag(name))
    etree.SubElement(element, _tag("valueName")).text = value_name
    etree.SubElement(element, _tag("value")).text = value
