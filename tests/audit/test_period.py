"""The period report: which alerts fall in a period of Beijing days, their breakdowns, reach and speed,
exercises apart; and the period's dates checked."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.console import waiting_alert
from warning_service.audit.events import record
from warning_service.audit.period import Period, PeriodError, period_report, today_in_beijing
from warning_service.extensions import db
from warning_service.models import Agency, AgencyKind, Alert, CapStatus, Delivery, DeliveryStatus, Level, MsgType

UTC = UTC


def published(at: datetime, status=CapStatus.ACTUAL, level=Level.YELLOW, hazard="rainstorm", agency=None,
              outcomes=(), to_gateway: float = 0.0) -> int:
    """An alert published at `at` (its fan-out's end) whose deliveries ended as `outcomes`; those the
    gateway took were taken `to_gateway` seconds after the publish the ledger recorded."""
    alert = db.session.get(Alert, waiting_alert(status=status, level=level, hazard=hazard))
    alert.published_at, alert.agency = at, agency
    event = record(db.session, None, "alert.publish", alert)
    for target, outcome in enumerate(outcomes):
        taken = outcome in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
        db.session.add(Delivery(alert_id=alert.id, channel="sms", target_id=target, county_code="513301",
                                status=outcome, sent_at=event.at + timedelta(seconds=to_gateway) if taken else None))
    db.session.commit()
    return alert.id


def test_a_period_is_beijing_days_both_included():
    period = Period.parse("2026-11-01", "2026-11-02", today=date(2026, 11, 24))
    assert period.bounds() == (datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 2, 16, tzinfo=UTC))
    default = Period.parse(None, None, today=date(2026, 11, 24))
    assert (default.first, default.last) == (date(2026, 10, 26), date(2026, 11, 24))


@pytest.mark.parametrize("first, last, reason", [
    ("2026-11-31", None, "YYYY-MM-DD"), ("yesterday", None, "YYYY-MM-DD"),
    ("2026-11-05", "2026-11-01", "comes after"), ("2024-01-01", "2026-01-01", "at most 366"),
])
def test_bad_periods_are_refused_with_the_reason(first, last, reason):
    with pytest.raises(PeriodError, match=reason):
        Period.parse(first, last, today=date(2026, 11, 24))


# Days whose Beijing midnight (or the next one) has no UTC datetime, and a year datetime cannot write.
@pytest.mark.parametrize("first, last, reason", [
    (date.min.isoformat(), date.min.isoformat(), "between"),
    (date.min.isoformat(), (date.min + timedelta(days=5)).isoformat(), "between"),
    (date.max.isoformat(), date.max.isoformat(), "between"),
    ((date.max - timedelta(days=5)).isoformat(), date.max.isoformat(), "between"),
    (date.min.isoformat(), date.max.isoformat(), "between"),
    ("10000-01-01", None, "YYYY-MM-DD"), (None, f"{date.max.year + 1}-01-01", "YYYY-MM-DD"),
])
def test_periods_past_the_calendar_are_refused_with_the_reason(first, last, reason):
    with pytest.raises(PeriodError, match=reason) as refused:
        Period.parse(first, last, today=date.today())
    assert refused.value.code in ("out_of_range", "format")


def test_the_widest_period_the_calendar_allows_has_bounds():
    earliest = Period.parse((date.min + timedelta(days=1)).isoformat(), None,
                            today=date.min + timedelta(days=10)).bounds()
    latest = Period.parse(None, None, today=date.max - timedelta(days=1)).bounds()
    assert earliest[0] < earliest[1] and latest[0] < latest[1]


def test_the_period_counts_alerts_and_their_reach_with_exercises_apart(app):
    seismic = Agency(name="Seismic bureau", kind=AgencyKind.SEISMIC, hazards=["earthquake"], cap_senders=["eq@x"])
    db.session.add(seismic)
    sent, delivered, failed = DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED
    late_evening = published(datetime(2026, 11, 1, 15, 59, tzinfo=UTC), outcomes=(delivered, failed))  # 23:59 Beijing
    after_midnight = published(datetime(2026, 11, 1, 16, 1, tzinfo=UTC), level=Level.RED, hazard="earthquake",
                               agency=seismic, outcomes=(delivered, sent, sent, failed), to_gateway=3.0)
    drill = published(datetime(2026, 11, 2, 2, 0, tzinfo=UTC), status=CapStatus.EXERCISE, outcomes=(delivered,))
    published(datetime(2026, 11, 3, 16, 0, tzinfo=UTC))  # 11-04 in Beijing: outside
    nobody = published(datetime(2026, 11, 1, 4, 0, tzinfo=UTC))  # no recipient in its counties
    db.session.get(Alert, waiting_alert()).published_at = None  # never published: outside
    db.session.commit()

    report = period_report(db.session, Period(date(2026, 11, 2), date(2026, 11, 3)))

    assert [line.alert.id for line in report.actual] == [after_midnight]
    assert [line.alert.id for line in report.exercises] == [drill]
    [line] = report.actual
    assert (line.day, line.targeted, line.reached, line.reached_share) == (date(2026, 11, 2), 4, 3, 0.75)
    assert line.to_gateway_p50 == pytest.approx(3.0, abs=0.01)
    assert report.breakdown["hazard"] == {"earthquake": [1, 0], "rainstorm": [0, 1]}
    assert report.breakdown["level"] == {"red": [1, 0], "yellow": [0, 1]}
    assert report.breakdown["agency"] == {None: [0, 1], "Seismic bureau": [1, 0]}
    assert report.breakdown["county"] == {"513301": [1, 1], "513322": [1, 1]}
    assert [(day.day, day.alerts, day.targeted, day.reached) for day in report.days] == [(date(2026, 11, 2), 1, 4, 3)]

    earlier = period_report(db.session, Period(date(2026, 11, 1), date(2026, 11, 1)))
    assert [(line.alert.id, line.reached_share) for line in earlier.actual] == [(nobody, None), (late_evening, 0.5)]
    assert earlier.actual[0].to_gateway_p50 is None and earlier.actual[1].to_gateway_p50 == pytest.approx(0, abs=0.01)


def test_updates_and_cancellations_are_counted_apart_from_new_warnings(app):
    """A warning, its correction and its cancellation published today: one new warning, one update and
    one cancellation, and only the warning in the breakdowns and the days."""
    now = datetime.now(UTC)
    warning = published(now - timedelta(minutes=30), level=Level.ORANGE, outcomes=(DeliveryStatus.DELIVERED,))
    correction = published(now - timedelta(minutes=20), level=Level.ORANGE, outcomes=(DeliveryStatus.DELIVERED,))
    cancellation = published(now - timedelta(minutes=10), level=Level.ORANGE, outcomes=(DeliveryStatus.FAILED,))
    drill_cancel = published(now - timedelta(minutes=5), status=CapStatus.EXERCISE)
    for alert_id, kind in ((correction, MsgType.UPDATE), (cancellation, MsgType.CANCEL), (drill_cancel, MsgType.CANCEL)):
        db.session.get(Alert, alert_id).msg_type = kind
    db.session.commit()

    report = period_report(db.session, Period.parse(None, None, today_in_beijing()))

    assert [line.alert.id for line in report.actual] == [warning] and report.exercises == []
    assert [line.alert.id for line in report.amendments] == [correction, cancellation, drill_cancel]
    assert report.messages == {"Alert": [1, 0], "Update": [1, 0], "Cancel": [1, 1]}
    assert report.breakdown["hazard"] == {"rainstorm": [1, 0]} and report.breakdown["level"] == {"orange": [1, 0]}
    assert [(day.alerts, day.targeted, day.reached) for day in report.days] == [(1, 1, 1)]
