"""What the serving core needs from the platform, as small Protocols the app factory fills in.

The serving core knows models by name and callers by key, nothing of how either is stored: the
registry and deployments answer ``ModelDirectory``, the auth domain answers ``KeyAuthenticator``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from limelight.auth.principal import Principal
from limelight.schemas.registry import DeploymentSpec, ModelRead


@dataclass(frozen=True)
class ExperimentSplit:
    """A running experiment on a model: end users split between variants, each an alias's version."""

    id: str
    variants: tuple[str, ...]
    versions: tuple[int, ...]  # the version each variant's alias points at now
    weights: tuple[float, ...]  # a rolled-back variant has weight 0
    sticky_field: str = "user_id"


@dataclass(frozen=True, slots=True)
class Arm:
    """The experiment variant that served one request, and to whom."""

    experiment_id: str
    variant: str
    end_user: str | None


@dataclass(frozen=True)
class ModelRoutes:
    """One model as serving needs it: who owns it, who may call it, its versions and their routes."""

    owner_org_id: str
    public: bool
    shared_with: frozenset[str] = frozenset()  # ids of the orgs a share lets call it
    aliases: Mapping[str, int] = field(default_factory=dict)
    latest: int = 0
    runtimes: Mapping[int, str] = field(default_factory=dict)  # version -> runtime name
    spec: DeploymentSpec | None = None  # the deployment's routes, batching and limits, if it has one
    experiment: ExperimentSplit | None = None  # a running experiment routes before the deployment


@dataclass(frozen=True, slots=True)
class VersionFacts:
    """What loading one version needs: its blob, runtime, params and the sandbox's last verdict."""

    id: str
    sha256: str
    runtime: str
    params: dict[str, Any]
    validation: dict[str, Any] | None


class ModelDirectory(Protocol):
    """Sync methods: the serving core calls them in a thread."""

    def routes(self, org: str, name: str) -> ModelRoutes | None:
        """The model ``org/name`` as it is now, or None when there is none."""
        ...

    def version(self, org: str, name: str, number: int) -> VersionFacts | None:
        """Version ``number`` of ``org/name``, or None when there is none."""
        ...

    def record_validation(self, version_id: str, verdict: dict[str, Any]) -> None:
        """Keeps the sandbox's verdict on the version, so other processes need not validate it again."""
        ...

    def visible_models(self, principal: Principal, limit: int) -> list[ModelRead]:
        """Up to ``limit`` models ``principal`` may see (its org's and public ones), by org and name."""
        ...

    def visible_model(self, principal: Principal, org: str, name: str) -> ModelRead:
        """One model ``principal`` may see; ``NotFound`` (never Forbidden) for any other."""
        ...


class ExposureLog(Protocol):
    def observe(self, arm: Arm, request_id: str, status: int, seconds: float) -> None:
        """One request an experiment routed, answered with ``status`` (on the event loop: no I/O)."""
        ...

    async def run_forever(self) -> None:
        """Store what was observed, now and then, until cancelled."""
        ...

    async def flush(self) -> None:
        """Store what was observed and not stored yet (at shutdown, after the drain)."""
        ...


class ItemLog(Protocol):
    def observe(self, model: str, items: Sequence[str]) -> None:
        """The item ids one answer of ``model`` ("org/name") showed (on the event loop: no I/O)."""
        ...

    async def run_forever(self) -> None:
        """Store what was observed, now and then, until cancelled."""
        ...

    async def flush(self) -> None:
        """Store what was observed and not stored yet (at shutdown, after the drain)."""
        ...


class KeyAuthenticator(Protocol):
    def __call__(self, raw_key: str) -> Principal:
        """The principal of a valid API key; ``Unauthenticated`` otherwise (sync: runs in a thread)."""
        ...


class UsageMeter(Protocol):
    """Inference usage metered to the calling org, and its monthly request quota (``metering.meter``).

    ``admit``, ``observe`` and ``quota_headers`` run on the event loop for every request: no I/O."""

    def admit(self, org_id: str) -> None:
        """Raise ``RequestQuotaExceeded`` (429 ``quota_exceeded``) once the org used its requests of the month."""
        ...

    def observe(self, org_id: str, model: str, status: int, prompt_tokens: int, completion_tokens: int) -> None:
        """One call of ``model`` (``org/name``, possibly another org's) by ``org_id``, answered with ``status``."""
        ...

    def quota_headers(self, org_id: str, uncounted: int) -> list[tuple[bytes, bytes]]:
        """``X-Quota-Requests-*`` headers of an org with a request quota (none otherwise); ``uncounted``
        requests (a stream still running) are taken off the remaining allowance."""
        ...

    async def run_forever(self) -> None:
        """Store what was observed and re-read the quotas, now and then, until cancelled."""
        ...

    async def flush(self) -> None:
        """Store what was observed and not stored yet (at shutdown, after the drain)."""
        ...
