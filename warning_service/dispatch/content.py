"""What a batch carries: each target's address and the texts for its languages.

Texts are rendered from templates_bo_zh/ once per (alert, channel, language
order) and cached for the process, never per recipient: a million recipients
share four variants.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..channels.base import AlertContent, OutboundMessage
from ..models import Alert, BeidouTerminal, BroadcastEndpoint, Channel, Recipient
from ..rendering.budgets import Budget
from ..rendering.check import sample_views
from ..rendering.render import AlertView, budget_for, messages_for_recipient, render_fitted
from ..rendering.views import view_of
from .sql import ids_in

# Endpoints and cards serve everyone in a place: both languages, Tibetan first.
PLACE_LANGUAGES = ("bo", "zh")


@dataclass(frozen=True)
class Address:
    address: str
    languages: tuple[str, ...]
    secret: str | None = None
    county_code: str | None = None


def addresses(session: Session, channel: Channel, target_ids: Sequence[int]) -> dict[int, Address]:
    """target id -> where and in which languages, for the targets that still exist."""
    if channel == Channel.SMS:
        rows = session.execute(select(Recipient.id, Recipient.phone, Recipient.languages).where(ids_in(session, Recipient.id, target_ids)))
        return {rid: Address(phone, tuple(languages.split(","))) for rid, phone, languages in rows}
    if channel == Channel.BROADCAST:
        rows = session.execute(select(BroadcastEndpoint.id, BroadcastEndpoint.url, BroadcastEndpoint.secret,
                                      BroadcastEndpoint.county_code)
                               .where(ids_in(session, BroadcastEndpoint.id, target_ids)))
        return {tid: Address(url, PLACE_LANGUAGES, secret, county) for tid, url, secret, county in rows}
    rows = session.execute(select(BeidouTerminal.id, BeidouTerminal.card_address)
                           .where(ids_in(session, BeidouTerminal.id, target_ids)))
    return {tid: Address(card, PLACE_LANGUAGES) for tid, card in rows}


@dataclass
class ChannelTexts:
    """An alert's texts on one channel, rendered from the templates once and shared by every target."""

    content: AlertContent
    view: AlertView
    channel: Channel
    budget: Budget
    by_languages: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    def for_languages(self, languages: tuple[str, ...]) -> tuple[str, ...]:
        if languages not in self.by_languages:
            messages = messages_for_recipient(self.view, self.channel.value, languages, self.budget)
            self.by_languages[languages] = tuple(message.text for message in messages)
        return self.by_languages[languages]


_CACHE: dict[tuple, ChannelTexts] = {}
_CACHE_SIZE = 64


def channel_texts(alert: Alert, channel: Channel, settings: Mapping[str, object]) -> ChannelTexts:
    """Cached on (alert id, state change time, channel): an alert's texts change only with its state."""
    key = (alert.id, alert.state_changed_at, channel)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = _build(alert, channel, settings)
    return _CACHE[key]


def _build(alert: Alert, channel: Channel, settings: Mapping[str, object]) -> ChannelTexts:
    view = view_of(alert)
    budget = budget_for(channel.value, settings)
    content = AlertContent(
        alert_id=alert.id, identifier=alert.identifier, sender=alert.sender, status=alert.status.value,
        msg_type=alert.msg_type.value, hazard_code=alert.hazard_code, level=alert.level.value if alert.level else None,
        event=alert.event, onset=alert.onset, expires=alert.expires, sent=alert.sent,
        county_codes=tuple(alert.county_codes), township_codes=tuple(alert.area.get("townships", ())),
        references=tuple(alert.references),
        titles={lang: render_fitted(view, "headline", lang).text for lang in PLACE_LANGUAGES},
        bodies={lang: render_fitted(view, channel.value, lang, budget).text for lang in PLACE_LANGUAGES},
    )
    return ChannelTexts(content, view, channel, budget)


def warm_up(settings: Mapping[str, object]) -> None:
    """Load the templates and the locale data and render every channel once, at worker start.

    Cold, that costs about 0.3 s, which the first warning after a restart would otherwise wait.
    """
    view = next(sample_views())
    for channel in Channel:
        budget = budget_for(channel.value, settings)
        for language in PLACE_LANGUAGES:
            render_fitted(view, channel.value, language, budget)
            render_fitted(view, "headline", language)


def outbound(texts: ChannelTexts, delivery_id: int, target: Address, attempt: int) -> OutboundMessage:
    return OutboundMessage(delivery_id=delivery_id, address=target.address, texts=texts.for_languages(target.languages),
                           content=texts.content, attempt=attempt, secret=target.secret, county_code=target.county_code)
