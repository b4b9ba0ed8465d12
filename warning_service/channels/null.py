"""The null gateway: accepts everything and sends nothing. For benchmarks of the fan-out itself."""
from __future__ import annotations

from collections.abc import Sequence

from .base import Capabilities, ChannelAdapter, OutboundMessage, Outcome, SendResult


class NullAdapter(ChannelAdapter):
    name = "null"
    channels = frozenset()

    @classmethod
    def carries(cls, channel: str) -> bool:
        return True  # any channel

    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch=10_000, rate_per_second=None, rate_key="null")

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        return [SendResult(message.delivery_id, Outcome.ACCEPTED) for message in messages]
