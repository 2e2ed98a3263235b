"""Default rate limits on the management API: on unless turned off explicitly, per key, 429 with
Retry-After, shared across API processes through Redis."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from limelight.config import Settings
from limelight.server.api_limits import build_api_limits
from tests.support.factories import error_code, new_tenant
from tests.support.live_server import LiveServer, start_live_server

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def test_limits_are_on_by_default_and_off_only_explicitly(tmp_path):
    defaults = Settings(home=tmp_path)
    assert defaults.limits.rate_limit_per_key_per_s == 10_000 and defaults.limits.api_rate_limit_per_key_per_s == 100
    assert build_api_limits(defaults).limiter is not None
    off = Settings(home=tmp_path, limits={"api_rate_limit_per_key_per_s": 0})
    assert build_api_limits(off).limiter is None


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("api-limits")
    live = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0",
                             LIMELIGHT_LIMITS__API_RATE_LIMIT_PER_KEY_PER_S="0.5",
                             LIMELIGHT_LIMITS__API_RATE_LIMIT_BURST="20")
    try:
        yield live
    finally:
        live.stop()


def test_a_key_over_its_management_limit_gets_429_with_retry_after(tight_server):
    tenant = new_tenant(tight_server)  # its own key, with a full bucket of 20
    with tenant.client() as client:
        statuses = [client.get("/api/v1/whoami").status_code for _ in range(25)]
        refused = client.get("/api/v1/whoami")
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}, statuses
    assert error_code(refused) == "rate_limited" and int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["details"]["scope"] == "key"
    other = new_tenant(tight_server)
    with other.client() as client:  # another key has its own bucket
        assert client.get("/api/v1/whoami").status_code == 200
    assert httpx.get(f"{tight_server.url}/healthz", timeout=10).status_code == 200


@pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable at 127.0.0.1:6379")
def test_management_limits_are_shared_across_processes_through_redis(tmp_path_factory):
    home = tmp_path_factory.mktemp("api-limits-redis")
    rate, burst = 1.0, 25
    live = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_SERVER__WORKERS="2",
                             LIMELIGHT_WORKER__PROCESSES="0", LIMELIGHT_REDIS_URL=REDIS_URL,
                             LIMELIGHT_LIMITS__API_RATE_LIMIT_PER_KEY_PER_S=str(rate),
                             LIMELIGHT_LIMITS__API_RATE_LIMIT_BURST=str(burst))
    try:
        tenant = new_tenant(live)
        started = time.monotonic()

        def fresh_connection_get(_: int) -> int:  # the kernel spreads new connections over both processes
            return httpx.get(f"{live.url}/api/v1/whoami", headers={"Authorization": f"Bearer {tenant.key}"},
                             timeout=30).status_code

        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(fresh_connection_get, range(60)))
        elapsed_s = time.monotonic() - started
    finally:
        live.stop()
    served = statuses.count(200)
    assert served + statuses.count(429) == 60
    # one bucket for both processes: the burst plus the refill (two buckets would allow about twice)
    assert burst <= served <= burst + rate * elapsed_s + 1, (served, elapsed_s)
