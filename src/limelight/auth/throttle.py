"""Sign-in throttling per account and per client address, with exponential backoff.

Each failed sign-in counts against two keys: the account (the submitted username, hashed, whether or
not such a user exists, so a lock reveals nothing about which names are real) and the client
address. After ``free_failures`` in a row a key is locked for ``base_s``, and each further failure
doubles the lock up to ``max_s``; while locked, sign-in answers 429 ``login_throttled`` with
``Retry-After`` before any password is checked. A success clears the account's count (not the
address's: one valid account must not reset an address that guesses at others). Counts are
forgotten ``memory_s`` after the last failure.

Where counts live decides whether several API processes share them: Redis when ``redis_url`` is
set, else the metadata database (``login_failures``), which every process of one install shares.
Sign-in is rare, so one small write per failure costs nothing that matters.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from limelight.config import Settings
from limelight.db.models import LoginFailure
from limelight.db.session import Database
from limelight.errors import NotReady


@dataclass(frozen=True)
class BackoffPolicy:
    free_failures: int
    base_s: float
    max_s: float

    def lock_s(self, failures: int) -> float:
        """How long a key stays locked after its ``failures``-th failure in a row."""
        over = failures - self.free_failures
        if over <= 0:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(over - 1, 62))


@dataclass(frozen=True)
class ThrottleKey:
    scope: str  # "account" or "address"
    key: str
    policy: BackoffPolicy


@dataclass(frozen=True)
class Failure:
    scope: str
    failures: int
    lock_s: float


class FailureStore(Protocol):
    def locked_for_s(self, keys: Sequence[str], now: float) -> float:
        """Seconds until every one of ``keys`` is unlocked (0 when none is locked)."""
        ...

    def record(self, key: str, policy: BackoffPolicy, memory_s: float, now: float) -> tuple[int, float]:
        """Count one failure; returns (failures in a row, lock seconds from now)."""
        ...

    def clear(self, key: str) -> None: ...


class LoginThrottle:
    def __init__(self, store: FailureStore, *, account: BackoffPolicy, address: BackoffPolicy, memory_s: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.account = account
        self.address = address
        self.memory_s = memory_s
        self.clock = clock

    def keys(self, username: str, client_addr: str | None) -> list[ThrottleKey]:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:40]
        keys = [ThrottleKey("account", f"account:{digest}", self.account)]
        if client_addr:
            keys.append(ThrottleKey("address", f"address:{client_addr[:64]}", self.address))
        return keys

    def wait_s(self, keys: Sequence[ThrottleKey]) -> float:
        return self.store.locked_for_s([k.key for k in keys], self.clock())

    def failed(self, keys: Sequence[ThrottleKey]) -> list[Failure]:
        now = self.clock()
        return [Failure(k.scope, *self.store.record(k.key, k.policy, self.memory_s, now)) for k in keys]

    def succeeded(self, keys: Sequence[ThrottleKey]) -> None:
        for key in keys:
            if key.scope == "account":
                self.store.clear(key.key)


class DatabaseFailureStore:
    """Counts in the ``login_failures`` table: shared by every API process of the install."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def locked_for_s(self, keys: Sequence[str], now: float) -> float:
        with self._db.transaction(write=False) as session:
            until = session.scalar(select(LoginFailure.locked_until).where(LoginFailure.key.in_(list(keys)))
                                   .order_by(LoginFailure.locked_until.desc()).limit(1))
        return max(0.0, (until or 0.0) - now)

    def record(self, key: str, policy: BackoffPolicy, memory_s: float, now: float) -> tuple[int, float]:
        with self._db.transaction() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            fresh = insert(LoginFailure).values(key=key, failures=1, last_failure_at=now, locked_until=0.0)
            # an old streak (nothing for memory_s) starts again at one
            stale = fresh.excluded.last_failure_at - LoginFailure.last_failure_at > memory_s
            statement = fresh.on_conflict_do_update(
                index_elements=["key"],
                set_={"failures": case((stale, 1), else_=LoginFailure.failures + 1), "last_failure_at": now},
            ).returning(LoginFailure.failures)
            failures = int(session.execute(statement).scalar_one())
            lock_s = policy.lock_s(failures)
            if lock_s > 0:
                session.execute(update(LoginFailure).where(LoginFailure.key == key).values(locked_until=now + lock_s))
        return failures, lock_s

    def clear(self, key: str) -> None:
        with self._db.transaction() as session:
            session.execute(delete(LoginFailure).where(LoginFailure.key == key))


# KEYS[1] the counter; ARGV now, memory_s, free, base_s, max_s. Returns {failures, lock_s as a string}.
_RECORD_LUA = """
local now = tonumber(ARGV[1])
local memory = tonumber(ARGV[2])
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if now - last > memory then failures = 0 end
failures = failures + 1
local over = failures - tonumber(ARGV[3])
local lock = 0
if over > 0 then lock = math.min(tonumber(ARGV[5]), tonumber(ARGV[4]) * 2 ^ math.min(over - 1, 62)) end
redis.call('HSET', KEYS[1], 'failures', failures, 'last', string.format('%.6f', now),
           'until', string.format('%.6f', now + lock))
redis.call('EXPIRE', KEYS[1], math.ceil(math.max(memory, lock)) + 1)
return {failures, string.format('%.6f', lock)}
"""


class RedisFailureStore:
    """Counts in Redis (one hash per key, expiring): shared by every API process on that Redis."""

    def __init__(self, client: Any, *, prefix: str = "limelight:login:") -> None:
        self._client = client
        self._prefix = prefix
        self._record = client.register_script(_RECORD_LUA)

    @classmethod
    def from_url(cls, url: str) -> RedisFailureStore:
        import redis

        return cls(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0))

    def locked_for_s(self, keys: Sequence[str], now: float) -> float:
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.hget(self._prefix + key, "until")
        with _unreachable_is_not_ready():
            untils = [float(value) for value in pipe.execute() if value is not None]
        return max([0.0, *(until - now for until in untils)])

    def record(self, key: str, policy: BackoffPolicy, memory_s: float, now: float) -> tuple[int, float]:
        with _unreachable_is_not_ready():
            failures, lock_s = self._record(keys=[self._prefix + key], args=[
                now, memory_s, policy.free_failures, policy.base_s, policy.max_s])
        return int(failures), float(lock_s)

    def clear(self, key: str) -> None:
        with _unreachable_is_not_ready():
            self._client.delete(self._prefix + key)

    def close(self) -> None:
        self._client.close()


@contextmanager
def _unreachable_is_not_ready() -> Iterator[None]:
    """Sign-in fails closed (503) when its counters cannot be read or written: never unthrottled."""
    import redis

    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise NotReady("Sign-in is unavailable: its throttling store is unreachable.",
                       details={"component": "redis"}) from exc


def build_login_throttle(settings: Settings, db: Database) -> LoginThrottle:
    limits = settings.limits
    store: FailureStore = RedisFailureStore.from_url(settings.redis_url) if settings.redis_url else \
        DatabaseFailureStore(db)
    return LoginThrottle(
        store,
        account=BackoffPolicy(limits.login_free_failures_per_account, limits.login_backoff_base_s,
                              limits.login_backoff_max_s),
        address=BackoffPolicy(limits.login_free_failures_per_address, limits.login_backoff_base_s,
                              limits.login_backoff_max_s),
        memory_s=limits.login_failure_memory_s,
    )
