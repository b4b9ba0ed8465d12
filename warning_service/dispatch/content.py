"""What a batch carries: each target's address and the texts for its languages.

Texts are built once per (alert, channel, language order) and cached for the
process, never per recipient: a million recipients share four variants.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..channels.base import AlertContent, OutboundMessage
from ..models import Alert, BeidouTerminal, BroadcastEndpoint, Channel, Recipient
from .sql import ids_in

# Endpoints and cards serve everyone in a place: both languages, Tibetan first.
PLACE_LANGUAGES = ("bo", "zh")


def addresses(session: Session, channel: Channel, target_ids: Sequence[int]) -> dict[int, tuple[str, tuple[str, ...]]]:
    """target id -> (address, language order) for the targets that still exist."""
    if channel == Channel.SMS:
        rows = session.execute(select(Recipient.id, Recipient.phone, Recipient.languages).where(ids_in(session, Recipient.id, target_ids)))
        return {rid: (phone, tuple(languages.split(","))) for rid, phone, languages in rows}
    model, column = (
        (BroadcastEndpoint, BroadcastEndpoint.url) if channel == Channel.BROADCAST
        else (BeidouTerminal, BeidouTerminal.card_address)
    )
    rows = session.execute(select(model.id, column).where(ids_in(session, model.id, target_ids)))
    return {tid: (address, PLACE_LANGUAGES) for tid, address in rows}


_CACHE: dict[tuple, AlertContent] = {}
_CACHE_SIZE = 64


def alert_content(alert: Alert, channel: Channel) -> AlertContent:
    """Cached on (alert id, state change time, channel): an alert's texts change only with its state."""
    key = (alert.id, alert.state_changed_at, channel)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = _build_content(alert, channel)
    return _CACHE[key]


def _build_content(alert: Alert, channel: Channel) -> AlertContent:
    names = {lang: alert.headline.get(lang) or alert.event or alert.hazard_code or "" for lang in PLACE_LANGUAGES}
    bodies = {lang: " ".join(filter(None, (alert.headline.get(lang), alert.description.get(lang), alert.instruction.get(lang))))
              or names[lang] for lang in PLACE_LANGUAGES}
    return AlertContent(
        alert_id=alert.id, identifier=alert.identifier, sender=alert.sender, status=alert.status.value,
        msg_type=alert.msg_type.value, hazard_code=alert.hazard_code, level=alert.level.value if alert.level else None,
        event=alert.event, onset=alert.onset, expires=alert.expires, sent=alert.sent,
        county_codes=tuple(alert.county_codes), titles=names, bodies=bodies,
    )


def texts_for(content: AlertContent, languages: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(content.bodies[lang] for lang in languages if content.bodies.get(lang))


def outbound(content: AlertContent, delivery_id: int, address: str, languages: tuple[str, ...], attempt: int) -> OutboundMessage:
    return OutboundMessage(delivery_id=delivery_id, address=address, texts=texts_for(content, languages),
                           content=content, attempt=attempt)
