"""The period report: what was warned about between two dates (Beijing time, both days included),
by hazard, level, agency and county; how many each alert targeted, what share it reached and how
fast its gateways took it; exercises and tests apart from actual alerts so drills never pass for
warnings, and updates and cancellations apart from new warnings so a correction or an all-clear is
never counted as another warning. Cell broadcasts are counted apart from the messages to people and
places: one per operator's CBC reaches everyone in the area, so they are no share of the targets.
An alert belongs to the period in which its fan-out finished
(`Alert.published_at`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from ..channels.catalog import county_channels
from ..channels.cell_broadcast import CHANNEL as CELL_BROADCAST
from ..models import Alert, CapStatus, CbcBroadcast, Delivery, MsgType, without_bulky_columns
from ..rendering.formatting import LOCAL_TIME as BEIJING
from .report import ACCEPTED, REACHED, published_at
from .timing import latency, time_histogram

DEFAULT_DAYS = 30
MAX_DAYS = 366
# The first and last days whose Beijing midnights, and the next day's, are datetimes in UTC too.
EARLIEST = date.min + timedelta(days=1)
LATEST = date.max - timedelta(days=1)
# Why a period is refused, by code; the console words them in the reader's language (web/reports.py
# PERIOD_REFUSALS), so keep the two in step.
PERIOD_ERROR_TEXTS: Mapping[str, str] = {
    "format": "Dates are written YYYY-MM-DD, e.g. %(example)s.",
    "out_of_range": "A period lies between %(earliest)s and %(latest)s.",
    "order": "The period's first day comes after its last.",
    "too_long": "A period is at most %(days)s days.",
}


class PeriodError(ValueError):
    """The dates asked for do not make a period: `code` (a key of PERIOD_ERROR_TEXTS) says why,
    `details` fill its text."""

    def __init__(self, code: str, **details: str) -> None:
        self.code = code
        self.details = details
        super().__init__(PERIOD_ERROR_TEXTS[code] % details)


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @classmethod
    def parse(cls, first: str | None, last: str | None, today: date) -> Period:
        """From the form's YYYY-MM-DD texts; the last DEFAULT_DAYS up to `today` when none is given."""
        try:
            last_day = date.fromisoformat(last) if last else today
            first_day = date.fromisoformat(first) if first else last_day - timedelta(days=DEFAULT_DAYS - 1)
        except ValueError:
            raise PeriodError("format", example=today.isoformat()) from None
        except OverflowError:  # the default first day of a `last` in the calendar's first days
            first_day = date.min
        if first_day < EARLIEST or last_day > LATEST:
            raise PeriodError("out_of_range", earliest=EARLIEST.isoformat(), latest=LATEST.isoformat())
        if first_day > last_day:
            raise PeriodError("order")
        if (last_day - first_day).days + 1 > MAX_DAYS:
            raise PeriodError("too_long", days=str(MAX_DAYS))
        return cls(first_day, last_day)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC: midnight Beijing time of the first day and of the day after the last."""
        start = datetime.combine(self.first, time(), BEIJING)
        end = datetime.combine(self.last + timedelta(days=1), time(), BEIJING)
        return start.astimezone(UTC), end.astimezone(UTC)


def today_in_beijing() -> date:
    return datetime.now(BEIJING).date()


@dataclass(kw_only=True)
class Reach:
    targeted: int = 0                # deliveries to people and places (not cell broadcasts)
    reached: int = 0                 # of them accepted by the gateway and not reported lost
    broadcasts: int = 0              # cell broadcasts: one per operator's CBC
    broadcast: int = 0               # of them accepted by the CBC
    cells: int = 0                   # cells they were on the air in, as the CBCs reported

    @property
    def reached_share(self) -> float | None:
        return self.reached / self.targeted if self.targeted else None


@dataclass
class AlertLine(Reach):
    """One alert's reach and speed."""

    alert: Alert
    day: date                        # Beijing date it was published
    to_gateway_p50: float | None = None  # seconds from publish to gateway acceptance, median (to the next 0.1 s)


@dataclass
class DayLine(Reach):
    day: date
    alerts: int = 0


