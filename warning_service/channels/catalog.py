"""The channels this service carries, listed once: every other module asks here, by name or for all.

A channel is a package under channels/ whose __init__.py declares its `ChannelSpec` as CHANNEL
(channels/spec.py); adding one is a package and a line in CHANNELS (docs/ARCHITECTURE.md, "How to add
a channel"). A name that is not listed is an error (UnknownChannel), never a fallback to another channel.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..rendering.budgets import Budget
from ..rendering.render import CAP_TEXTS, cap_text_budget
from . import beidou, broadcast, cell_broadcast, sms
from .spec import ChannelSpec, TargetKind

# In the order the console lists them; the plan writes them by `priority`.
CHANNELS: tuple[ChannelSpec, ...] = (sms.CHANNEL, broadcast.CHANNEL, beidou.CHANNEL, cell_broadcast.CHANNEL)


class UnknownChannel(LookupError):
    """A channel name no package declares (a stale row, a typo in a filter)."""


def channels() -> tuple[ChannelSpec, ...]:
    return CHANNELS


def channel(name: str) -> ChannelSpec:
    for spec in CHANNELS:
        if spec.name == name:
            return spec
    raise UnknownChannel(f"{name!r} is not a channel; the channels are {', '.join(names())}")


def names() -> tuple[str, ...]:
    return tuple(spec.name for spec in CHANNELS)


def plan_order() -> tuple[ChannelSpec, ...]:
    """The channels in the order an alert's plan writes their deliveries."""
    return tuple(sorted(CHANNELS, key=lambda spec: spec.priority))


def county_channels() -> tuple[ChannelSpec, ...]:
    """The channels whose targets are counted per county (the reach, progress and report tables by county)."""
    return tuple(spec for spec in CHANNELS if spec.per_county)


def target_kinds() -> tuple[TargetKind, ...]:
    """The kinds of target admins register one at a time, over every channel."""
    return tuple(kind for spec in CHANNELS for kind in spec.registrable)


def settings_schema() -> dict[str, object]:
    """Every channel's settings with their defaults (config.Settings reads them from the environment)."""
    schema: dict[str, object] = {}
    for spec in CHANNELS:
        schema.update(spec.settings)
    return schema


def texts() -> tuple[str, ...]:
    """Every text an alert is rendered into, by template, once each: the channels', then the CAP fields'."""
    return tuple(dict.fromkeys([*(spec.template for spec in CHANNELS), *CAP_TEXTS]))


def budget_for(text: str, settings: Mapping[str, Any] | None = None) -> Budget:
    """The budget of one of `texts()`: its channel's, from the settings, or a CAP field's."""
    for spec in CHANNELS:
        if spec.template == text:
            return spec.budget(settings or {})
    return cap_text_budget(text, settings)
