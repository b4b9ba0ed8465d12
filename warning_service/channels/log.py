"""The log gateway: records what it would send, for development and the demo without gateways."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from .base import Capabilities, ChannelAdapter, OutboundMessage, Outcome, SendResult

logger = logging.getLogger("warning_service.channels.log")


class LogAdapter(ChannelAdapter):
    name = "log"
    channels = frozenset()

    @classmethod
    def carries(cls, channel: str) -> bool:
        return True  # any channel

    def capabilities(self) -> Capabilities:
        return Capabilities(max_batch=1_000, rate_per_second=None, rate_key="log")

    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        for message in messages:
            logger.info(
                "would send alert=%s delivery=%s to=%s texts=%r",
                message.content.alert_id, message.delivery_id, message.address, message.texts,
                extra={"alert_id": message.content.alert_id, "delivery_id": message.delivery_id},
            )
        return [SendResult(message.delivery_id, Outcome.ACCEPTED, gateway_id=f"log-{message.delivery_id}") for message in messages]
