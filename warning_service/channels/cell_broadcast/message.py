"""The CAP 1.2 message each operator's Cell Broadcast Centre gets for one version of an alert (the
Alert, each Update, the Cancel): docs/CHANNELS.md, "Cell broadcast".

A `Version` is what every operator gets alike: the handset texts (the `cell_broadcast` templates,
fitted to 615 UTF-16 units), the CAP fields, the warned area. `cap_message` adds what is the
operator's own: its identifier, msgType and references (what *it* was sent before, which the dispatch
looks up), its CBS message identifiers and the polygons covered to its vertex limit.

The message is the same bytes for the same (version, operator, references), so a resend after a lost
answer is a repeat the CBC recognises, never a second message under one identifier: `<sent>` is the
alert version's own time, not the time of sending.

The covering polygons are kept per area and vertex limit (`covered`), not per alert: every earthquake
early warning for a county is the same area, and covering it is the dearest step of building the
message on the way to the CBCs (docs/BENCHMARKS.md, issue 16).

Pure: no Flask, no database (an Alert row's attributes and the named areas it names are read as given).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import shapely
from lxml import etree
from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry

from ...cap.message import AreaBlock, Circle
from ...geography.areas import circle_ring, resolve_areas
from ...hazards import catalogue
from ...models import Alert, CbcOperator, NamedArea
from ...reference_data import boundaries
from ...rendering.budgets import CellBroadcastBudget
from ...rendering.cap_fields import CAP12, add_pair, add_text, cap_tag, cap_time, certainty, severity, urgency
from ...rendering.formatting import join_list, place_name
from ...rendering.overlay import area_key, current_overlay, rendering_with
from ...rendering.render import RenderError, render_fitted
from ...rendering.views import view_of
from ..base import AlertContent
from .cover import cap_polygon, cover
from .identifiers import EEW, UNLEVELLED, mapping_key, message_identifier

# The first language, then the additional one (identifiers.py): the order of the <info> blocks.
INFO_LANGUAGES: tuple[tuple[str, str], ...] = (("zh", "zh-CN"), ("bo", "bo-CN"))
GEOCODE = "GB/T 2260"
# How often the cells repeat a message, by the identifier mapping's key for its level (a setting each).
REPETITION_SETTINGS: Mapping[str, str] = {
    EEW: "CBS_REPETITION_SECONDS_EEW", "red": "CBS_REPETITION_SECONDS_RED",
    "orange": "CBS_REPETITION_SECONDS_ORANGE", "yellow": "CBS_REPETITION_SECONDS_YELLOW",
    "blue": "CBS_REPETITION_SECONDS_BLUE", UNLEVELLED: "CBS_REPETITION_SECONDS_UNLEVELLED",
}
# Covers kept, by the area's shapes and the vertex limit: a worker meets few distinct areas.
_COVERS: dict[tuple[tuple[bytes, ...], int], tuple[Polygon, ...]] = {}
_COVERS_SIZE = 64


class NothingToCancel(ValueError):
    """A Cancel for an operator that accepted none of the messages it cancels: there is nothing to send."""


@dataclass(frozen=True)
class InfoText:
    """One language's <info> texts: the handset text (description) and what names the alert and place."""

    language: str  # "zh" or "bo"
    headline: str
    description: str
    event: str
    area_desc: str


@dataclass(frozen=True)
class Version:
    """One version of an alert, as every operator's CBC gets it."""

    alert_id: int
    sender: str  # the service's own CAP sender: the CBC takes the message from us, not from the agency
    sent: datetime
    status: str
    msg_type: str  # the alert's own: Alert, Update or Cancel
    hazard_code: str
    level: str | None
    categories: tuple[str, ...]
    urgency: str
    severity: str
    certainty: str
    expires: datetime
    texts: tuple[InfoText, ...]  # in INFO_LANGUAGES' order
    shapes: tuple[BaseGeometry, ...]  # the warned area, x = lon, y = lat
    circles: tuple[tuple[float, float, float], ...] = ()  # (lat, lon, radius km): also sent as CAP <circle>
    geocodes: tuple[str, ...] = ()

    def polygons(self, max_vertices: int) -> list[Polygon]:
        """The warned area covered (never clipped) with at most `max_vertices` vertices."""
        return covered(self.shapes, max_vertices)


