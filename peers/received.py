"""What every peer shares: the record of one message as it reached the gateway, and the failures a test
can ask a peer to play (`peer.fail(mode)`; "none" restores it)."""
from __future__ import annotations

from dataclasses import dataclass, field

FAILURE_MODES = ("none", "slow", "5xx", "429", "timeout", "drop")


@dataclass(frozen=True)
class Received:
    """One message as the peer saw it arrive."""

    address: str
    texts: tuple[str, ...]
    extra: dict = field(default_factory=dict)
