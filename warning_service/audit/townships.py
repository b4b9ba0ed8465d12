"""Where recipients and BeiDou terminals carry a township (12-digit GB/T 2260 code), an alert's reach
and gaps per township. A delivery's township is its target's: the recipient's for SMS, the
terminal's for BeiDou; county broadcast platforms stand for a whole county and have none.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from ..models import BeidouTerminal, Channel, Delivery, Recipient

TOWNSHIP = func.coalesce(Recipient.township_code, BeidouTerminal.township_code)


def with_townships(query: Select) -> Select:
    """The query over deliveries joined to its targets, so `TOWNSHIP` can be selected or filtered."""
    return (query
            .outerjoin(Recipient, and_(Delivery.channel == Channel.SMS, Recipient.id == Delivery.target_id))
            .outerjoin(BeidouTerminal, and_(Delivery.channel == Channel.BEIDOU,
                                            BeidouTerminal.id == Delivery.target_id)))


def township_counts(session: Session, alert_id: int) -> dict[str, dict[str, dict[str, int]]]:
    """channel -> township -> status -> deliveries, for the deliveries whose target has a township."""
    table: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = session.execute(with_townships(
        select(Delivery.channel, TOWNSHIP, Delivery.status, func.count()).select_from(Delivery))
        .where(Delivery.alert_id == alert_id, TOWNSHIP.is_not(None))
        .group_by(Delivery.channel, TOWNSHIP, Delivery.status))
    for channel, township, status, count in rows:
        table[channel.value][township][status.value] = count
    return {channel: dict(townships) for channel, townships in table.items()}


def unreached_townships(table: dict[str, dict[str, dict[str, int]]], reached: Collection) -> Iterator[str]:
    """Townships where no delivery on any channel reached anyone (`reached`: the statuses that count)."""
    wanted = {getattr(status, "value", status) for status in reached}
    got: dict[str, int] = defaultdict(int)
    for townships in table.values():
        for township, statuses in townships.items():
            got[township] += sum(count for status, count in statuses.items() if status in wanted)
    yield from sorted(township for township, count in got.items() if count == 0)