@dataclass
class PeriodReport:
    period: Period
    actual: list[AlertLine] = field(default_factory=list)
    exercises: list[AlertLine] = field(default_factory=list)  # Exercise, Test, System, Draft
    # what -> key -> (actual alerts, exercises); the agency key is None for alerts composed in the console
    breakdown: dict[str, dict[str | None, list[int]]] = field(default_factory=dict)
    days: list[DayLine] = field(default_factory=list)        # new actual warnings only
    amendments: list[AlertLine] = field(default_factory=list)  # updates and cancellations, actual or not
    # message type ("Alert", "Update", "Cancel") -> (actual, exercises): only "Alert" is a new warning
    messages: dict[str, list[int]] = field(default_factory=dict)


def period_report(session: Session, period: Period) -> PeriodReport:
    start, end = period.bounds()
    alerts = list(session.scalars(
        select(Alert).where(Alert.published_at >= start, Alert.published_at < end)
        .options(*without_bulky_columns(), selectinload(Alert.agency), selectinload(Alert.counties))
        .order_by(Alert.published_at, Alert.id)))
    ids = [alert.id for alert in alerts]
    reach = {alert_id: (targeted, reached) for alert_id, targeted, reached in session.execute(
        select(Delivery.alert_id, func.count(), func.sum(case((Delivery.status.in_(REACHED), 1), else_=0)))
        .where(Delivery.alert_id.in_(ids), Delivery.channel.in_([spec.name for spec in county_channels()]))
        .group_by(Delivery.alert_id))}
    broadcasts = {alert_id: (sent, accepted, cells) for alert_id, sent, accepted, cells in session.execute(
        select(Delivery.alert_id, func.count(), func.sum(case((Delivery.status.in_(ACCEPTED), 1), else_=0)),
               func.coalesce(func.sum(CbcBroadcast.cells), 0))
        .outerjoin(CbcBroadcast, CbcBroadcast.delivery_id == Delivery.id)
        .where(Delivery.alert_id.in_(ids), Delivery.channel == CELL_BROADCAST.name).group_by(Delivery.alert_id))}
    report = PeriodReport(period, breakdown={"hazard": {}, "level": {}, "agency": {}, "county": {}},
                          messages={kind.value: [0, 0] for kind in (MsgType.ALERT, MsgType.UPDATE, MsgType.CANCEL)})
    days: dict[date, DayLine] = {}
    for alert in alerts:
        targeted, reached = reach.get(alert.id, (0, 0))
        sent, accepted, cells = broadcasts.get(alert.id, (0, 0, 0))
        line = AlertLine(alert, alert.published_at.astimezone(BEIJING).date(), targeted=targeted,
                         reached=int(reached or 0), broadcasts=sent, broadcast=int(accepted or 0), cells=int(cells))
        since = published_at(session, alert.id) if targeted or sent else None
        if since is not None:
            accepted = time_histogram(session, alert.id, since, kinds=("accepted",))
            line.to_gateway_p50 = latency(accepted, "accepted", shares=(0.5,)).at.get(0.5)
        is_actual = alert.status == CapStatus.ACTUAL
        report.messages.setdefault(alert.msg_type.value, [0, 0])[0 if is_actual else 1] += 1
        if alert.msg_type != MsgType.ALERT:
            report.amendments.append(line)
            continue
        (report.actual if is_actual else report.exercises).append(line)
        keys = {"hazard": [alert.hazard_code], "level": [alert.level.value if alert.level else None],
                "agency": [alert.agency.name if alert.agency else None], "county": alert.county_codes}
        for what, values in keys.items():
            for value in values:
                report.breakdown[what].setdefault(value, [0, 0])[0 if is_actual else 1] += 1
        if is_actual:
            day = days.setdefault(line.day, DayLine(line.day))
            day.alerts += 1
            day.targeted += line.targeted
            day.reached += line.reached
            day.broadcasts += line.broadcasts
            day.broadcast += line.broadcast
            day.cells += line.cells
    report.breakdown = {what: dict(sorted(rows.items(), key=lambda item: (-sum(item[1]), str(item[0]))))
                        for what, rows in report.breakdown.items()}
    report.days = [days[day] for day in sorted(days)]
    return report
