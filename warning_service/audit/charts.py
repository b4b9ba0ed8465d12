"""Delivery over time: how many of an alert's deliveries each channel had got accepted by its gateway,
and delivered, by each second, minute, hour or day after publishing; and the geometry of the line
chart that shows it. The unit follows the alert's span, so an alert that settles in 40 seconds is drawn
second by second rather than as one straight line within the first minute.

The counts come from the report's time histogram (audit/timing.py: the alert's rows read once, counted
per channel, kind and tenth of a second since publish), summed here into the unit: nothing per row
reaches Python. The chart is plain SVG drawn on the server, readable without JavaScript and printable
in the PDF.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from .timing import BUCKETS_PER_SECOND, KINDS, Histogram

MAX_STEPS = 300  # a span is drawn in the smallest unit that cuts it into at most this many steps

Series = list[tuple[int, int]]  # (units since publish, deliveries reached by then), rising


@dataclass(frozen=True)
class TimeUnit:
    name: str       # "seconds", "minutes", "hours", "days": the axis says which
    seconds: int


SECONDS, MINUTES, HOURS, DAYS = (TimeUnit("seconds", 1), TimeUnit("minutes", 60), TimeUnit("hours", 3600),
                                 TimeUnit("days", 86_400))


def time_unit(histogram: Histogram) -> TimeUnit:
    """The unit for the alert's span (publish to its last acceptance or delivery): seconds under
    MAX_STEPS seconds (5 minutes), then minutes under 5 hours, hours under 300 hours, else days."""
    last = max((bucket for kinds in histogram.values() for buckets in kinds.values() for bucket in buckets),
               default=0) / BUCKETS_PER_SECOND
    return next((unit for unit in (SECONDS, MINUTES, HOURS) if last <= MAX_STEPS * unit.seconds), DAYS)


def delivery_over_time(histogram: Histogram, unit: TimeUnit = MINUTES) -> dict[str, dict[str, Series]]:
    """channel -> "accepted"/"delivered" -> cumulative counts at the end of each unit (minute, say) that
    saw some, from `time_histogram`: minute m counts what got there in (m, m + 1] minutes after
    publishing (a row at exactly one minute counts in minute 0). Rows stamped before the publish time
    count in the first."""
    per_bucket = unit.seconds * BUCKETS_PER_SECOND
    over_time = {}
    for channel, kinds in histogram.items():
        per_minute: dict[str, dict[int, int]] = {kind: defaultdict(int) for kind in KINDS}
        for kind, buckets in kinds.items():
            for bucket, count in buckets.items():
                per_minute[kind][max((bucket - 1) // per_bucket, 0)] += count
        over_time[channel] = {kind: _cumulative(minutes) for kind, minutes in per_minute.items()}
    return over_time


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
    x_ticks: list[tuple[float, int]]         # (x, units since publish)
    y_ticks: list[tuple[float, int]]         # (y, deliveries)
    unit: str = MINUTES.name                 # of the x axis


def line_chart(series: dict[str, Series], y_max: int, span: int, width: int = 520, height: int = 180,
               unit: TimeUnit = MINUTES) -> Chart:
    """Scale cumulative series onto a width × height box: x = units since publish (0..span), y =
    deliveries (0..y_max, the channel's targeted rows, labelled). A count reached during unit m is
    plotted at the end of that unit, m + 1."""
    left, right, top, bottom = 56, width - 12, 10, height - 28
    x_span, y_span = max(span, 1), max(y_max, 1)

    def x(minute: float) -> float:
        return round(left + (right - left) * minute / x_span, 1)

    def y(count: float) -> float:
        return round(bottom - (bottom - top) * count / y_span, 1)

    lines = {kind: " ".join(f"{x(m)},{y(c)}" for m, c in [(0, 0), *((m + 1, c) for m, c in points)])
             for kind, points in series.items() if points}
    y_step = nice_step(y_span, 4)
    counts = [c for c in range(0, y_span, y_step) if c == 0 or y_span - c >= y_step / 2] + [y_span]
    return Chart(width=width, height=height, left=left, bottom=bottom, lines=lines, unit=unit.name,
                 x_ticks=[(x(m), m) for m in range(0, x_span + 1, nice_step(x_span, 5))],
                 y_ticks=[(y(c), c) for c in counts])  # the top is the channel's targeted rows: always labelled


def channel_charts(over_time: dict[str, dict[str, Series]], targeted: dict[str, int],
                   unit: TimeUnit = MINUTES) -> dict[str, Chart]:
    """One chart per channel, all on the same time axis (in `unit`, as `over_time` was summed) so they
    can be compared side by side."""
    last = max((points[-1][0] + 1 for kinds in over_time.values() for points in kinds.values() if points), default=1)
    return {channel: line_chart(over_time.get(channel, {}), targeted[channel], last, unit=unit)
            for channel in targeted}
