"""Rate limits shared by every worker: a token bucket per gateway account, sender or BeiDou card, in Redis.

A worker never sleeps on a limit (that would keep it from an earthquake
warning queued behind): it takes the tokens there are and hands the rest back
to be sent when the bucket refills.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

# KEYS[1] bucket; ARGV: rate per second, burst, tokens wanted, and the time in seconds if the caller
# keeps the clock. Otherwise Redis's own clock, so workers on machines whose clocks disagree share one truth.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = tonumber(ARGV[4])
if not t then
  local now = redis.call('TIME')
  t = tonumber(now[1]) + tonumber(now[2]) / 1e6
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - at) * rate)
local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', t)
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
local wait = 0
if granted < wanted then wait = (1 - (tokens - math.floor(tokens))) / rate end
return {granted, tostring(wait)}
"""


@dataclass(frozen=True)
class Grant:
    granted: int
    wait_seconds: float  # until the next token, when fewer were granted than wanted


class RateLimiter:
    """`clock` (seconds): None in the service, where Redis's clock is the one every worker shares; a test
    passes its own, to see a bucket refill without waiting on the wall clock."""

    def __init__(self, connection: Redis, prefix: str = "ews:rate:", clock: Callable[[], float] | None = None):
        self._take = connection.register_script(_TAKE)
        self._prefix = prefix
        self._clock = clock

    def take(self, key: str, wanted: int, rate_per_second: float | None, burst: int = 1) -> Grant:
        if rate_per_second is None or wanted == 0:
            return Grant(wanted, 0.0)
        args = [rate_per_second, max(burst, 1), wanted] + ([self._clock()] if self._clock is not None else [])
        granted, wait = self._take(keys=[self._prefix + key], args=args)
        return Grant(int(granted), float(wait))
