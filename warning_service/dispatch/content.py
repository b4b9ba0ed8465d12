"""What a batch carries: the texts for each target's languages (its channel finds its address).

Texts are rendered from templates_bo_zh/ once per (alert, channel, language
order) and cached for the process, never per recipient: a million recipients
share four variants.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..channels.base import AlertContent, OutboundMessage
from ..channels.catalog import channels
from ..channels.spec import PLACE_LANGUAGES, Address, ChannelSpec
from ..models import Alert
from ..rendering.budgets import Budget
from ..rendering.check import sample_views
from ..rendering.render import AlertView, messages_for_recipient, render_fitted
from ..rendering.views import view_of


@dataclass
class ChannelTexts:
    """An alert's texts on one channel, rendered from the templates once and shared by every target."""

    content: AlertContent
    view: AlertView
    channel: ChannelSpec
    budget: Budget
    by_languages: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    def for_languages(self, languages: tuple[str, ...]) -> tuple[str, ...]:
        if languages not in self.by_languages:
            messages = messages_for_recipient(self.view, self.channel.template, languages, self.budget)
            self.by_languages[languages] = tuple(message.text for message in messages)
        return self.by_languages[languages]


_CACHE: dict[tuple, ChannelTexts] = {}
_CACHE_SIZE = 64


def channel_texts(alert: Alert, channel: ChannelSpec, settings: Mapping[str, object]) -> ChannelTexts:
    """Cached on (alert id, state change time, channel): an alert's texts change only with its state."""
    key = (alert.id, alert.state_changed_at, channel.name)
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = _build(alert, channel, settings)
    return _CACHE[key]


def _build(alert: Alert, channel: ChannelSpec, settings: Mapping[str, object]) -> ChannelTexts:
    view = view_of(alert)
    budget = channel.budget(settings)
    content = AlertContent(
        alert_id=alert.id, identifier=alert.identifier, sender=alert.sender, status=alert.status.value,
        msg_type=alert.msg_type.value, hazard_code=alert.hazard_code, level=alert.level.value if alert.level else None,
        event=alert.event, onset=alert.onset, expires=alert.expires, sent=alert.sent,
        county_codes=tuple(alert.county_codes), township_codes=tuple(alert.area.get("townships", ())),
        references=tuple(alert.references),
        titles={lang: render_fitted(view, "headline", lang).text for lang in PLACE_LANGUAGES},
        bodies={lang: render_fitted(view, channel.template, lang, budget).text for lang in PLACE_LANGUAGES},
    )
    return ChannelTexts(content, view, channel, budget)


def warm_up(settings: Mapping[str, object]) -> None:
    """Load the templates and the locale data and render every channel once, at worker start.

    Cold, that costs about 0.3 s, which the first warning after a restart would otherwise wait.
    """
    view = next(sample_views())
    for channel in channels():
        budget = channel.budget(settings)
        for language in PLACE_LANGUAGES:
            render_fitted(view, channel.template, language, budget)
            render_fitted(view, "headline", language)


def outbound(texts: ChannelTexts, delivery_id: int, target: Address, attempt: int) -> OutboundMessage:
    return OutboundMessage(delivery_id=delivery_id, address=target.address, texts=texts.for_languages(target.languages),
                           content=texts.content, attempt=attempt, secret=target.secret, county_code=target.county_code)
