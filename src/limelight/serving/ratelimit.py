"""Token-bucket rate limits per API key and per org, in process or shared through Redis.

A bucket holds up to ``burst`` tokens and refills at ``rate_per_s``; a request takes one token or
is refused with the time until one is back. Denied requests take nothing. ``InProcessRateLimiter``
limits one API process; ``RedisRateLimiter`` runs the same bucket as one Lua script (atomic, on the
Redis clock), so all replicas share a limit. Both pass one contract suite. The management API checks
its limits from synchronous dependencies: ``check_now`` of the in-process limiter, or
``BlockingRedisRateLimiter`` (the same script on a blocking client).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from limelight.errors import NotReady, RateLimited

__all__ = [
    "BlockingRedisRateLimiter",
    "InProcessRateLimiter",
    "Limit",
    "RateDecision",
    "RateLimiter",
    "RedisRateLimiter",
    "enforce",
    "enforce_now",
    "key_and_org_limits",
]

log = logging.getLogger(__name__)


class RateDecision(NamedTuple):
    allowed: bool
    retry_after_s: float  # 0 when allowed


class RateLimiter(Protocol):
    async def check(self, bucket_key: str, rate_per_s: float, burst: int) -> RateDecision:
        """Take one token from ``bucket_key`` if there is one."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Limit:
    bucket_key: str
    rate_per_s: float
    burst: int
    scope: str  # "key" or "org": told to the caller when refused


def key_and_org_limits(
    *, key_id: str, org_id: str, per_key_per_s: float, per_org_per_s: float, burst: int
) -> list[Limit]:
    """The limits for one request; a rate of 0 disables that limit (as in ``LimitSettings``)."""
    limits = []  # the key first: a key refused on its own limit does not spend its org's tokens
    if per_key_per_s > 0:
        limits.append(Limit(f"key:{key_id}", per_key_per_s, burst, "key"))
    if per_org_per_s > 0:
        limits.append(Limit(f"org:{org_id}", per_org_per_s, burst, "org"))
    return limits


async def enforce(limiter: RateLimiter, limits: Sequence[Limit]) -> None:
    """Raise ``RateLimited`` (with ``retry_after_s``) at the first limit that refuses."""
    for limit in limits:
        allowed, retry_after_s = await limiter.check(limit.bucket_key, limit.rate_per_s, limit.burst)
        if not allowed:
            raise _refusal(limit, retry_after_s)


class SyncRateLimiter(Protocol):
    def check_now(self, bucket_key: str, rate_per_s: float, burst: int) -> RateDecision: ...


def enforce_now(limiter: SyncRateLimiter, limits: Sequence[Limit]) -> None:
    """``enforce`` for synchronous callers."""
    for limit in limits:
        allowed, retry_after_s = limiter.check_now(limit.bucket_key, limit.rate_per_s, limit.burst)
        if not allowed:
            raise _refusal(limit, retry_after_s)


def _refusal(limit: Limit, retry_after_s: float) -> RateLimited:
    return RateLimited(
        f"rate limit of {limit.rate_per_s:g}/s per {limit.scope} reached",
        retry_after_s=retry_after_s,
        details={"scope": limit.scope, "rate_per_s": limit.rate_per_s, "burst": limit.burst},
    )


def _check_args(rate_per_s: float, burst: int) -> None:
    if rate_per_s <= 0 or burst < 1:
        raise ValueError("rate_per_s must be > 0 and burst >= 1")


