"""How fast an alert's deliveries got there, from ONE pass over its rows: a histogram of (channel,
accepted/delivered, tenth of a second since publish) counted in the database, from which the report's
percentiles and its delivery-over-time chart are derived here in Python.

Why a histogram: exact percentiles need a sort of each time column and the chart a grouping of both;
at 1.78 million deliveries each of those costs about a second on PostgreSQL. The histogram has a few
thousand buckets whatever the alert's size (one per tenth of a second that saw a delivery): one
statement, a hash aggregate per time column, and only the buckets come back. Reading the rows once
through a LATERAL VALUES unpivot of the two columns was measured too and is slower (0.95 s against
0.70 s at 1.78 M rows, docs/BENCHMARKS.md): the per-row unpivot costs more than a second pass over heap
pages already in memory.

Resolution: a percentile is the end of the tenth of a second in which the nearest-rank row fell, i.e.
the first 0.1 s mark by which that share had been reached: the exact moment rounded up to 0.1 s (equal
to it when it falls on a tenth, never earlier, less than 0.1 s later). Times are read to the microsecond
on PostgreSQL and to the millisecond on SQLite (its date functions keep no finer time).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from ..models import Delivery
from ..models.types import UTCDateTime

KINDS = ("accepted", "delivered")          # by sent_at (the gateway took it) and delivered_at
BUCKETS_PER_SECOND = 10
PERCENTILES = (0.5, 0.9, 0.95, 0.99)
UNIX_EPOCH_JULIAN_DAY = 2440587.5          # SQLite's julianday() of 1970-01-01T00:00Z

# channel -> kind -> bucket -> rows; bucket k holds the rows that got there in ((k - 1) / 10 s, k / 10 s]
# after publish, so "by k / 10 s" counts them all.
Histogram = dict[str, dict[str, dict[int, int]]]


@dataclass
class Latency:
    """Seconds from publish to the moment a share of the accepted (or delivered) rows had got there."""

    count: int = 0
    at: dict[float, float] = field(default_factory=dict)  # percentile -> seconds (to the next 0.1 s)


def _bucket(moment, since: datetime | None, dialect: str):
    """The tenth of a second since `since` that `moment` ends: its time rounded up to 0.1 s, in tenths
    (zero or negative at or before publish); without a publish time, one bucket (0) for all."""
    if since is None:
        return literal(0, Integer)
    origin = literal(since, UTCDateTime)
    if dialect == "postgresql":
        # float8 seconds of the interval (µs / 10⁶), times ten, ceiling: far cheaper than numeric EXTRACT,
        # and a row exactly on a tenth stays in it for the first 24 h after publish (checked for every
        # tenth in float8); later the interval carries days, and such a row may land one tenth on.
        return cast(func.ceil(func.date_part("epoch", moment - origin) * BUCKETS_PER_SECOND), Integer)

    def millis(at):
        return cast(func.round((func.julianday(at) - UNIX_EPOCH_JULIAN_DAY) * 86_400_000), Integer)

    elapsed, per_bucket = millis(moment) - millis(origin), 1000 // BUCKETS_PER_SECOND
    # SQLite's integer division truncates toward zero, which is the ceiling only at or before publish.
    return case((elapsed > 0, (elapsed + per_bucket - 1) // per_bucket), else_=-((-elapsed) // per_bucket))


def _time_column(kind: str):
    return {"accepted": Delivery.sent_at, "delivered": Delivery.delivered_at}[kind]


def histogram_statement(alert_id: int, since: datetime | None, dialect: str, kinds=KINDS):
    """(channel, kind, bucket, rows) for the alert's rows that have the kind's time: one grouped SELECT
    per time column, UNION ALL (see the module's note on why not a LATERAL unpivot)."""
    def grouped(kind: str):
        at = _time_column(kind)
        bucket = _bucket(at, since, dialect).label("bucket")
        return (select(Delivery.channel, literal(kind).label("kind"), bucket, func.count())
                .where(Delivery.alert_id == alert_id, at.is_not(None)).group_by(Delivery.channel, bucket))

    return union_all(*(grouped(kind) for kind in kinds))


def time_histogram(session: Session, alert_id: int, since: datetime | None, kinds=KINDS) -> Histogram:
    """The alert's deliveries by channel, kind and tenth of a second since `since`, in one statement
    (all in bucket 0 when the ledger has no publish time: then only the counts mean something)."""
    rows = session.execute(histogram_statement(alert_id, since, session.get_bind().dialect.name, kinds))
    histogram: Histogram = defaultdict(lambda: {kind: {} for kind in KINDS})
    for channel, kind, bucket, count in rows:
        histogram[getattr(channel, "value", channel)][kind][int(bucket)] = count
    return dict(histogram)


def latency(histogram: Histogram, kind: str, timed: bool = True, shares=PERCENTILES) -> Latency:
    """Nearest-rank percentiles over every channel's rows of `kind`, each the end of its bucket; only
    the count when the histogram is not `timed` (no publish time)."""
    merged: dict[int, int] = defaultdict(int)
    for kinds in histogram.values():
        for bucket, count in kinds.get(kind, {}).items():
            merged[bucket] += count
    result = Latency(count=sum(merged.values()))
    if not result.count or not timed:
        return result
    ranks = iter(sorted((max(math.ceil(share * result.count), 1), share) for share in shares))
    rank, share = next(ranks)
    seen = 0
    for bucket in sorted(merged):
        seen += merged[bucket]
        while seen >= rank:
            result.at[share] = bucket / BUCKETS_PER_SECOND
            rank, share = next(ranks, (math.inf, None))
    return result
