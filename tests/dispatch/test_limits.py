"""Rate limits shared through Redis, and the retry back-off."""
from __future__ import annotations

import random
import time

from redis import Redis
from sqlalchemy import select

from tests.support.dispatch import new_alert, publish_now, statuses, work
from tests.support.gateways import CountingAdapter, sent_counts
from warning_service.channels.base import Capabilities
from warning_service.channels.gateways import ADAPTERS
from warning_service.dispatch.ratelimit import Grant, RateLimiter
from warning_service.dispatch.reconcile import reconcile
from warning_service.dispatch.retry import backoff_seconds
from warning_service.extensions import db, redis_client
from warning_service.models import Delivery


class Clock:
    """A clock the test moves: the bucket's arithmetic is checked exactly, however slow the machine."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_workers_share_one_bucket(app):
    connection, clock = Redis.from_url(app.config["REDIS_URL"]), Clock()
    first, second = RateLimiter(connection, clock=clock), RateLimiter(connection, clock=clock)  # two workers
    assert first.take("account-1", 6, rate_per_second=2, burst=8).granted == 6
    grant = second.take("account-1", 6, rate_per_second=2, burst=8)
    assert grant.granted == 2 and grant.wait_seconds == 0.5
    assert first.take("account-2", 3, rate_per_second=2, burst=8).granted == 3  # buckets are per key
    clock.now += 0.25  # steps a float holds exactly
    assert second.take("account-1", 5, rate_per_second=2, burst=8) == Grant(0, 0.25)  # half a token
    clock.now += 0.75
    assert second.take("account-1", 5, rate_per_second=2, burst=8).granted == 2  # 1 s since: refilled at 2/s
    clock.now += 3600
    assert first.take("account-1", 20, rate_per_second=2, burst=8).granted == 8  # never beyond the burst


def test_redis_keeps_the_clock_in_the_service(app):
    """Without a clock of its own the bucket runs on Redis's time, which every worker shares."""
    limiter = RateLimiter(Redis.from_url(app.config["REDIS_URL"]))
    started = time.monotonic()
    assert limiter.take("account-3", 5, rate_per_second=1, burst=4).granted == 4
    grant = limiter.take("account-3", 5, rate_per_second=1, burst=4)
    elapsed = time.monotonic() - started
    assert grant.granted <= elapsed * 1 and 0 < grant.wait_seconds <= 1  # only what refilled in between


def test_no_rate_means_no_limit(app):
    limiter = RateLimiter(Redis.from_url(app.config["REDIS_URL"]))
    assert limiter.take("unlimited", 10_000, rate_per_second=None).granted == 10_000


def test_backoff_grows_with_full_jitter_and_honours_retry_after():
    rng = random.Random(7)
    for attempt, ceiling in ((1, 2.0), (2, 4.0), (3, 8.0), (9, 300.0)):
        delays = [backoff_seconds(attempt, base=2.0, cap=300.0, rng=rng) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling * 0.8 and min(delays) < ceiling * 0.2  # spread over the whole range
    assert backoff_seconds(1, 2.0, 300.0, retry_after=30.0, rng=rng) == 30.0


class ThrottledAdapter(CountingAdapter):
    name = "throttled"

    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch=100, rate_per_second=20, rate_key="throttled-account", burst=10)


def test_the_sender_never_exceeds_the_gateway_rate(app, demo_targets, counting, monkeypatch):
    ADAPTERS[ThrottledAdapter.name] = ThrottledAdapter
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "throttled")  # 20/s after a burst of 10
    alert = publish_now(new_alert(("513301", "513322", "513221")))
    started = time.monotonic()
    work(app)
    assert statuses(alert.id).get("pending"), "what the bucket could not cover waits; it is not sent"
    while statuses(alert.id).get("pending") and time.monotonic() < started + 60:
        time.sleep(0.3)
        reconcile(db.session, redis_client(), app.config, stale_after=0)
        work(app)
    elapsed = time.monotonic() - started

    assert set(statuses(alert.id)) == {"sent"}
    sms_ids = set(db.session.scalars(select(Delivery.id).where(Delivery.alert_id == alert.id, Delivery.channel == "sms")))
    sms_at_gateway = sum(times for delivery, times in sent_counts(counting).items() if delivery in sms_ids)
    assert sms_at_gateway == len(sms_ids) > 30
    assert sms_at_gateway <= 10 + 20 * elapsed, "never more than the burst plus the rate"