def covered(shapes: Sequence[BaseGeometry], max_vertices: int) -> list[Polygon]:
    """`cover(shapes, max_vertices)`, computed once per area and limit: keyed by the shapes' exact
    coordinates (WKB), so only the very same area shares a cover."""
    key = (tuple(shapely.to_wkb(shape) for shape in shapes), max_vertices)
    if key not in _COVERS:
        if len(_COVERS) >= _COVERS_SIZE:
            _COVERS.clear()
        _COVERS[key] = tuple(cover(shapes, max_vertices))
    return list(_COVERS[key])


def identifier(alert_id: int, operator_code: str) -> str:
    """Unique per (alert version, operator): each Update and Cancel is an alert of its own, with its own id."""
    return f"EWS-{alert_id}-{operator_code}"


def reference(sender: str, alert_id: int, operator_code: str, sent: datetime) -> str:
    """An earlier message to the operator as CAP's <references> names it: sender,identifier,sent."""
    return f"{sender},{identifier(alert_id, operator_code)},{cap_time(sent)}"


def repetition_seconds(level: str | None, hazard_code: str, settings: Mapping[str, Any]) -> int:
    """The level's repetition period; an exercise repeats as the warning it plays."""
    return int(settings[REPETITION_SETTINGS[mapping_key(level, hazard_code, "Actual")]])


def version_of(alert: Alert, named_areas: Sequence[NamedArea], sender: str,
               rendered: AlertContent | None = None) -> Version:
    """The Version of a stored alert; `named_areas`: those its area names (their names go in <areaDesc>).
    `rendered`: the channel's texts the dispatch already rendered for this alert (titles: the headline,
    bodies: the `cell_broadcast` template fitted to its budget), so they are not rendered twice."""
    hazard = catalogue().get(alert.hazard_code or "")
    if hazard is None:  # the templates could not render it either
        raise RenderError(f"alert {alert.id}: no hazard the catalogue knows ({alert.hazard_code!r})")
    view = view_of(alert)
    level = alert.level.value if alert.level else None
    expires = alert.expires or alert.sent + timedelta(hours=hazard.validity_hours)

    def headline(language: str) -> str:
        if rendered is not None and language in rendered.titles:
            return rendered.titles[language]
        return render_fitted(view, "headline", language).text

    def description(language: str) -> str:
        if rendered is not None and language in rendered.bodies:
            return rendered.bodies[language]
        return render_fitted(view, "cell_broadcast", language, CellBroadcastBudget()).text

    texts = tuple(InfoText(
        language=language,
        headline=headline(language),
        description=description(language),
        event=hazard.names[language] or hazard.names["zh"],  # Chinese while the Tibetan name awaits review
        area_desc=area_description(alert.county_codes, named_areas, language),
    ) for language, _ in INFO_LANGUAGES)
    area = alert.area or {}
    circles = tuple((c["lat"], c["lon"], c["radius_km"]) for c in area.get("circles", ()) if c["radius_km"] > 0)
    return Version(
        alert_id=alert.id, sender=sender, sent=alert.sent, status=alert.status.value, msg_type=alert.msg_type.value,
        hazard_code=hazard.code, level=level, categories=tuple(alert.categories or [hazard.cap_category]),
        urgency=urgency(alert.urgency), severity=severity(alert.severity, level), certainty=certainty(alert.certainty),
        expires=expires, texts=texts, shapes=warned_area(area, alert.county_codes), circles=circles,
        geocodes=(*alert.county_codes, *area.get("townships", ())),
    )


def area_description(county_codes: Sequence[str], named_areas: Sequence[NamedArea], language: str) -> str:
    """The place names in the language: the named areas (their Chinese name while neither a registered nor a
    desk-approved Tibetan one exists), then the counties (the desk's approved names laid over the files')."""
    overlay = current_overlay()
    names = [(area.name_bo or overlay.get(area_key(area.code)) or area.name_zh) if language == "bo" else area.name_zh
             for area in named_areas]
    with rendering_with(overlay):
        return join_list([*names, *(place_name(code, language) for code in county_codes)], language)


