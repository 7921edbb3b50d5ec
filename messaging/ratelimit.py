"""Per-sender-number send rate limits, shared by every worker process.

A GCRA with no burst: each call reserves the next free slot for a key, slots exactly 1/rate seconds apart, and the
caller sleeps until its slot. With Redis the slots live there, timed by the Redis server's clock, so workers on any
machine draw from one schedule; without Redis (the single-process local setup) they live in this process.

Replies go first: a bulk (campaign) reservation is made only when the next free slot is at most `horizon` seconds
away, so bulk senders never book the schedule more than that far ahead, and a reply, which may book any slot, takes
the first one after them, ahead of every campaign send still waiting. Both lanes draw from the one schedule, so the
rate holds whoever sends.
"""

import functools
import math
import threading
import time

import redis
from django.conf import settings

# Keeps the TAT ("theoretical arrival time": when the next slot is free) in microseconds of the Redis server clock.
# Lua numbers are doubles, exact for integers up to 2**53 µs (~285 years of epoch time); "%.0f" stores them in full,
# where Lua's default number-to-string conversion would round them to 14 significant digits.
# Redis < 5 must be told to replicate the script's writes rather than the script, which reads the clock;
# later versions do that anyway and keep the call as a no-op.
_RESERVE_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local margin_ms = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local slot = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
if horizon >= 0 and slot - now > horizon then
  return {0, slot - now}
end
local tat = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + margin_ms)
return {1, slot - now}
"""

# The key outlives its TAT by this much; once the TAT has passed, an absent key means the same thing (slot = now).
_EXPIRY_MARGIN_MS = 1000
# A hung Redis must fail the send (it is retried later) instead of blocking the worker until the task time limit.
# Timeouts given in the URL's query string take precedence.
_SOCKET_TIMEOUT_SECONDS = 5.0


class SlotTooFar(Exception):
    """No slot was reserved: the next free one is further away than the caller's horizon. `wait` says how far."""

    def __init__(self, wait: float):
        super().__init__(f"the next free slot is {wait:.3f}s away")
        self.wait = wait


def _interval_seconds(rate_per_second: float) -> float:
    try:
        rate = float(rate_per_second)
    except (TypeError, ValueError):
        rate = math.nan
    if not (rate > 0 and math.isfinite(rate)):
        raise ValueError(
            f"rate_per_second must be a positive, finite number of messages per second, got {rate_per_second!r}"
        )
    return 1.0 / rate


class RedisRateLimiter:
    """Slots shared by all processes through one Redis key per rate-limited key, timed by the Redis server clock."""

    def __init__(self, url: str, *, prefix: str = "nextalerts:rate:"):
        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url, socket_timeout=_SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=_SOCKET_TIMEOUT_SECONDS
        )
        self._reserve = self.client.register_script(_RESERVE_LUA)

    def reserve(self, key: str, rate_per_second: float, *, horizon: float | None = None) -> float:
        """Reserve the next free slot for `key`; returns the seconds until it (>= 0). With a `horizon`, raises
        SlotTooFar instead of reserving a slot further away than that. Redis errors propagate."""
        # Rounded up, so that rounding can only make sending slower than the rate, never faster.
        interval_us = math.ceil(_interval_seconds(rate_per_second) * 1_000_000)
        horizon_us = -1 if horizon is None else max(0, math.floor(horizon * 1_000_000))
        granted, wait_us = self._reserve(keys=[self.prefix + key], args=[interval_us, _EXPIRY_MARGIN_MS, horizon_us])
        if not int(granted):
            raise SlotTooFar(int(wait_us) / 1_000_000)
        return int(wait_us) / 1_000_000


class LocalRateLimiter:
    """The same slots, kept in this process: enough when a single process sends (no Redis configured)."""

    # Past this many keys, a reservation first forgets the keys whose TAT has passed (as Redis expires them).
    _PRUNE_ABOVE = 1024

    def __init__(self, *, clock=time.monotonic):
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}
        self._clock = clock

    def reserve(self, key: str, rate_per_second: float, *, horizon: float | None = None) -> float:
        """Reserve the next free slot for `key`; returns the seconds until it (>= 0). With a `horizon`, raises
        SlotTooFar instead of reserving a slot further away than that."""
        interval = _interval_seconds(rate_per_second)
        with self._lock:
            now = self._clock()
            if len(self._tat) > self._PRUNE_ABOVE:
                self._tat = {k: tat for k, tat in self._tat.items() if tat > now}
            slot = max(self._tat.get(key, now), now)
            if horizon is not None and slot - now > horizon:
                raise SlotTooFar(slot - now)
            self._tat[key] = slot + interval
        return slot - now


_local_limiter = LocalRateLimiter()


@functools.cache
def _redis_limiter(url: str) -> RedisRateLimiter:
    return RedisRateLimiter(url)


def get_limiter() -> RedisRateLimiter | LocalRateLimiter:
    """The Redis limiter for settings.REDIS_URL (one per URL, reusing its connections), else the process-wide one."""
    if settings.REDIS_URL:
        return _redis_limiter(settings.REDIS_URL)
    return _local_limiter


def acquire(key: str, rate_per_second: float, *, horizon: float | None = None, sleep=None) -> float:
    """Reserve a slot and sleep until it; returns the seconds waited. With a `horizon` (bulk sends), raises
    SlotTooFar, reserving nothing and sleeping not at all, when the next free slot is further away than that."""
    wait = get_limiter().reserve(key, rate_per_second, horizon=horizon)
    if wait > 0:
        (sleep or time.sleep)(wait)
    return wait
