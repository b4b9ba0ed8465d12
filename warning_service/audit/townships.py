"""Where recipients and BeiDou terminals carry a township (12-digit GB/T 2260 code), an alert's reach
and gaps per township. A delivery's township is its target's: the recipient's for SMS, the
terminal's for BeiDou; county broadcast platforms stand for a whole county and have none.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator

from sqlalchemy import Select, and_, func, select, union_all
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
    """channel -> township -> status -> deliveries, for the deliveries whose target has a township.
    One inner join per channel that has townships, driven by the targets that carry one (a partial
    index each), so the cost follows those targets, not the alert's size."""
    table: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    rows = session.execute(union_all(*(
        select(Delivery.channel, target.township_code, Delivery.status, func.count())
        .join(target, target.id == Delivery.target_id)
        .where(Delivery.alert_id == alert_id, Delivery.channel == channel, target.township_code.is_not(None))
        .group_by(Delivery.channel, target.township_code, Delivery.status)
        for channel, target in ((Channel.SMS, Recipient), (Channel.BEIDOU, BeidouTerminal)))))
    for channel, township, status, count in rows:
        table[getattr(channel, "value", channel)][township][getattr(status, "value", status)] = count
    return {channel: dict(townships) for channel, townships in table.items()}


def unreached_townships(table: dict[str, dict[str, dict[str, int]]], reached: Collection) -> Iterator[str]:
    """Townships where no delivery on any channel reached anyone (`reached`: the statuses that count)."""
    wanted = {getattr(status, "value", status) for status in reached}
    got: dict[str, int] = defaultdict(int)
    for townships in table.values():
        for township, statuses in townships.items():
            got[township] += sum(count for status, count in statuses.items() if status in wanted)
    yield from sorted(township for township, count in got.items() if count == 0)
