"""Test gateways behind the real adapter interface: they count what reaches them, in Redis,
so a duplicate is seen whichever process sent it."""
from __future__ import annotations

import os
import time
from collections.abc import Sequence

from redis import Redis

from warning_service.channels.base import Capabilities, ChannelAdapter, OutboundMessage, Outcome, SendResult
from warning_service.channels.gateways import ADAPTERS
from warning_service.extensions import connect_redis

SENT_KEY = "ews:test:sent"      # hash: delivery id -> times the gateway received it
ORDER_KEY = "ews:test:order"    # list: alert id of each message, in the order received


class CountingAdapter(ChannelAdapter):
    """Accepts everything and counts it. TEST_GATEWAY_DELAY slows each batch (to kill a worker mid-flight)."""

    name = "counting"
    channels = frozenset({"sms", "broadcast", "beidou", "cell_broadcast"})

    def __init__(self, settings):
        super().__init__(settings)
        self.redis = connect_redis(settings)

    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch=100, rate_per_second=None, rate_key="counting")

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        time.sleep(float(os.environ.get("TEST_GATEWAY_DELAY", "0")))
        pipe = self.redis.pipeline()
        for message in messages:
            pipe.hincrby(SENT_KEY, message.delivery_id, 1)
            pipe.rpush(ORDER_KEY, message.content.alert_id)
        pipe.execute()
        return [self.result(message) for message in messages]

    def result(self, message: OutboundMessage) -> SendResult:
        return SendResult(message.delivery_id, Outcome.ACCEPTED, gateway_id=f"T{message.delivery_id}")


class FlakyAdapter(CountingAdapter):
    """Numbers ending in 0 are invalid (permanent); others fail once transiently, then go through."""

    name = "flaky"

    def result(self, message: OutboundMessage) -> SendResult:
        if message.address.endswith("0"):
            return SendResult(message.delivery_id, Outcome.PERMANENT, code="21211", text="invalid 'To' phone number")
        if message.attempt == 1:
            return SendResult(message.delivery_id, Outcome.TRANSIENT, code="429", text="too many requests")
        return super().result(message)


def register() -> None:
    for adapter in (CountingAdapter, FlakyAdapter):
        ADAPTERS[adapter.name] = adapter


def sent_counts(connection: Redis) -> dict[int, int]:
    return {int(key): int(value) for key, value in connection.hgetall(SENT_KEY).items()}
