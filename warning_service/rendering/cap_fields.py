"""How the service writes CAP 1.2, the same way in each CAP message it makes (cap_out.py's for integrators,
and the one each operator's Cell Broadcast Centre gets): elements, times, and the urgency, severity and
certainty of an alert that may not have said them in CAP's own words."""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from .formatting import LOCAL_TIME

CAP_MIMETYPE = "application/cap+xml"
CAP12 = "urn:oasis:names:tc:emergency:cap:1.2"
SEVERITY_BY_LEVEL = {"red": "Extreme", "orange": "Severe", "yellow": "Moderate", "blue": "Minor"}
URGENCIES = frozenset({"Immediate", "Expected", "Future", "Past", "Unknown"})
SEVERITIES = frozenset({*SEVERITY_BY_LEVEL.values(), "Unknown"})
# CAP 1.1's "Very Likely" was dropped in 1.2, which says to read it as "Likely".
CERTAINTIES = {"Observed": "Observed", "Likely": "Likely", "Very Likely": "Likely", "Possible": "Possible",
               "Unlikely": "Unlikely", "Unknown": "Unknown"}
UNKNOWN = "Unknown"


def cap_time(value: datetime) -> str:
    """CAP's date-time: seconds, a numeric zone, no 'Z'; Beijing time, the region's civil time."""
    return value.astimezone(LOCAL_TIME).replace(microsecond=0).isoformat()


def urgency(given: str | None) -> str:
    return given if given in URGENCIES else UNKNOWN


def severity(given: str | None, level: str | None) -> str:
    """The agency's own when it is CAP's, else the one of the colour level."""
    return given if given in SEVERITIES else SEVERITY_BY_LEVEL.get(level or "", UNKNOWN)


def certainty(given: str | None) -> str:
    return CERTAINTIES.get(given or "", UNKNOWN)


def cap_tag(name: str) -> str:
    return f"{{{CAP12}}}{name}"


def add_text(parent: etree._Element, name: str, value: str | None) -> None:
    """A child element with text; nothing when the value is empty (CAP leaves optional elements out)."""
    if value:
        etree.SubElement(parent, cap_tag(name)).text = value


def add_pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    """A valueName/value pair (eventCode, parameter, geocode); both are required, even when empty."""
    element = etree.SubElement(parent, cap_tag(name))
    etree.SubElement(element, cap_tag("valueName")).text = value_name
    etree.SubElement(element, cap_tag("value")).text = value
