"""Sign-in throttling: per account and per client address, exponential backoff, 429 + Retry-After,
an audit entry, the same answer for unknown users, counters shared across API processes."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from limelight.auth.throttle import BackoffPolicy, DatabaseFailureStore, LoginThrottle, RedisFailureStore
from tests.support.factories import error_code, ok, unique
from tests.support.live_server import ADMIN_PASSWORD, LiveServer, start_live_server

REDIS_URL = "redis://127.0.0.1:6379/0"
ACCOUNT = BackoffPolicy(free_failures=5, base_s=2.0, max_s=900.0)
ADDRESS = BackoffPolicy(free_failures=30, base_s=2.0, max_s=900.0)


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["database", "redis"])
def throttle(request, database) -> Iterator[tuple[LoginThrottle, Clock]]:  # type: ignore[no-untyped-def]
    clock = Clock()
    if request.param == "redis":
        if not _redis_up():
            pytest.skip("Redis is not reachable")
        store = RedisFailureStore.from_url(REDIS_URL)
        store._prefix = f"limelight:test-login:{unique('t')}:"  # this test's keys only
    else:
        store = DatabaseFailureStore(database)
    yield LoginThrottle(store, account=ACCOUNT, address=ADDRESS, memory_s=3600, clock=clock), clock


def test_backoff_doubles_after_the_free_failures_up_to_the_cap():
    locks = [ACCOUNT.lock_s(n) for n in range(1, 16)]
    assert locks[:5] == [0, 0, 0, 0, 0]
    assert locks[5:] == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900]


def test_an_account_locks_after_five_failures_and_each_failure_doubles_the_lock(throttle):
    throttle_, clock = throttle
    keys = throttle_.keys("Alice", "10.0.0.1")
    waits = []
    for _ in range(9):
        assert throttle_.wait_s(keys) == 0  # every lock is waited out before the next try
        throttle_.failed(keys)
        waits.append(throttle_.wait_s(keys))
        clock.now += waits[-1]
    assert waits == [0, 0, 0, 0, 0, 2, 4, 8, 16]
    assert throttle_.wait_s(throttle_.keys("alice", "10.0.0.2")) == 0  # same account, any case: unlocked now
    throttle_.failed(keys)
    assert throttle_.wait_s(throttle_.keys("ALICE", "10.9.9.9")) == 32  # the account, from another address


def test_a_success_clears_the_account_but_not_the_address(throttle):
    throttle_, clock = throttle
    for n in range(30):
        throttle_.failed(throttle_.keys(f"user-{n}", "10.0.0.9"))  # one address spraying accounts
    throttle_.failed(throttle_.keys("someone", "10.0.0.9"))
    assert throttle_.wait_s(throttle_.keys("fresh-name", "10.0.0.9")) == 2
    clock.now += 2
    throttle_.succeeded(throttle_.keys("someone", "10.0.0.9"))
    throttle_.failed(throttle_.keys("other", "10.0.0.9"))
    assert throttle_.wait_s(throttle_.keys("fresh-name", "10.0.0.9")) == 4
    assert throttle_.wait_s(throttle_.keys("someone", "10.1.1.1")) == 0


def test_a_streak_is_forgotten_an_hour_after_its_last_failure(throttle):
    throttle_, clock = throttle
    keys = throttle_.keys("bob", "10.0.0.3")
    for _ in range(5):
        throttle_.failed(keys)
    clock.now += 3601
    throttle_.failed(keys)
    assert throttle_.wait_s(keys) == 0


# ---- over HTTP, on servers of their own ------------------------------------------------------------


def _login(url: str, username: str, password: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.post(f"{url}/api/v1/auth/login", json={"username": username, "password": password},
                      headers=headers, timeout=30)


@pytest.fixture(scope="module")
def throttled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Two API processes without Redis: the counters are shared through the database."""
    home = tmp_path_factory.mktemp("login-throttle")
    live = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_SERVER__WORKERS="2",
                             LIMELIGHT_WORKER__PROCESSES="0",
                             LIMELIGHT_LIMITS__LOGIN_FREE_FAILURES_PER_ADDRESS="8",
                             LIMELIGHT_SERVER__FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        yield live
    finally:
        live.stop()


