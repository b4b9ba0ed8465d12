"""Which targets an alert reaches on each channel, as SQL selects of (target_id, county_code).

The selects run inside INSERT ... SELECT statements, so targets never pass
through Python: a 1.78-million-recipient alert costs no memory here.

Exercise and Test alerts reach only what is marked for exercises. For people
the mark is a consent (they also get real warnings); broadcast endpoints and
BeiDou cards marked for exercises are test devices and get nothing real.
"""
from __future__ import annotations

from sqlalchemy import Select, Text, cast, exists, select

from ..models import (
    Alert, BeidouTerminal, BroadcastEndpoint, CapStatus, Channel, Delivery, DeliveryStatus, MsgType, Recipient,
)
from .publish import referenced_alerts

# Deliveries a cancellation notice follows: anything that may have reached someone.
REACHED = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


def target_select(session, alert: Alert, channel: Channel) -> Select:
    """SELECT target_id, county_code for the alert on one channel."""
    if alert.msg_type == MsgType.CANCEL:
        return _already_reached(session, alert, channel)
    counties = alert.county_codes
    is_exercise = alert.status != CapStatus.ACTUAL
    if channel == Channel.SMS:
        query = select(Recipient.id.label("target_id"), Recipient.county_code).where(
            Recipient.county_code.in_(counties),
            Recipient.active.is_(True),
            cast(Recipient.channels, Text).like('%"sms"%'),
        )
        return query.where(Recipient.exercise.is_(True)) if is_exercise else query
    if channel == Channel.BROADCAST:
        return select(BroadcastEndpoint.id.label("target_id"), BroadcastEndpoint.county_code).where(
            BroadcastEndpoint.county_code.in_(counties),
            BroadcastEndpoint.active.is_(True),
            BroadcastEndpoint.exercise.is_(is_exercise),
        )
    # BeiDou: village and standalone cards. A household card whose owner has a phone
    # is kept for failover, so the card's scarce capacity goes where SMS cannot.
    owned = exists().where(Recipient.beidou_terminal_id == BeidouTerminal.id)
    return select(BeidouTerminal.id.label("target_id"), BeidouTerminal.county_code).where(
        BeidouTerminal.county_code.in_(counties),
        BeidouTerminal.active.is_(True),
        BeidouTerminal.exercise.is_(is_exercise),
        BeidouTerminal.is_group.is_(True) | ~owned,
    )


def _already_reached(session, alert: Alert, channel: Channel) -> Select:
    """A Cancel goes to whoever the cancelled alerts may have reached, on the same channel."""
    earlier = [a.id for a in referenced_alerts(session, alert)]
    return (
        select(Delivery.target_id.label("target_id"), Delivery.county_code)
        .where(Delivery.alert_id.in_(earlier), Delivery.channel == channel, Delivery.status.in_(REACHED))
        .distinct()
    )
