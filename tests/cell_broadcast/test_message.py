"""The CAP 1.2 message each operator's CBC gets (channels/cell_broadcast/message.py), checked against
docs/CHANNELS.md's contract, the OASIS schema and the local CBC peer."""
from __future__ import annotations

import unicodedata
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from lxml import etree
from shapely.geometry import shape

from peers.cbc_peer import CbcPeer
from tests.support.text import TIBETAN
from warning_service.channels.catalog import channel, settings_schema
from warning_service.channels.cell_broadcast import message
from warning_service.channels.cell_broadcast.cover import vertex_count
from warning_service.channels.cell_broadcast.message import (
    NothingToCancel,
    cap_message,
    identifier,
    link_test_message,
    reference,
    version_of,
)
from warning_service.config import Settings
from warning_service.dispatch.content import channel_texts
from warning_service.models import Alert, CapStatus, CbcOperator, County, Level, MsgType, NamedArea
from warning_service.reference_data import boundaries
from warning_service.rendering.budgets import CellBroadcastBudget, utf16_units
from warning_service.rendering.cap_fields import CAP12, cap_time
from warning_service.rendering.check import sample_views
from warning_service.rendering.fit import CUT_MARK
from warning_service.rendering.render import render, render_fitted
from warning_service.rendering.tibetan import break_opportunities
from warning_service.rendering.views import view_of

NS = {"cap": CAP12}
SENDER = "ews@garze-ngawa.example"
SETTINGS = Settings(CHANNEL_SETTINGS=settings_schema()).as_flask_config()
SCHEMA = etree.XMLSchema(etree.parse("warning_service/data/cap/CAP-v1.2.xsd"))
KANGDING, LUDING = "513301", "513322"


def alert(alert_id: int = 42, status: CapStatus = CapStatus.ACTUAL, msg_type: MsgType = MsgType.ALERT,
          hazard: str = "rainstorm", level: Level | None = Level.RED, counties=(KANGDING, LUDING), area=None,
          **fields) -> Alert:
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    fields = {"headline": {}, "description": {}, "instruction": {}, "parameters": {}, **fields}
    row = Alert(id=alert_id, identifier=f"W-{alert_id}", sender="weather.demo@ews.example", sent=sent, status=status,
                msg_type=msg_type, hazard_code=hazard, level=level, expires=sent + timedelta(hours=6),
                area=area if area is not None else {"geocodes": [["GB/T 2260", code] for code in counties]},
                categories=[], response_types=[], references=[], **fields)
    row.counties = [County(code=code) for code in counties]
    return row


def operator(code: str = "cmcc", max_vertices: int = 100, identifiers: dict | None = None) -> CbcOperator:
    return CbcOperator(code=code, name=code, max_vertices=max_vertices, identifiers=identifiers or {})