def test_wrong_passwords_get_401_then_429_with_retry_after_and_an_audit_entry(throttled_server, database_rows):
    url, address = throttled_server.url, "198.51.100.7"
    answers = [_login(url, "admin", f"wrong-{n}", address) for n in range(7)]
    statuses = [r.status_code for r in answers]
    assert statuses == [401] * 5 + [401, 429], statuses  # the 6th failure locks; the 7th try is refused
    refused = answers[-1]
    assert error_code(refused) == "login_throttled" and int(refused.headers["retry-after"]) >= 1
    # the right password is refused too while the lock lasts: nothing is checked
    right = _login(url, "admin", ADMIN_PASSWORD, "198.51.100.8")
    assert right.status_code == 429
    rows = database_rows(throttled_server, "SELECT action, object_id, client_addr, details FROM audit_entries "
                                           "WHERE action LIKE 'auth.login_%' AND client_addr = :a ORDER BY seq",
                         a=address)
    assert [r[0] for r in rows] == ["auth.login_failed"] * 5 + ["auth.login_locked"]
    assert all(r[1] == "admin" for r in rows)
    assert "wrong-" not in repr(rows)  # never a password


def test_unknown_users_get_the_same_answers_as_wrong_passwords(throttled_server):
    url, real, nobody = throttled_server.url, unique("real"), unique("nobody")
    with throttled_server.client() as admin:
        ok(admin.post("/api/v1/users", json={"username": real, "password": "pw-" + "y" * 12}))
    known = [_login(url, real, f"guess-{n}", "203.0.113.1") for n in range(7)]
    unknown = [_login(url, nobody, f"guess-{n}", "203.0.113.2") for n in range(7)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401] * 6 + [429]
    assert [r.json()["error"] for r in known][0]["message"] == unknown[0].json()["error"]["message"]
    assert {error_code(r) for r in known[-1:] + unknown[-1:]} == {"login_throttled"}
    assert known[-1].headers["retry-after"] == unknown[-1].headers["retry-after"]


def test_one_address_spraying_accounts_is_throttled_by_address(throttled_server):
    url, address = throttled_server.url, "192.0.2.44"
    statuses = [_login(url, unique("spray"), "guess", address).status_code for _ in range(10)]
    assert statuses[:8] == [401] * 8 and statuses[9] == 429, statuses
    assert _login(url, unique("spray"), "guess", "192.0.2.45").status_code == 401  # another address


def test_forwarded_for_is_ignored_unless_proxies_are_configured(server, database_rows):
    """The shared test server trusts no proxy: a rotating X-Forwarded-For neither dodges the account
    lock nor becomes the audited address."""
    name = unique("rotating")
    statuses = [_login(server.url, name, "guess", f"203.0.113.{n}").status_code for n in range(7)]
    assert statuses == [401] * 6 + [429]
    spoofed = database_rows(server, "SELECT count(*) FROM audit_entries WHERE client_addr LIKE '203.0.113.%'")
    assert spoofed[0][0] == 0


@pytest.mark.skipif(not _redis_up(), reason="Redis is not reachable at 127.0.0.1:6379")
def test_counters_are_shared_across_processes_through_redis(tmp_path_factory):
    home = tmp_path_factory.mktemp("login-throttle-redis")
    live = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_SERVER__WORKERS="2",
                             LIMELIGHT_WORKER__PROCESSES="0",
                             LIMELIGHT_REDIS_URL=REDIS_URL)
    try:
        name = unique("shared")
        # a new connection per try, so the kernel spreads them over both processes
        statuses = [_login(live.url, name, "guess").status_code for _ in range(7)]
        assert statuses == [401] * 6 + [429], statuses
        assert ok(_login(live.url, "admin", ADMIN_PASSWORD))["username"] == "admin"
    finally:
        live.stop()
