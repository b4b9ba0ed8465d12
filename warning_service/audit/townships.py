"""Where a channel's targets carry a township (12-digit GB/T 2260 code: `ChannelSpec.township`, the
recipients' and BeiDou terminals'), an alert's reach and gaps per township. A delivery's township is
its target's; targets that stand for a whole county (broadcast platforms) have none.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator

from sqlalchemy import ColumnElement, Select, and_, func, null, select, union_all
from sqlalchemy.orm import Session, aliased

from ..channels.catalog import channels
from ..models import Delivery


def with_townships(query: Select) -> tuple[Select, ColumnElement]:
    """The query over deliveries joined to their targets, and the township of each row's target (NULL for
    a target without one), to select or filter on."""
    townships = []
    for channel in channels():
        if channel.township is not None:
            target = aliased(channel.target)
            query = query.outerjoin(target, and_(Delivery.channel == channel.name, target.id == Delivery.target_id))
            townships.append(getattr(target, channel.township.key))
    if not townships:
        return query, null()
    return query, townships[0] if len(townships) == 1 else func.coalesce(*townships)


def township_counts(session: Session, alert_id: int) -> dict[str, dict[str, dict[str, int]]]:
    """channel -> township -> status -> deliveries, for the deliveries whose target has a township.
    One inner join per channel that has townships, driven by the targets that carry one (a partial
    index each), so the cost follows those targets, not the alert's size."""
    table: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    selects = [
        select(Delivery.channel, channel.township, Delivery.status, func.count())
        .join(channel.target, channel.target.id == Delivery.target_id)
        .where(Delivery.alert_id == alert_id, Delivery.channel == channel.name, channel.township.is_not(None))
        .group_by(Delivery.channel, channel.township, Delivery.status)
        for channel in channels() if channel.township is not None]
    if not selects:
        return {}
    statement = selects[0] if len(selects) == 1 else union_all(*selects)
    for channel_name, township, status, count in session.execute(statement):
        table[channel_name][township][getattr(status, "value", status)] = count
    return {channel_name: dict(townships) for channel_name, townships in table.items()}


def unreached_townships(table: dict[str, dict[str, dict[str, int]]], reached: Collection) -> Iterator[str]:
    """Townships where no delivery on any channel reached anyone (`reached`: the statuses that count)."""
    wanted = {getattr(status, "value", status) for status in reached}
    got: dict[str, int] = defaultdict(int)
    for townships in table.values():
        for township, statuses in townships.items():
            got[township] += sum(count for status, count in statuses.items() if status in wanted)
    yield from sorted(township for township, count in got.items() if count == 0)
