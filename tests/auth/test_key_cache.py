"""The verified-key cache: expiry from the TTL and from the key's own expiry, revocation, no raw keys."""

from __future__ import annotations

from limelight.auth.cache import KeyCache
from limelight.auth.principal import Principal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _principal(key_id: str) -> Principal:
    return Principal(user_id="u1", username="ann", org_id="o1", org_name="demo", role="owner",
                     scopes=frozenset({"read"}), key_id=key_id)


def test_an_entry_lives_for_the_ttl_only() -> None:
    clock = Clock()
    cache = KeyCache(ttl_s=2.0, timer=clock)
    cache.put("ll_secret", _principal("k1"))
    assert cache.get("ll_secret") is not None
    clock.now += 1.9
    assert cache.get("ll_secret") is not None
    clock.now += 0.2
    assert cache.get("ll_secret") is None


def test_an_entry_never_outlives_its_keys_own_expiry() -> None:
    clock = Clock()
    cache = KeyCache(ttl_s=60.0, timer=clock)
    cache.put("ll_secret", _principal("k1"), valid_until_monotonic=clock.now + 1.0)
    clock.now += 1.5
    assert cache.get("ll_secret") is None


def test_revoking_drops_every_entry_of_that_key_only() -> None:
    cache = KeyCache(ttl_s=60.0)
    cache.put("ll_a", _principal("k1"))
    cache.put("ll_b", _principal("k2"))
    cache.drop_key_id("k1")
    assert cache.get("ll_a") is None
    assert cache.get("ll_b") is not None


def test_a_full_cache_drops_the_least_recently_used_entry() -> None:
    cache = KeyCache(ttl_s=60.0, max_entries=2)
    cache.put("ll_a", _principal("k1"))
    cache.put("ll_b", _principal("k2"))
    assert cache.get("ll_a") is not None  # a is now more recent than b
    cache.put("ll_c", _principal("k3"))
    assert cache.get("ll_b") is None
    assert cache.get("ll_a") is not None and cache.get("ll_c") is not None


def test_a_disabled_cache_keeps_nothing() -> None:
    cache = KeyCache(ttl_s=0)
    cache.put("ll_a", _principal("k1"))
    assert cache.get("ll_a") is None


def test_the_cache_holds_no_raw_key() -> None:
    cache = KeyCache(ttl_s=60.0)
    cache.put("ll_supersecret", _principal("k1"))
    assert "ll_supersecret" not in repr(list(cache._entries.keys()))
