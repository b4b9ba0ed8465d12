"""The time histogram: percentiles derived from its buckets against the exact nearest-rank ones, on both
backends."""
from __future__ import annotations

import math
import random
from datetime import timedelta

from tests.support.console import waiting_alert
from tests.support.reports import add_delivery
from warning_service.audit.timing import PERCENTILES, latency, time_histogram
from warning_service.extensions import db
from warning_service.models import Channel, utcnow


def exact_percentiles(elapsed: list[timedelta]) -> dict[float, timedelta]:
    """Nearest rank, as PostgreSQL's percentile_disc gives it."""
    ordered = sorted(elapsed)
    return {share: ordered[math.ceil(share * len(ordered)) - 1] for share in PERCENTILES}


def tenths_up(moment: timedelta) -> float:
    """The moment rounded up to the next 0.1 s, in seconds (exact integer arithmetic)."""
    micros = moment // timedelta(microseconds=1)
    return -(-micros // 100_000) / 10


def test_percentiles_on_tenths_equal_the_exact_ones(app):
    alert_id = waiting_alert()
    since = utcnow().replace(microsecond=123_000)
    tenths = random.Random(7).sample(range(0, 6000), 400)  # up to ten minutes, on the 0.1 s grid
    for target, tenth in enumerate(tenths, start=1):
        add_delivery(alert_id, Channel.SMS if target % 5 else Channel.BEIDOU, target,
                     sent=since + timedelta(seconds=tenth / 10))
    db.session.commit()

    speed = latency(time_histogram(db.session, alert_id, since), "accepted")

    exact = exact_percentiles([timedelta(seconds=tenth / 10) for tenth in tenths])
    assert speed.count == 400
    assert speed.at == {share: moment.total_seconds() for share, moment in exact.items()}


def test_percentiles_between_tenths_are_rounded_up_to_the_next_one(app):
    alert_id = waiting_alert()
    since = utcnow().replace(microsecond=250_000)
    draw = random.Random(11)
    accepted = [timedelta(milliseconds=draw.randrange(-2_000, 90_000)) for _ in range(300)]  # some before publish
    delivered = [moment + timedelta(milliseconds=draw.randrange(1, 30_000)) for moment in accepted[:200]]
    for target, moment in enumerate(accepted, start=1):
        add_delivery(alert_id, Channel.SMS, target, sent=since + moment,
                     delivered=since + delivered[target - 1] if target <= len(delivered) else None)
    db.session.commit()

    histogram = time_histogram(db.session, alert_id, since)

    for kind, moments in (("accepted", accepted), ("delivered", delivered)):
        speed = latency(histogram, kind)
        assert speed.count == len(moments)
        assert speed.at == {share: tenths_up(moment) for share, moment in exact_percentiles(moments).items()}
        for share, moment in exact_percentiles(moments).items():  # never earlier, less than 0.1 s later
            assert moment.total_seconds() <= speed.at[share] < moment.total_seconds() + 0.1


def test_without_a_publish_time_only_the_rows_are_counted(app):
    alert_id = waiting_alert()
    add_delivery(alert_id, Channel.SMS, 1, sent=utcnow(), delivered=utcnow())
    add_delivery(alert_id, Channel.SMS, 2, sent=utcnow())
    add_delivery(alert_id, Channel.SMS, 3)
    db.session.commit()

    histogram = time_histogram(db.session, alert_id, None)

    assert latency(histogram, "accepted", timed=False).count == 2
    assert latency(histogram, "delivered", timed=False).at == {}
    assert latency(time_histogram(db.session, waiting_alert(), utcnow()), "accepted").count == 0
