"""The public Atom 1.0 feed (RFC 4287) of the warnings in force, each entry linking to its CAP message.

Only real warnings the public may see: Actual alerts being or having been
published. Exercises, tests and alerts waiting for review never appear, and
their CAP messages are not public either (`is_public`).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Alert, AlertState, CapStatus, utcnow, without_bulky_columns
from ..rendering.cap_fields import CAP_MIMETYPE, cap_time
from ..rendering.render import render_fitted
from ..rendering.views import view_of

ATOM = "http://www.w3.org/2005/Atom"
ATOM_MIMETYPE = "application/atom+xml"
FEED_SIZE = 50
PUBLIC_STATES = (AlertState.PUBLISHING, AlertState.PUBLISHED)
FEED_TITLE = "甘孜州、阿坝州预警信息 Garzê–Ngawa early warnings"
FEED_AUTHOR = "Garzê–Ngawa early-warning broadcast service"
# Entry ids are name-based UUIDs of "sender,identifier", CAP's key of a message: stable across
# hosts and restarts. The namespace is fixed once for this service.
ENTRY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ews:garze-ngawa:cap")


def is_public(alert: Alert) -> bool:
    return alert.status == CapStatus.ACTUAL and alert.state in PUBLIC_STATES


def public_alerts(session: Session, limit: int = FEED_SIZE) -> Sequence[Alert]:
    """The newest public alerts (by CAP sent time), newest first."""
    query = (
        select(Alert)
        .options(*without_bulky_columns())
        .where(Alert.status == CapStatus.ACTUAL, Alert.state.in_(PUBLIC_STATES))
        .order_by(Alert.sent.desc(), Alert.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def entry_id(alert: Alert) -> str:
    return f"urn:uuid:{uuid.uuid5(ENTRY_NAMESPACE, f'{alert.sender},{alert.identifier}')}"


def atom_feed(alerts: Sequence[Alert], self_url: str, cap_url: Callable[[Alert], str],
              now: datetime | None = None) -> bytes:
    """The feed document, UTF-8; `cap_url` gives each alert's public CAP address."""
    feed = etree.Element(_tag("feed"), nsmap={None: ATOM})
    _text(feed, "id", f"urn:uuid:{ENTRY_NAMESPACE}")
    _text(feed, "title", FEED_TITLE)
    _text(feed, "updated", cap_time(max((alert.sent for alert in alerts), default=now or utcnow())))
    _text(etree.SubElement(feed, _tag("author")), "name", FEED_AUTHOR)
    etree.SubElement(feed, _tag("link"), rel="self", type=ATOM_MIMETYPE, href=self_url)
    for alert in alerts:
        view = view_of(alert)
        entry = etree.SubElement(feed, _tag("entry"))
        entry.set("{http://www.w3.org/XML/1998/namespace}lang", "zh-CN")
        _text(entry, "id", entry_id(alert))
        _text(entry, "title", render_fitted(view, "headline", "zh").text)
        _text(entry, "updated", cap_time(alert.sent))
        _text(entry, "summary", render_fitted(view, "description", "zh").text)
        etree.SubElement(entry, _tag("link"), rel="alternate", type=CAP_MIMETYPE, href=cap_url(alert))
    return etree.tostring(feed, xml_declaration=True, encoding="UTF-8")


def _tag(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def _text(parent: etree._Element, name: str, value: str) -> None:
    etree.SubElement(parent, _tag(name)).text = value
