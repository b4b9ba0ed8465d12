"""When to try a transiently failed delivery again: exponential back-off with full jitter."""
from __future__ import annotations

import random


def backoff_seconds(attempt: int, base: float, cap: float, retry_after: float | None = None,
                    rng: random.Random | None = None) -> float:
    """Delay before attempt `attempt + 1`.

    Full jitter (a random delay up to base * 2^(attempt-1), capped) spreads the
    retries of many workers so they do not hit a recovering gateway together. A
    gateway's own Retry-After is a floor.
    """
    ceiling = min(cap, base * (2 ** max(attempt - 1, 0)))
    delay = (rng or random).uniform(0, ceiling)
    return max(delay, retry_after or 0.0)