def parse(document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    assert SCHEMA.validate(root), SCHEMA.error_log
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    return [element.text for element in root.findall(path, NS)]


def parameters(info: etree._Element) -> dict[str, str]:
    return {p.findtext("cap:valueName", namespaces=NS): p.findtext("cap:value", namespaces=NS)
            for p in info.findall("cap:parameter", NS)}


def test_the_message_keeps_the_contract():
    row = alert()
    version = version_of(row, [], SENDER)
    root = parse(cap_message(version, operator(max_vertices=40), [], SETTINGS))
    assert [root.findtext(f"cap:{name}", namespaces=NS) for name in
            ("identifier", "sender", "sent", "status", "msgType", "scope", "references")] \
        == ["EWS-42-cmcc", SENDER, cap_time(row.sent), "Actual", "Alert", "Public", None]
    infos = root.findall("cap:info", NS)
    assert [info.findtext("cap:language", namespaces=NS) for info in infos] == ["zh-CN", "bo-CN"]
    for info, language, number in zip(infos, ("zh", "bo"), ("4370", "4383")):
        assert texts(info, "cap:category") == ["Met"] and info.findtext("cap:event", namespaces=NS)
        assert info.findtext("cap:severity", namespaces=NS) == "Extreme"
        assert info.findtext("cap:expires", namespaces=NS) == cap_time(row.expires)
        description = info.findtext("cap:description", namespaces=NS)
        assert description == render_fitted(view_of(row), "cell_broadcast", language, CellBroadcastBudget()).text
        assert utf16_units(description) <= 615 and unicodedata.is_normalized("NFC", description)
        assert parameters(info) == {"CBS_MESSAGE_IDENTIFIER": number, "CBS_REPETITION_SECONDS": "60"}
        [area] = info.findall("cap:area", NS)
        assert area.findtext("cap:areaDesc", namespaces=NS) == {"zh": "康定市、泸定县",
                                                                "bo": version.texts[1].area_desc}[language]
        assert texts(area, "cap:geocode/cap:value") == [KANGDING, LUDING]
        assert set(texts(area, "cap:geocode/cap:valueName")) == {"GB/T 2260"}
    polygons = [[tuple(map(float, pair.split(","))) for pair in text.split()] for text in texts(infos[0], ".//cap:polygon")]
    assert texts(infos[0], ".//cap:polygon") == texts(infos[1], ".//cap:polygon")
    assert sum(map(len, polygons)) <= 40  # closing points counted
    sent = shapely.union_all([shapely.Polygon([(lon, lat) for lat, lon in points]) for points in polygons])
    counties = shapely.union_all([shape(boundaries("counties.geojson")[code]) for code in (KANGDING, LUDING)])
    assert sent.covers(counties)  # covered, never clipped


@pytest.mark.parametrize(("status", "hazard", "level", "numbers", "setting"), [
    (CapStatus.ACTUAL, "earthquake_early_warning", None, ("4352", "4352"), "CBS_REPETITION_SECONDS_EEW"),
    (CapStatus.EXERCISE, "earthquake_early_warning", None, ("4381", "4394"), "CBS_REPETITION_SECONDS_EEW"),
    (CapStatus.ACTUAL, "rainstorm", Level.BLUE, ("4396", "4397"), "CBS_REPETITION_SECONDS_BLUE"),
    (CapStatus.ACTUAL, "earthquake", None, ("4396", "4397"), "CBS_REPETITION_SECONDS_UNLEVELLED"),
    (CapStatus.EXERCISE, "rainstorm", Level.ORANGE, ("4381", "4394"), "CBS_REPETITION_SECONDS_ORANGE"),
])
def test_message_identifiers_by_status_hazard_and_level_and_repetition_by_level(status, hazard, level, numbers,
                                                                               setting):
    settings = {**SETTINGS, setting: 17}
    root = parse(cap_message(version_of(alert(status=status, hazard=hazard, level=level), [], SENDER), operator(),
                             [], settings))
    found = [parameters(info) for info in root.findall("cap:info", NS)]
    assert tuple(p["CBS_MESSAGE_IDENTIFIER"] for p in found) == numbers
    assert {p["CBS_REPETITION_SECONDS"] for p in found} == {"17"}


def test_an_operator_overrides_its_identifiers():
    version = version_of(alert(level=Level.ORANGE), [], SENDER)
    root = parse(cap_message(version, operator(identifiers={"orange": [4370, 4383]}), [], SETTINGS))
    assert [parameters(info)["CBS_MESSAGE_IDENTIFIER"] for info in root.findall("cap:info", NS)] == ["4370", "4383"]


def test_each_operator_gets_its_own_identifier_and_vertex_limit_and_the_same_bytes_again():
    version = version_of(alert(), [], SENDER)
    small, large = operator("cucc", max_vertices=12), operator("cmcc", max_vertices=300)
    first = cap_message(version, small, [], SETTINGS)
    assert cap_message(version, small, [], SETTINGS) == first  # a resend is a repeat, never a new message
    for document, limit, code in ((first, 12, "cucc"), (cap_message(version, large, [], SETTINGS), 300, "cmcc")):
        root = parse(document)
        assert root.findtext("cap:identifier", namespaces=NS) == identifier(42, code) == f"EWS-42-{code}"
        assert vertex_count(version.polygons(limit)) <= limit
        assert sum(len(text.split()) for text in texts(root, "cap:info[1]//cap:polygon")) <= limit


def test_an_area_is_covered_once_per_vertex_limit_whatever_the_alert(monkeypatch):
    """Every earthquake early warning for a county is the same area: covering it again would only delay
    the next warning on its way to the CBCs."""
    covers = []

    def counting(shapes, max_vertices):
        covers.append(max_vertices)
        return real_cover(shapes, max_vertices)

    real_cover = message.cover
    monkeypatch.setattr(message, "_COVERS", {})
    monkeypatch.setattr(message, "cover", counting)
    luding = [version_of(alert(alert_id, hazard="earthquake_early_warning", level=None, counties=(LUDING,)), [], SENDER)
              for alert_id in (50, 51)]
    documents = [cap_message(version, operator(), [], SETTINGS) for version in luding]
    assert covers == [100]
    assert texts(parse(documents[0]), "cap:info[1]//cap:polygon") == texts(parse(documents[1]), "cap:info[1]//cap:polygon")
    cap_message(luding[1], operator("cucc", max_vertices=12), [], SETTINGS)
    cap_message(version_of(alert(52, counties=(KANGDING,)), [], SENDER), operator(), [], SETTINGS)
    assert covers == [100, 12, 100]
    assert vertex_count(luding[0].polygons(12)) <= 12 and luding[0].polygons(100) == luding[1].polygons(100)


def test_the_cap_carries_the_texts_the_dispatch_rendered():
    """The dispatch hands its rendering over rather than rendering twice: the texts must be the same."""
    row = alert(77, instruction={"bo": TIBETAN, "zh": "立即转移到安全地带。"})
    rendered = channel_texts(row, channel("cell_broadcast"), SETTINGS).content
    assert version_of(row, [], SENDER, rendered).texts == version_of(row, [], SENDER).texts
    assert [text.description for text in version_of(row, [], SENDER).texts] == [rendered.bodies["zh"], rendered.bodies["bo"]]


def test_update_and_cancel_name_what_this_operator_got():
    earlier = alert(41)
    got = [reference(SENDER, 41, "cmcc", earlier.sent)]
    assert got == [f"{SENDER},EWS-41-cmcc,{cap_time(earlier.sent)}"]
    update = version_of(alert(43, msg_type=MsgType.UPDATE), [], SENDER)
    root = parse(cap_message(update, operator(), got, SETTINGS))
    assert (root.findtext("cap:msgType", namespaces=NS), root.findtext("cap:references", namespaces=NS)) \
        == ("Update", got[0])
    fresh = parse(cap_message(update, operator("cucc"), [], SETTINGS))  # it never got the original
    assert (fresh.findtext("cap:msgType", namespaces=NS), fresh.find("cap:references", NS)) == ("Alert", None)
    cancel = version_of(alert(44, msg_type=MsgType.CANCEL), [], SENDER)
    both = [*got, reference(SENDER, 43, "cmcc", earlier.sent + timedelta(seconds=5))]
    root = parse(cap_message(cancel, operator(), both, SETTINGS))
    assert root.findtext("cap:msgType", namespaces=NS) == "Cancel"
    assert root.findtext("cap:references", namespaces=NS) == " ".join(both)
    with pytest.raises(NothingToCancel):
        cap_message(cancel, operator("ctcc"), [], SETTINGS)


def test_polygons_circles_and_named_areas():
    hailuogou = NamedArea(code="hailuogou", name_zh="海螺沟", name_en="Hailuogou", name_bo=None)
    area = {"polygons": [[(29.6, 102.0), (29.6, 102.1), (29.7, 102.1), (29.6, 102.0)]],
            "circles": [{"lat": 29.62, "lon": 102.03, "radius_km": 5.0}, {"lat": 30.0, "lon": 101.9, "radius_km": 0}],
            "geocodes": [["NAMED_AREA", "hailuogou"], ["GB/T 2260", LUDING]], "townships": ["513322100000"]}
    version = version_of(alert(counties=(KANGDING, LUDING), area=area), [hailuogou], SENDER)
    assert [text.area_desc for text in version.texts][0] == "海螺沟、康定市、泸定县"
    assert version.texts[1].area_desc.startswith("海螺沟")  # no sourced Tibetan name: the Chinese stands in
    root = parse(cap_message(version, operator(max_vertices=60), [], SETTINGS))
    zh = root.find("cap:info", NS)
    assert texts(zh, "cap:area/cap:circle") == ["29.62000,102.03000 5"]  # the point is no circle to broadcast
    assert texts(zh, "cap:area/cap:geocode/cap:value") == [KANGDING, LUDING, "513322100000"]
    polygons = [shapely.Polygon([(float(p.split(",")[1]), float(p.split(",")[0])) for p in text.split()])
                for text in texts(zh, "cap:area/cap:polygon")]
    # Luding by its code, Kangding by the point in it (30.0 N 101.9 E), the polygon and the circle
    wanted = [shape(boundaries("counties.geojson")[code]) for code in (KANGDING, LUDING)]
    assert shapely.union_all(polygons).covers(shapely.union_all([*version.shapes, *wanted]))
    assert len(version.shapes) == 4


def test_tibetan_is_fitted_to_615_units_cut_only_at_a_syllable():
    long_instruction = {"bo": (TIBETAN + " ") * 60, "zh": "立即转移到安全地带。" * 100}
    row = alert(instruction=long_instruction)
    version = version_of(row, [], SENDER)
    for text in version.texts:
        full = render(view_of(row), "cell_broadcast", text.language).text
        mark = CUT_MARK[text.language]
        assert utf16_units(text.description) <= 615 and unicodedata.is_normalized("NFC", text.description)
        assert utf16_units(text.description) > 615 - 41  # the text fills the last page, nearly
        assert text.description.endswith(mark)
        body = text.description[:-len(mark)]
        end = len(body)
        while end < len(full) and full[end].isspace():
            end += 1
        assert full.startswith(body) and end in {b.index for b in break_opportunities(full)}
    bo = version.texts[1].description
    assert bo[-len(CUT_MARK["bo"]) - 1] in "\u0f0b\u0f0d "  # a tsheg, shad or space before the mark: never mid-stack


def test_every_sample_fits_and_the_peer_takes_it():
    """Every hazard, level, status and message type the templates render, as the CBC peer checks them."""
    with CbcPeer("cmcc", "t", "s", max_vertices=100) as real, CbcPeer("cmcc", "t", "s", exercise=True) as drill:
        for number, view in enumerate(v for v in sample_views() if v.msg_type == "Alert" and v.status != "Test"):
            row = alert(1000 + number, status=CapStatus(view.status), hazard=view.hazard_code,
                        level=Level(view.level) if view.level else None)
            document = cap_message(version_of(row, [], SENDER), operator(), [], SETTINGS)
            peer = drill if view.status == "Exercise" else real
            request = urllib.request.Request(peer.url(), data=document, method="POST", headers={
                "Content-Type": "application/cap+xml; charset=utf-8", "Authorization": "Bearer t"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert answer.status == 202, (view, peer.refusals())
        assert real.refusals() == [] == drill.refusals()


def test_the_link_test_is_a_bare_test_message():
    now = datetime.now(UTC)
    root = parse(link_test_message("cmcc", "failover", SENDER, now))
    assert (root.findtext("cap:status", namespaces=NS), root.findtext("cap:msgType", namespaces=NS),
            root.find("cap:info", NS)) == ("Test", "Alert", None)
    assert root.findtext("cap:identifier", namespaces=NS).startswith("EWS-TEST-cmcc-failover-")
    assert link_test_message("cmcc", "failover", SENDER, now + timedelta(microseconds=1)) != \
        link_test_message("cmcc", "failover", SENDER, now)
