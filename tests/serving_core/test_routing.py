from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import pytest

from limelight.serving.routing import Router, unit_hash


@dataclass(frozen=True)
class R:
    version: int
    weight: float


def test_canary_split_over_ten_thousand_users_is_within_one_and_a_half_points() -> None:
    router = Router("acme/reviews", [R(3, 90), R(4, 10)])
    counts = Counter(router.choose(f"user-{i}").version for i in range(10_000))
    assert set(counts) == {3, 4}
    assert abs(counts[4] / 10_000 - 0.10) <= 0.015


def test_the_same_user_always_gets_the_same_version() -> None:
    first = Router("acme/reviews", [R(3, 50), R(4, 50)])
    again = Router("acme/reviews", [R(3, 50), R(4, 50)])  # e.g. another API process
    for i in range(2_000):
        key = f"u{i}"
        version = first.choose(key).version
        assert all(first.choose(key).version == version for _ in range(3))
        assert again.choose(key).version == version
        assert first.choose(key).sticky


def test_growing_the_canary_keeps_its_users() -> None:
    before = Router("acme/m", [R(1, 90), R(2, 10)])
    after = Router("acme/m", [R(1, 80), R(2, 20)])
    users = [f"u{i}" for i in range(5_000)]
    on_canary = {u for u in users if before.choose(u).version == 2}
    assert on_canary and all(after.choose(u).version == 2 for u in on_canary)


def test_deployments_split_users_independently() -> None:
    a = Router("acme/a", [R(1, 50), R(2, 50)])
    b = Router("acme/b", [R(1, 50), R(2, 50)])
    same = sum(a.choose(f"u{i}").version == b.choose(f"u{i}").version for i in range(4_000))
    assert 0.45 < same / 4_000 < 0.55


def test_without_a_user_key_the_draw_is_random() -> None:
    router = Router("acme/m", [R(1, 70), R(2, 30)], rng=random.Random(7))
    choices = [router.choose(None) for _ in range(10_000)]
    share = sum(c.version == 2 for c in choices) / 10_000
    assert abs(share - 0.30) < 0.02 and not any(c.sticky for c in choices)


def test_shadow_route_is_returned_separately() -> None:
    router = Router("acme/m", [R(1, 100)], shadow=R(9, 25))
    choices = [router.choose(f"u{i}") for i in range(8_000)]
    assert {c.version for c in choices} == {1}
    mirrored = sum(c.shadow_version == 9 for c in choices) / len(choices)
    assert abs(mirrored - 0.25) < 0.02
    assert Router("acme/m", [R(1, 100)], shadow=R(9, 100)).choose("u").shadow_version == 9
    assert (
        Router("acme/m", [R(9, 100)], shadow=R(9, 100)).choose("u").shadow_version is None
    )  # no self-mirror
    assert Router("acme/m", [R(1, 100)]).choose("u").shadow_version is None


def test_single_route_zero_weights_and_hash_range() -> None:
    assert {Router("o/m", [R(5, 1)]).choose(str(i)).version for i in range(100)} == {5}
    assert {Router("o/m", [R(1, 0), R(2, 3)]).choose(str(i)).version for i in range(100)} == {2}
    for routes in ([], [R(1, 0)], [R(1, -1), R(2, 5)]):
        with pytest.raises(ValueError):
            Router("o/m", routes)
    assert all(0.0 <= unit_hash("d", str(i)) < 1.0 for i in range(1_000))
