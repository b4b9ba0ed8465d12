"""The one interface every channel adapter implements.

An adapter hides one gateway's protocol. It sends a batch and answers one
result per message; it never retries, waits for rate limits or fails over:
the fan-out does that, the same way for every channel.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, NamedTuple


class Outcome(str, enum.Enum):
    ACCEPTED = "accepted"    # the gateway took it (delivery receipts may follow)
    TRANSIENT = "transient"  # try again later (throttled, 5xx, timeout, card busy)
    PERMANENT = "permanent"  # will never work (bad number, no permission)


@dataclass(frozen=True)
class AlertContent:
    """What a gateway may need of the alert besides the text (broadcast platforms want the fields)."""

    alert_id: int
    identifier: str
    sender: str
    status: str       # Actual, Exercise, Test
    msg_type: str     # Alert, Update, Cancel
    hazard_code: str | None
    level: str | None
    event: str | None
    onset: datetime | None
    expires: datetime | None
    sent: datetime
    county_codes: tuple[str, ...]
    township_codes: tuple[str, ...] = ()
    references: tuple[str, ...] = ()  # "sender,identifier,sent" of the alerts an Update or Cancel acts on
    # The rendered text of this channel by language ("bo", "zh"): title and body.
    titles: Mapping[str, str] = field(default_factory=dict)
    bodies: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    delivery_id: int
    address: str                 # E.164 phone, platform URL, or BeiDou card address
    texts: tuple[str, ...]       # the messages to send, in order (one per language, or one combined)
    content: AlertContent
    attempt: int = 1
    secret: str | None = field(default=None, repr=False)  # the target's own key (a broadcast platform's), never logged
    county_code: str | None = None  # the county the target serves (a broadcast platform's own recordings)
    failover_address: str | None = None  # the same gateway's second way in, tried at once when the first fails


class SendResult(NamedTuple):
    """A named tuple, not a frozen dataclass: a fan-out builds one per delivery, and a tuple is built in a
    quarter of the time (2.5% of a null-gateway worker's time went to building the dataclass)."""

    delivery_id: int
    outcome: Outcome
    gateway_id: str | None = None  # the gateway's own id (Twilio SID, receipt id)
    code: str | None = None        # the gateway's code, as it gave it
    text: str | None = None        # and its words
    retry_after: float | None = None  # seconds, when the gateway said so


@dataclass(frozen=True)
class Capabilities:
    max_batch: int                   # messages per send_batch call
    rate_per_second: float | None    # shared by every worker; None = unlimited
    rate_key: str                    # what the rate applies to (account, sender, card)
    burst: int = 1                   # messages that may go at once before the rate applies


class ChannelAdapter(ABC):
    """A gateway for one or more channels. Instances are built from the app's settings."""

    name: ClassVar[str]
    channels: ClassVar[frozenset[str]]

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = settings

    @classmethod
    def carries(cls, channel: str) -> bool:
        """Whether this gateway can carry the channel (by its name)."""
        return channel in cls.channels

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Send every message; answer exactly one result per message, in any order. Never raises
        for a gateway's failure: that is a TRANSIENT or PERMANENT result."""

    def cost(self, message: OutboundMessage) -> int:
        """Rate tokens the message takes, in the unit the gateway's rate counts (Twilio: segments)."""
        return 1

    def check(self) -> str:
        """Reach the gateway without sending anything (card info, an authenticated no-op) and
        say what works; raise GatewayUnavailable with the reason when it does not."""
        return f"{self.name}: nothing to reach"


class GatewayUnavailable(Exception):
    """`check()` could not reach or use the gateway; the message says why."""
