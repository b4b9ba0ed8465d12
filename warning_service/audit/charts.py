"""Delivery over time: how many of an alert's deliveries each channel had got accepted by its gateway,
and delivered, by each minute after publishing; and the geometry of the line chart that shows it.

The counts come from one grouped query: every row's minute since publish is computed in SQL and
counted per channel, so the database hands back a few numbers per minute whatever the alert's size
(1.78 million rows on PostgreSQL read once through the alert's index, no rows shipped to Python).
The chart is plain SVG drawn on the server, readable without JavaScript and printable in the PDF.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, Integer, Select, cast, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from ..models import Delivery

BUCKET_SECONDS = 60
UNIX_EPOCH_JULIAN_DAY = 2440587.5  # SQLite's julianday() of 1970-01-01T00:00Z
KINDS = ("accepted", "delivered")

Series = list[tuple[int, int]]  # (minutes since publish, deliveries reached by then), rising


def _minute_since(column, since: datetime, dialect: str):
    """The whole minutes from `since` to the column's time, in the backend's own arithmetic."""
    if dialect == "postgresql":
        # EXTRACT gives numeric, whose arithmetic is several times slower than float8's over a million rows.
        seconds = cast(func.extract("epoch", column), Float) - since.timestamp()
        return cast(func.floor(seconds / BUCKET_SECONDS), Integer)
    # SQLite keeps UTC text; julianday() reads it (fractions of a second included). The CAST
    # truncates, which is the floor for the times after publishing that are counted here.
    seconds = (func.julianday(column) - UNIX_EPOCH_JULIAN_DAY) * 86400.0 - since.timestamp()
    return cast(seconds / BUCKET_SECONDS, Integer)


def over_time_statement(alert_id: int, since: datetime, dialect: str) -> Select:
    """(channel, kind, minute, deliveries): the accepted rows by the minute of `sent_at`, the
    delivered ones by that of `delivered_at`, as the report's latency figures count them."""
    events = union_all(*(
        select(Delivery.channel.label("channel"), literal_column(f"'{kind}'").label("kind"),
               _minute_since(column, since, dialect).label("minute"))
        .where(Delivery.alert_id == alert_id, column.is_not(None))
        for kind, column in (("accepted", Delivery.sent_at), ("delivered", Delivery.delivered_at))
    )).subquery()
    return (select(events.c.channel, events.c.kind, events.c.minute, func.count())
            .group_by(events.c.channel, events.c.kind, events.c.minute)
            .order_by(events.c.channel, events.c.kind, events.c.minute))


def delivery_over_time(session: Session, alert_id: int, since: datetime | None) -> dict[str, dict[str, Series]]:
    """channel -> "accepted"/"delivered" -> cumulative counts at the end of each minute that saw some.
    Rows stamped before `since` count in minute 0."""
    if since is None:
        return {}
    rows = session.execute(over_time_statement(alert_id, since, session.get_bind().dialect.name))
    per_minute: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: {kind: defaultdict(int) for kind in KINDS})
    for channel, kind, minute, count in rows:
        per_minute[getattr(channel, "value", channel)][kind][max(int(minute), 0)] += count
    return {channel: {kind: _cumulative(minutes) for kind, minutes in kinds.items()}
            for channel, kinds in per_minute.items()}


def _cumulative(per_minute: dict[int, int]) -> Series:
    total, series = 0, []
    for minute in sorted(per_minute):
        total += per_minute[minute]
        series.append((minute, total))
    return series


def nice_step(largest: float, ticks: int = 4) -> int:
    """A round step (1, 2, 5 × 10ⁿ) that cuts 0..largest into about `ticks` parts."""
    if largest <= 0:
        return 1
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw))
    return max(1, int(next(m * power for m in (1, 2, 5, 10) if m * power >= raw)))


@dataclass(frozen=True)
class Chart:
    """A line chart in SVG user units: polyline points per kind and the axes' ticks."""

    width: int
    height: int
    left: int
    bottom: int                              # y of the x axis
    lines: dict[str, str]                    # kind -> "x,y x,y …"
    x_ticks: list[tuple[float, int]]         # (x, minutes)
    y_ticks: list[tuple[float, int]]         # (y, deliveries)


def line_chart(series: dict[str, Series], y_max: int, minutes: int, width: int = 520, height: int = 180) -> Chart:
    """Scale cumulative series onto a width × height box: x = minutes since publish (0..minutes),
    y = deliveries (0..y_max, the channel's targeted rows, labelled). A count reached during minute m is
    plotted at the end of that minute, m + 1."""
    left, right, top, bottom = 56, width - 12, 10, height - 28
    x_span, y_span = max(minutes, 1), max(y_max, 1)

    def x(minute: float) -> float:
        return round(left + (right - left) * minute / x_span, 1)

    def y(count: float) -> float:
        return round(bottom - (bottom - top) * count / y_span, 1)

    lines = {kind: " ".join(f"{x(m)},{y(c)}" for m, c in [(0, 0), *((m + 1, c) for m, c in points)])
             for kind, points in series.items() if points}
    y_step = nice_step(y_span, 4)
    counts = [c for c in range(0, y_span, y_step) if c == 0 or y_span - c >= y_step / 2] + [y_span]
    return Chart(width=width, height=height, left=left, bottom=bottom, lines=lines,
                 x_ticks=[(x(m), m) for m in range(0, x_span + 1, nice_step(x_span, 5))],
                 y_ticks=[(y(c), c) for c in counts])  # the top is the channel's targeted rows: always labelled


def channel_charts(over_time: dict[str, dict[str, Series]], targeted: dict[str, int]) -> dict[str, Chart]:
    """One chart per channel, all on the same minutes so they can be compared side by side."""
    last = max((points[-1][0] + 1 for kinds in over_time.values() for points in kinds.values() if points), default=1)
    return {channel: line_chart(over_time.get(channel, {}), targeted[channel], last) for channel in targeted}
