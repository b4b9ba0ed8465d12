"""Which targets an alert reaches on each channel, as SQL selects of (target_id, county_code).

The selects run inside INSERT ... SELECT statements, so targets never pass
through Python: a 1.78-million-recipient alert costs no memory here.

Each channel selects its own targets for the alert's counties (its ChannelSpec.select_targets);
Exercise and Test alerts reach only what is marked for exercises. A Cancel goes instead to
whoever the alerts it cancels may have reached, on the same channel.
"""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ..channels.spec import ChannelSpec
from ..models import Alert, CapStatus, Delivery, DeliveryStatus, MsgType, referenced_alerts

# Deliveries a cancellation notice follows: anything that may have reached someone.
REACHED = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


def target_select(session: Session, alert: Alert, channel: ChannelSpec) -> Select:
    """SELECT target_id, county_code for the alert on one channel."""
    if alert.msg_type == MsgType.CANCEL:
        return _already_reached(session, alert, channel)
    return channel.select_targets(session, alert, alert.county_codes, alert.status != CapStatus.ACTUAL)


def _already_reached(session: Session, alert: Alert, channel: ChannelSpec) -> Select:
    """A Cancel goes to whoever the cancelled alerts may have reached, on the same channel."""
    earlier = [a.id for a in referenced_alerts(session, alert)]
    return (
        select(Delivery.target_id.label("target_id"), Delivery.county_code)
        .where(Delivery.alert_id.in_(earlier), Delivery.channel == channel.name, Delivery.status.in_(REACHED))
        .distinct()
    )
