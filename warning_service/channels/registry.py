"""Where adapters are registered and chosen: SMS_GATEWAY, BROADCAST_GATEWAY, BEIDOU_GATEWAY."""
from __future__ import annotations

from collections.abc import Mapping

from .base import ChannelAdapter
from .log import LogAdapter
from .null import NullAdapter

ADAPTERS: dict[str, type[ChannelAdapter]] = {adapter.name: adapter for adapter in (NullAdapter, LogAdapter)}
SETTING_FOR_CHANNEL = {"sms": "SMS_GATEWAY", "broadcast": "BROADCAST_GATEWAY", "beidou": "BEIDOU_GATEWAY"}


class UnknownGateway(LookupError):
    pass


def adapter_class(channel: str, settings: Mapping[str, object]) -> type[ChannelAdapter]:
    setting = SETTING_FOR_CHANNEL[channel]
    name = str(settings.get(setting) or "log")
    adapter = ADAPTERS.get(name)
    if adapter is None or channel not in adapter.channels:
        usable = sorted(n for n, a in ADAPTERS.items() if channel in a.channels)
        raise UnknownGateway(f"{setting}={name!r} is not a gateway for {channel}; choose one of {', '.join(usable)}")
    return adapter


def build_adapter(channel: str, settings: Mapping[str, object]) -> ChannelAdapter:
    return adapter_class(channel, settings)(settings)
