"""Builds CAP 1.2 messages (and their JSON form) for the tests, with times relative to now so they never go
stale."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from warning_service.intake.cap_json import parse_alert_json

CHINA = timezone(timedelta(hours=8))
SENDER = "sc-eq-bureau"  # the posting agency's CAP sender, for parse()


def cap_time(offset: timedelta = timedelta()) -> str:
    return (datetime.now(CHINA) + offset).replace(microsecond=0).isoformat()


def info_xml(
    *,
    language: str = "zh-CN",
    category: str = "Met",
    event: str = "暴雨橙色预警",
    severity: str = "Severe",
    headline: str = "",
    description: str = "",
    event_code: tuple[str, str] | None = None,
    parameters: tuple[tuple[str, str], ...] = (),
    area_desc: str = "康定市",
    geocodes: tuple[str, ...] = (),
    polygon: str | None = None,
    circle: str | None = None,
    expires_in: timedelta = timedelta(hours=6),
) -> str:
    parts = [
        f"<language>{language}</language>",
        f"<category>{category}</category>",
        f"<event>{escape(event)}</event>",
        "<urgency>Immediate</urgency>",
        f"<severity>{severity}</severity>",
        "<certainty>Observed</certainty>",
    ]
    if event_code:
        parts.append(f"<eventCode><valueName>{event_code[0]}</valueName><value>{event_code[1]}</value></eventCode>")
    parts += [
        f"<onset>{cap_time()}</onset>",
        f"<expires>{cap_time(expires_in)}</expires>",
        "<senderName>demo agency</senderName>",
    ]
    if headline:
        parts.append(f"<headline>{escape(headline)}</headline>")
    if description:
        parts.append(f"<description>{escape(description)}</description>")
    for name, value in parameters:
        parts.append(f"<parameter><valueName>{name}</valueName><value>{value}</value></parameter>")
    area = [f"<areaDesc>{escape(area_desc)}</areaDesc>"]
    if polygon:
        area.append(f"<polygon>{polygon}</polygon>")
    if circle:
        area.append(f"<circle>{circle}</circle>")
    area += [f"<geocode><valueName>GB/T 2260</valueName><value>{code}</value></geocode>" for code in geocodes]
    parts.append("<area>" + "".join(area) + "</area>")
    return "<info>" + "".join(parts) + "</info>"


def cap_xml(
    identifier: str,
    *infos: str,
    sender: str = "weather.demo@ews.example",
    status: str = "Actual",
    msg_type: str = "Alert",
    references: str = "",
    sent: str | None = None,
) -> bytes:
    refs = f"<references>{references}</references>" if references else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{identifier}</identifier><sender>{sender}</sender><sent>{sent or cap_time()}</sent>"
        f"<status>{status}</status><msgType>{msg_type}</msgType><scope>Public</scope>{refs}"
        + "".join(infos)
        + "</alert>"
    ).encode("utf-8")


REFERENCE = "weather.demo@ews.example,W-{}," + cap_time(-timedelta(hours=1))  # format with an identifier; sent an hour ago


def area_xml(*, geocodes: tuple[str, ...] = ("513301",), polygons: tuple[str, ...] = (), circles: tuple[str, ...] = (),
             description: str = "康定市") -> str:
    parts = [f"<areaDesc>{description}</areaDesc>"]
    parts += [f"<polygon>{polygon}</polygon>" for polygon in polygons]
    parts += [f"<circle>{circle}</circle>" for circle in circles]
    parts += [f"<geocode><valueName>GB/T 2260</valueName><value>{code}</value></geocode>" for code in geocodes]
    return "<area>" + "".join(parts) + "</area>"


def message_xml(*areas: str, references: int = 0, infos: int = 1) -> bytes:
    """A CAP 1.2 alert whose every <info> holds `areas` (languages repeat their areas, as DWD's do)."""
    head, _, _ = info_xml().partition("<area>")
    info = head + "".join(areas) + "</info>"
    refs = " ".join(REFERENCE.format(index) for index in range(references))
    return cap_xml("L-1", *[info] * infos, references=refs, msg_type="Update" if references else "Alert")


def minimal(**fields: Any) -> dict[str, Any]:
    """The smallest JSON alert the API accepts, with `fields` added or replaced."""
    return {"status": "Actual", "hazard": "earthquake", "area": {"counties": ["513301"]}, **fields}


def parse(body: Any) -> Any:
    """The JSON alert parsed as SENDER posted it."""
    return parse_alert_json(json.dumps(body, ensure_ascii=False).encode(), SENDER)
