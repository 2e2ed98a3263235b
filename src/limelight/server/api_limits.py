"""Rate limits of the management API (``/api/v1``), on by default, per API key or signed-in user.

Generous (``limits.api_rate_limit_per_key_per_s``, 100/s with a burst of 1,000 by default) so no
script or console notices them, but a runaway client or a stolen key cannot hammer the metadata
database. ``0`` turns them off, explicitly. Buckets live in Redis when ``redis_url`` is set, so
every API process shares one budget per key; without Redis each process keeps its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from limelight.auth.principal import Principal
from limelight.config import Settings
from limelight.serving.ratelimit import (
    BlockingRedisRateLimiter,
    InProcessRateLimiter,
    Limit,
    SyncRateLimiter,
    enforce_now,
)

MANAGEMENT_PREFIX = "/api/"


@dataclass
class ApiLimits:
    limiter: SyncRateLimiter | None  # None: limits off
    per_key_per_s: float
    burst: int

    def check(self, principal: Principal) -> None:
        """429 with Retry-After once the caller's bucket is empty."""
        if self.limiter is None:
            return
        caller = principal.key_id or f"user:{principal.user_id}"
        enforce_now(self.limiter, [Limit(f"api:{caller}", self.per_key_per_s, self.burst, "key")])

    def close(self) -> None:
        if isinstance(self.limiter, BlockingRedisRateLimiter):
            self.limiter.close()


def build_api_limits(settings: Settings) -> ApiLimits:
    rate, burst = settings.limits.api_rate_limit_per_key_per_s, settings.limits.api_rate_limit_burst
    if rate <= 0:
        return ApiLimits(None, rate, burst)
    limiter: SyncRateLimiter = (BlockingRedisRateLimiter.from_url(settings.redis_url) if settings.redis_url
                                else InProcessRateLimiter())
    return ApiLimits(limiter, rate, burst)
