"""An AlertView from a stored alert (any object with the Alert model's attributes)."""
from __future__ import annotations

from dataclasses import replace

from ..hazards import action_codes
from .render import AlertView, NamedPlace


def _value(member) -> str | None:
    return member.value if member is not None else None


def _required_value(member) -> str:
    """An attribute every alert has (status, msg_type): its enum's value."""
    return member.value


def view_of(alert) -> AlertView:
    return AlertView(
        hazard_code=alert.hazard_code,
        level=_value(alert.level),
        status=_required_value(alert.status),
        msg_type=_required_value(alert.msg_type),
        county_codes=tuple(alert.county_codes),
        onset=alert.onset,
        expires=alert.expires,
        sent=alert.sent,
        parameters=dict(alert.parameters or {}),
        headline=dict(alert.headline or {}),
        description=dict(alert.description or {}),
        instruction=dict(alert.instruction or {}),
        sender_name=alert.agency.name if alert.agency else None,
        all_clear="AllClear" in (alert.response_types or []),
        named_places=tuple(NamedPlace(place["zh"], place.get("bo"), place.get("code", ""))
                           for place in alert.named_places or ()),
        actions=action_codes(alert.parameters or {}),
    )


def cancellation_view(view: AlertView) -> AlertView:
    """What a Cancel of the alert says (dispatch/review.py `cancel` makes it): the same hazard, level,
    area and expiry, none of the agency's texts or parameters."""
    return replace(view, msg_type="Cancel", onset=None, parameters={}, headline={}, description={},
                   instruction={}, all_clear=False, actions=())
