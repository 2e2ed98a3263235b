"""One contract suite for every RateLimiter; Redis runs at 127.0.0.1:6379 (skipped if absent, failed under CI=true)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from limelight.errors import NotReady, RateLimited
from limelight.serving.ratelimit import (
    InProcessRateLimiter,
    Limit,
    RateLimiter,
    RedisRateLimiter,
    enforce,
    key_and_org_limits,
)

REDIS_URL = os.environ.get("LIMELIGHT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

Body = Callable[[RateLimiter], Awaitable[None]]


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


class Harness:
    """Runs a test body against a fresh limiter of one kind, in its own event loop; ``elapse`` lets
    time pass for a bucket without waiting: the in-process limiter's clock is moved, and a Redis
    bucket's last-refill time (the script reads Redis's own clock) is moved back by as much."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.now = [1000.0]
        self.limiter: Any = None

    def __call__(self, body: Body) -> None:
        async def main() -> None:
            if self.kind == "in_process":
                self.limiter = InProcessRateLimiter(clock=lambda: self.now[0])
            else:
                # fail closed here: a timeout must fail the test, not quietly allow a request
                self.limiter = RedisRateLimiter.from_url(
                    REDIS_URL, prefix=f"limelight-test:{uuid.uuid4().hex}:", fail_open=False, timeout_s=5.0
                )
            try:
                await body(self.limiter)
            finally:
                if isinstance(self.limiter, RedisRateLimiter):
                    keys = [k async for k in self.limiter._client.scan_iter(match=self.limiter._prefix + "*")]
                    if keys:
                        await self.limiter._client.delete(*keys)
                await self.limiter.close()

        asyncio.run(main())

    async def elapse(self, bucket_key: str, seconds: float) -> None:
        if self.kind == "in_process":
            self.now[0] += seconds
        else:
            await self.limiter._client.hincrbyfloat(self.limiter._prefix + bucket_key, "at", -seconds)


@pytest.fixture(params=["in_process", "redis"])
def run(request: pytest.FixtureRequest) -> Harness:
    if request.param == "redis" and not _redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI=true but {REDIS_URL} is unreachable")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    return Harness(request.param)


def test_burst_then_refused_with_retry_after(run: Harness) -> None:
    async def body(limiter: RateLimiter) -> None:
        results = [await limiter.check("k", 10.0, 5) for _ in range(6)]
        assert [r.allowed for r in results] == [True] * 5 + [False]
        assert all(r.retry_after_s == 0 for r in results[:5])
        assert 0.05 < results[5].retry_after_s <= 0.1 + 1e-6

    run(body)


def test_tokens_come_back_at_the_rate(run: Harness) -> None:
    async def body(limiter: RateLimiter) -> None:
        for _ in range(3):
            assert (await limiter.check("k", 20.0, 3)).allowed
        assert not (await limiter.check("k", 20.0, 3)).allowed
        await run.elapse("k", 0.11)  # 2.2 tokens back
        allowed = [(await limiter.check("k", 20.0, 3)).allowed for _ in range(3)]
        assert allowed == [True, True, False]
        await run.elapse("k", 60.0)  # long idle: the bucket refills to the burst, never beyond
        allowed = [(await limiter.check("k", 20.0, 3)).allowed for _ in range(4)]
        assert allowed == [True, True, True, False]

    run(body)


def test_buckets_are_independent(run: Harness) -> None:
    async def body(limiter: RateLimiter) -> None:
        assert (await limiter.check("a", 1.0, 1)).allowed
        assert not (await limiter.check("a", 1.0, 1)).allowed
        assert (await limiter.check("b", 1.0, 1)).allowed

    run(body)


def test_concurrent_checks_never_exceed_the_burst(run: Harness) -> None:
    async def body(limiter: RateLimiter) -> None:
        results = await asyncio.gather(*(limiter.check("hot", 0.01, 10) for _ in range(40)))
        assert sum(r.allowed for r in results) == 10

    run(body)


def test_enforce_names_the_refusing_scope(run: Harness) -> None:
    async def body(limiter: RateLimiter) -> None:
        def limits(key_id: str) -> list[Limit]:
            return [Limit(f"key:{key_id}", 1.0, 2, "key"), Limit("org:o1", 0.01, 3, "org")]

        await enforce(limiter, limits("k1"))
        await enforce(limiter, limits("k1"))
        with pytest.raises(RateLimited) as info:
            await enforce(limiter, limits("k1"))
        assert info.value.details["scope"] == "key" and 0 < info.value.retry_after_s <= 1.0
        assert info.value.headers() == {"Retry-After": "1"}
        await enforce(limiter, limits("k2"))  # same org, another key: the org has one token left
        with pytest.raises(RateLimited) as info:
            await enforce(limiter, limits("k3"))
        assert info.value.details["scope"] == "org" and info.value.retry_after_s > 10

    run(body)


def test_invalid_rates_are_refused(run: Harness) -> None:
    async def body(limiter: RateLimiter) -> None:
        for rate, burst in ((0.0, 1), (-1.0, 5), (1.0, 0)):
            with pytest.raises(ValueError):
                await limiter.check("k", rate, burst)

    run(body)


def test_zero_rates_disable_limits() -> None:
    limits = key_and_org_limits(key_id="k", org_id="o", per_key_per_s=0, per_org_per_s=5, burst=3)
    assert [(x.bucket_key, x.scope) for x in limits] == [("org:o", "org")]
    both = key_and_org_limits(key_id="k", org_id="o", per_key_per_s=1, per_org_per_s=5, burst=3)
    assert [x.scope for x in both] == ["key", "org"]
    assert key_and_org_limits(key_id="k", org_id="o", per_key_per_s=0, per_org_per_s=0, burst=3) == []


def test_in_process_refill_with_a_fake_clock_and_pruning() -> None:
    now = [100.0]
    limiter = InProcessRateLimiter(clock=lambda: now[0], max_buckets=10)
    assert limiter.check_now("k", 2.0, 1).allowed
    decision = limiter.check_now("k", 2.0, 1)
    assert not decision.allowed and decision.retry_after_s == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.check_now("k", 2.0, 1).allowed
    for i in range(50):
        limiter.check_now(f"b{i}", 2.0, 5)
    assert len(limiter._buckets) <= 10
    assert "b49" in limiter._buckets  # the most recent buckets survive pruning


def test_redis_keys_expire_and_outage_policy() -> None:
    async def main() -> None:
        if _redis_reachable():
            limiter = RedisRateLimiter.from_url(REDIS_URL, prefix=f"limelight-test:{uuid.uuid4().hex}:")
            await limiter.check("k", 10.0, 5)
            ttl_ms = await limiter._client.pttl(limiter._prefix + "k")
            assert 0 < ttl_ms <= 1500
            await limiter._client.delete(limiter._prefix + "k")
            await limiter.close()
        down_open = RedisRateLimiter.from_url("redis://127.0.0.1:1/0")
        down_closed = RedisRateLimiter.from_url("redis://127.0.0.1:1/0", fail_open=False)
        async with asyncio.timeout(3):  # an unreachable Redis is decided at once, never waited on
            assert (await down_open.check("k", 1.0, 1)).allowed  # fail open by default
            with pytest.raises(NotReady):
                await down_closed.check("k", 1.0, 1)
        await down_open.close()
        await down_closed.close()

    asyncio.run(main())
