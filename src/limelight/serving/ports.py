"""What the serving core needs from the platform, as small Protocols the app factory fills in.

The serving core knows models by name and callers by key, nothing of how either is stored: the
registry and deployments answer ``ModelDirectory``, the auth domain answers ``KeyAuthenticator``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from limelight.auth.principal import Principal
from limelight.schemas.registry import DeploymentSpec, ModelRead


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


class KeyAuthenticator(Protocol):
    def __call__(self, raw_key: str) -> Principal:
        """The principal of a valid API key; ``Unauthenticated`` otherwise (sync: runs in a thread)."""
        ...
