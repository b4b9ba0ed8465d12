"""Delivery over time: minutes summed from the time histogram on both backends, and the chart's geometry."""
from __future__ import annotations

from datetime import timedelta

from tests.support.console import waiting_alert
from tests.support.reports import add_delivery
from warning_service.audit.charts import channel_charts, delivery_over_time, line_chart, nice_step, time_unit
from warning_service.audit.timing import BUCKETS_PER_SECOND, time_histogram
from warning_service.extensions import db
from warning_service.models import Channel, utcnow


def test_deliveries_are_counted_cumulatively_by_minute_since_publish(app):
    alert_id = waiting_alert()
    since = utcnow().replace(microsecond=250_000)
    second = timedelta(seconds=1)
    add_delivery(alert_id, Channel.SMS, 1, sent=since + 10 * second, delivered=since + 80 * second)
    add_delivery(alert_id, Channel.SMS, 2, sent=since + 59.9 * second, delivered=since + 200 * second)
    add_delivery(alert_id, Channel.SMS, 3, sent=since + 60.1 * second)
    add_delivery(alert_id, Channel.SMS, 4, sent=since - 30 * second)  # stamped before the ledger's publish
    add_delivery(alert_id, Channel.SMS, 5)                           # never accepted
    add_delivery(alert_id, Channel.BROADCAST, 1, sent=since + 5 * second)
    add_delivery(waiting_alert(), Channel.SMS, 1, sent=since + 5 * second)  # another alert's
    db.session.commit()

    over_time = delivery_over_time(time_histogram(db.session, alert_id, since))

    assert over_time == {
        "sms": {"accepted": [(0, 3), (1, 4)], "delivered": [(1, 1), (3, 2)]},
        "broadcast": {"accepted": [(0, 1)], "delivered": []},
    }


def test_a_delivery_at_the_end_of_a_minute_counts_in_that_minute(app):
    alert_id = waiting_alert()
    since = utcnow().replace(microsecond=250_000)
    add_delivery(alert_id, Channel.SMS, 1, sent=since + timedelta(seconds=60))       # by the end of minute 0
    add_delivery(alert_id, Channel.SMS, 2, sent=since + timedelta(seconds=60.001))   # during minute 1
    add_delivery(alert_id, Channel.SMS, 3, sent=since)                               # at the moment of publishing
    db.session.commit()

    over_time = delivery_over_time(time_histogram(db.session, alert_id, since))

    assert over_time["sms"]["accepted"] == [(0, 2), (1, 3)]


def test_the_chart_scales_minutes_and_deliveries_into_its_box():
    chart = line_chart({"accepted": [(0, 3), (1, 4)], "delivered": []}, y_max=4, span=10, width=520, height=180)
    points = [tuple(map(float, point.split(","))) for point in chart.lines["accepted"].split()]
    assert points[0] == (chart.left, chart.bottom)             # nothing at the moment of publishing
    assert points[-1] == (chart.left + (520 - 12 - chart.left) * 2 / 10, 10)  # all 4 by the end of minute 1
    assert "delivered" not in chart.lines                      # no line for what never happened
    assert [minutes for _, minutes in chart.x_ticks] == [0, 2, 4, 6, 8, 10]
    assert [count for _, count in chart.y_ticks] == [0, 1, 2, 3, 4]
    assert [count for _, count in line_chart({}, y_max=1200, span=1).y_ticks] == [0, 500, 1200]


def test_channels_share_the_time_axis_and_each_has_its_own_scale():
    charts = channel_charts({"sms": {"accepted": [(0, 900), (29, 1000)]}, "beidou": {"accepted": [(4, 3)]}},
                            {"sms": 1200, "beidou": 5, "broadcast": 2})
    assert set(charts) == {"sms", "beidou", "broadcast"}
    assert charts["sms"].x_ticks == charts["beidou"].x_ticks and charts["sms"].x_ticks[-1][1] == 30
    assert charts["sms"].y_ticks[-1][1] == 1200 and charts["beidou"].y_ticks[-1][1] == 5
    assert charts["broadcast"].lines == {}


def test_nice_steps():
    assert [nice_step(n) for n in (0, 4, 37, 1200, 1_780_000)] == [1, 1, 10, 500, 500_000]


def test_an_alert_that_settles_in_forty_seconds_is_drawn_second_by_second(app):
    alert_id = waiting_alert()
    since = utcnow().replace(microsecond=0)
    for target, seconds in enumerate((2, 5, 5, 12, 40)):
        add_delivery(alert_id, Channel.SMS, target, sent=since + timedelta(seconds=seconds - 1),
                     delivered=since + timedelta(seconds=seconds))
    db.session.commit()
    histogram = time_histogram(db.session, alert_id, since)

    unit = time_unit(histogram)
    over_time = delivery_over_time(histogram, unit)
    chart = channel_charts(over_time, {"sms": 5}, unit)["sms"]

    assert unit.name == "seconds"
    assert over_time["sms"]["delivered"] == [(1, 1), (4, 3), (11, 4), (39, 5)]
    assert chart.unit == "seconds" and chart.x_ticks[-1][1] == 40 and len(chart.lines["delivered"].split()) == 5


def test_the_unit_follows_the_span():
    def spanning(seconds: float):
        return time_unit({"sms": {"accepted": {round(seconds * BUCKETS_PER_SECOND): 1}, "delivered": {}}})

    assert [spanning(s).name for s in (0.1, 40, 300, 301, 3 * 3600, 5 * 3600 + 1, 299 * 3600, 301 * 3600)] == [
        "seconds", "seconds", "seconds", "minutes", "minutes", "hours", "hours", "days"]
    assert time_unit({}).name == "seconds"