def warned_area(area: Mapping, county_codes: Sequence[str]) -> tuple[BaseGeometry, ...]:
    """The alert's own polygons and circles, and the boundaries of the counties it names by code (a
    township's county: no township boundaries ship, and a larger area never warns fewer people) or by a
    point; only the target counties' boundaries when it names nothing else."""
    polygons = [Polygon([(lon, lat) for lat, lon in points]) for points in area.get("polygons", ())]
    circles = [Circle(c["lat"], c["lon"], c["radius_km"]) for c in area.get("circles", ())]
    drawn = [shapely.polygons(circle_ring(circle)) for circle in circles if circle.radius_km > 0]
    named = AreaBlock(circles=[circle for circle in circles if circle.radius_km == 0],
                      geocodes=[tuple(code) for code in area.get("geocodes", ())])
    counties = resolve_areas([named]).county_codes if named.circles or named.geocodes else []
    if not (polygons or drawn or counties):
        counties = list(county_codes)
    county_shapes = boundaries("counties.geojson")
    return (*polygons, *drawn, *(shape(county_shapes[code]) for code in counties))


def cap_message(version: Version, operator: CbcOperator, references: Sequence[str],
                settings: Mapping[str, Any]) -> bytes:
    """The CAP 1.2 <alert> for one operator. `references`: what this operator accepted before of this
    alert (`reference`), none for a first message. An Update to an operator that got nothing before is
    an Alert to it; a Cancel for one raises NothingToCancel."""
    msg_type = version.msg_type
    if not references and msg_type != "Alert":
        if msg_type == "Cancel":
            raise NothingToCancel(f"{operator.code} accepted none of the messages alert {version.alert_id} cancels")
        msg_type = "Alert"
    root = etree.Element(cap_tag("alert"), nsmap={None: CAP12})
    for name, value in (("identifier", identifier(version.alert_id, operator.code)), ("sender", version.sender),
                        ("sent", cap_time(version.sent)), ("status", version.status), ("msgType", msg_type),
                        ("scope", "Public"), ("references", " ".join(references))):
        add_text(root, name, value)
    polygons = [cap_polygon(polygon) for polygon in version.polygons(operator.max_vertices)]
    repetition = str(repetition_seconds(version.level, version.hazard_code, settings))
    for text, (_, tag) in zip(version.texts, INFO_LANGUAGES):
        info = etree.SubElement(root, cap_tag("info"))
        add_text(info, "language", tag)
        for category in version.categories:
            add_text(info, "category", category)
        for name, value in (("event", text.event), ("urgency", version.urgency), ("severity", version.severity),
                            ("certainty", version.certainty), ("expires", cap_time(version.expires)),
                            ("headline", text.headline), ("description", text.description)):
            add_text(info, name, value)
        number = message_identifier(version.level, version.hazard_code, version.status, tag, operator.identifiers)
        add_pair(info, "parameter", "CBS_MESSAGE_IDENTIFIER", str(number))
        add_pair(info, "parameter", "CBS_REPETITION_SECONDS", repetition)
        area = etree.SubElement(info, cap_tag("area"))
        add_text(area, "areaDesc", text.area_desc)
        for polygon in polygons:
            add_text(area, "polygon", polygon)
        for lat, lon, radius_km in version.circles:
            add_text(area, "circle", f"{lat:.5f},{lon:.5f} {radius_km:g}")
        for code in version.geocodes:
            add_pair(area, "geocode", GEOCODE, code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def link_test_message(operator_code: str, front: str, sender: str, now: datetime) -> bytes:
    """The link test (docs/CHANNELS.md): <status>Test</status>, a fresh identifier, no <info>; never broadcast."""
    root = etree.Element(cap_tag("alert"), nsmap={None: CAP12})
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    for name, value in (("identifier", f"EWS-TEST-{operator_code}-{front}-{stamp}"), ("sender", sender),
                        ("sent", cap_time(now)), ("status", "Test"), ("msgType", "Alert"), ("scope", "Public")):
        add_text(root, name, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