class InProcessRateLimiter:
    """Buckets in a dict; idle buckets (full again) are pruned when the dict grows large."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_buckets: int = 100_000) -> None:
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: dict[str, tuple[float, float, float, int]] = {}  # key -> tokens, at, rate, burst
        self._lock = threading.Lock()  # the API may also call from worker threads

    async def check(self, bucket_key: str, rate_per_s: float, burst: int) -> RateDecision:
        return self.check_now(bucket_key, rate_per_s, burst)

    def check_now(self, bucket_key: str, rate_per_s: float, burst: int) -> RateDecision:
        """The same decision without an await (for sync callers)."""
        _check_args(rate_per_s, burst)
        now = self._clock()
        with self._lock:
            tokens, at, _, _ = self._buckets.get(bucket_key, (float(burst), now, rate_per_s, burst))
            tokens = min(float(burst), tokens + max(0.0, now - at) * rate_per_s)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[bucket_key] = (tokens, now, rate_per_s, burst)
            if len(self._buckets) > self._max_buckets:
                self._prune(now)
        return RateDecision(allowed, 0.0 if allowed else (1.0 - tokens) / rate_per_s)

    def _prune(self, now: float) -> None:
        """Forget full buckets; if that is not enough, the least recently used half (amortised O(1))."""
        kept = {
            key: state
            for key, state in self._buckets.items()
            if state[0] + (now - state[1]) * state[2] < state[3]
        }
        half = self._max_buckets // 2
        if len(kept) > half:
            kept = dict(sorted(kept.items(), key=lambda kv: kv[1][1])[-half:])
        self._buckets = kept

    async def close(self) -> None:
        self._buckets.clear()


# KEYS[1] bucket; ARGV rate_per_s, burst. Time comes from Redis so replicas agree. Returns
# {allowed (0/1), retry_after_s as a string} (Lua numbers would be truncated to integers).
_BUCKET_SCRIPT_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, string.format('%.6f', retry)}
"""


class _RedisBuckets:
    """The token-bucket script in Redis, and what an unreachable Redis means: allow (fail open, so a
    limiter outage does not become an API outage) or refuse with 503."""

    def __init__(self, client: Any, *, prefix: str = "limelight:rl:", fail_open: bool = True) -> None:
        self._client = client
        self._prefix = prefix
        self._fail_open = fail_open
        self._script = client.register_script(_BUCKET_SCRIPT_LUA)

    def _unreachable(self, exc: Exception) -> RateDecision:
        if self._fail_open:
            log.warning("rate limiter unreachable, allowing: %s", exc)
            return RateDecision(True, 0.0)
        raise NotReady("the rate limiter is unreachable", details={"component": "redis"}) from exc


class RedisRateLimiter(_RedisBuckets):
    """Shared buckets in Redis (redis-py asyncio). Keys expire once their bucket would be full."""

    @classmethod
    def from_url(
        cls, url: str, *, connect_timeout_s: float = 0.5, timeout_s: float = 1.0, **kwargs: Any
    ) -> RedisRateLimiter:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(
            url, socket_connect_timeout=connect_timeout_s, socket_timeout=timeout_s
        )
        return cls(client, **kwargs)

    async def check(self, bucket_key: str, rate_per_s: float, burst: int) -> RateDecision:
        import redis

        _check_args(rate_per_s, burst)
        try:
            allowed, retry = await self._script(keys=[self._prefix + bucket_key], args=[rate_per_s, burst])
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            return self._unreachable(exc)
        return RateDecision(bool(allowed), float(retry))

    async def close(self) -> None:
        await self._client.aclose()


class BlockingRedisRateLimiter(_RedisBuckets):
    """``RedisRateLimiter`` for synchronous callers (worker threads): the same buckets and script."""

    @classmethod
    def from_url(cls, url: str, *, connect_timeout_s: float = 0.5, timeout_s: float = 1.0,
                 **kwargs: Any) -> BlockingRedisRateLimiter:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=connect_timeout_s, socket_timeout=timeout_s)
        return cls(client, **kwargs)

    def check_now(self, bucket_key: str, rate_per_s: float, burst: int) -> RateDecision:
        import redis

        _check_args(rate_per_s, burst)
        try:
            allowed, retry = self._script(keys=[self._prefix + bucket_key], args=[rate_per_s, burst])
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            return self._unreachable(exc)
        return RateDecision(bool(allowed), float(retry))

    def close(self) -> None:
        self._client.close()
