"""Weighted routes over model versions, sticky per end user, with an optional shadow route.

A user key (``user_id`` or whatever the deployment names) is hashed with blake2b together with the
deployment name into a point in [0, total weight); the route whose slice holds the point serves.
The same user therefore sees the same version in every process and after restarts, and growing
the last route (a canary going 10 % -> 20 %) keeps the users it already had. Without a user key
the point is drawn at random. The shadow route is returned separately: the caller mirrors the
request to it and throws the answer away.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

__all__ = ["RouteChoice", "RouteLike", "Router", "unit_hash"]

_TWO_64 = float(1 << 64)


class RouteLike(Protocol):
    """Anything with a version and a weight, e.g. ``limelight.schemas.registry.Route``."""

    @property
    def version(self) -> int: ...

    @property
    def weight(self) -> float: ...


@dataclass(frozen=True)
class RouteChoice:
    version: int
    shadow_version: int | None  # mirror the request here and discard the answer; None: no mirror
    sticky: bool  # True when a user key decided the version
    index: int = 0  # which route: two routes (an A/A experiment's variants) may share a version


def unit_hash(*parts: str) -> float:
    """A stable, uniform point in [0, 1) for ``parts`` (same in every process, unlike ``hash``)."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _TWO_64


class Router:
    """Chooses a version per request for one deployment (``org/name``)."""

    def __init__(
        self,
        deployment: str,
        routes: Sequence[RouteLike],
        *,
        shadow: RouteLike | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not routes or any(r.weight < 0 for r in routes) or sum(r.weight for r in routes) <= 0:
            raise ValueError("routes need at least one positive weight and none negative")
        self.deployment = deployment
        self.versions = [r.version for r in routes]
        self._bounds = list(accumulate(float(r.weight) for r in routes))
        self._total = self._bounds[-1]
        self._shadow_version = shadow.version if shadow is not None else None
        self._shadow_share = min(float(shadow.weight), 100.0) / 100.0 if shadow is not None else 0.0
        self._rng = rng or random.Random()  # noqa: S311 - traffic splitting, not security

    def choose(self, user_key: str | None = None) -> RouteChoice:
        """The version for this request, and the shadow version if this request is mirrored."""
        if user_key:
            point = unit_hash(self.deployment, user_key)
            mirrored = unit_hash(self.deployment, "shadow", user_key) < self._shadow_share
        else:
            point = self._rng.random()
            mirrored = self._rng.random() < self._shadow_share
        index = min(bisect.bisect_right(self._bounds, point * self._total), len(self.versions) - 1)
        version = self.versions[index]
        shadow = self._shadow_version if mirrored and self._shadow_version != version else None
        return RouteChoice(version=version, shadow_version=shadow, sticky=bool(user_key), index=index)
