"""Where adapters are registered and chosen: SMS_GATEWAY, BROADCAST_GATEWAY, BEIDOU_GATEWAY.

Adapters are named by import path and loaded on first use, so a deployment that
sends no SMS never imports the Twilio library.
"""
from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module

from .base import ChannelAdapter

ADAPTERS: dict[str, str | type[ChannelAdapter]] = {
    "null": "warning_service.channels.null:NullAdapter",
    "log": "warning_service.channels.log:LogAdapter",
    "twilio": "warning_service.channels.twilio_sms:TwilioSmsAdapter",
    "smpp": "warning_service.channels.sms.smpp:SmppAdapter",
    "http": "warning_service.channels.broadcast:BroadcastAdapter",
    "serial": "warning_service.channels.beidou:BeidouAdapter",
}
SETTING_FOR_CHANNEL = {"sms": "SMS_GATEWAY", "broadcast": "BROADCAST_GATEWAY", "beidou": "BEIDOU_GATEWAY"}


class UnknownGateway(LookupError):
    pass


def _load(name: str) -> type[ChannelAdapter]:
    entry = ADAPTERS[name]
    if isinstance(entry, str):
        module, _, attribute = entry.partition(":")
        entry = getattr(import_module(module), attribute)
    return entry


def adapter_class(channel: str, settings: Mapping[str, object]) -> type[ChannelAdapter]:
    setting = SETTING_FOR_CHANNEL[channel]
    name = str(settings.get(setting) or "log")
    if name not in ADAPTERS:
        raise UnknownGateway(f"{setting}={name!r} is not a gateway; choose one of {', '.join(sorted(ADAPTERS))}")
    adapter = _load(name)
    if channel not in adapter.channels:
        usable = sorted(n for n in ADAPTERS if channel in _load(n).channels)
        raise UnknownGateway(f"{setting}={name!r} cannot carry {channel}; choose one of {', '.join(usable)}")
    return adapter


def build_adapter(channel: str, settings: Mapping[str, object]) -> ChannelAdapter:
    return adapter_class(channel, settings)(settings)
