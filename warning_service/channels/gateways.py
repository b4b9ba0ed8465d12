"""Choosing a channel's gateway: the setting its spec names (SMS_GATEWAY, ...) picks one of the channel's
own adapters, or one that carries any channel (null, log).

Adapters are named by import path and loaded on first use, so a deployment that sends no SMS never
imports the Twilio library.
"""
from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

from .base import ChannelAdapter
from .catalog import channel

# Gateways for any channel; tests add their own here.
ADAPTERS: dict[str, str | type[ChannelAdapter]] = {
    "null": "warning_service.channels.null:NullAdapter",
    "log": "warning_service.channels.log:LogAdapter",
}


class UnknownGateway(LookupError):
    pass


def _load(entry: str | type[ChannelAdapter]) -> type[ChannelAdapter]:
    if not isinstance(entry, str):
        return entry
    module, _, attribute = entry.partition(":")
    return getattr(import_module(module), attribute)


def adapter_class(name: str, settings: Mapping[str, Any]) -> type[ChannelAdapter]:
    """The adapter the channel's gateway setting names; UnknownChannel, UnknownGateway otherwise."""
    spec = channel(name)
    setting = spec.gateway_setting
    gateway = str(settings.get(setting) or "log")
    known = {**ADAPTERS, **spec.adapters}
    if gateway not in known:
        raise UnknownGateway(f"{setting}={gateway!r} is not a gateway; choose one of {', '.join(sorted(known))}")
    adapter = _load(known[gateway])
    if not adapter.carries(name):
        usable = sorted(each for each, entry in known.items() if _load(entry).carries(name))
        raise UnknownGateway(f"{setting}={gateway!r} cannot carry {name}; choose one of {', '.join(usable)}")
    return adapter


def build_adapter(name: str, settings: Mapping[str, Any]) -> ChannelAdapter:
    return adapter_class(name, settings)(settings)
