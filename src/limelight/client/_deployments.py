"""Deployments (how a model is served) and the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from limelight.client._base import Call, as_model, as_none, as_page, query, segment
from limelight.client._resource import AsyncResource, SyncResource
from limelight.schemas.audit import AuditEntryRead, AuditVerifyResult
from limelight.schemas.common import Page
from limelight.schemas.registry import DeploymentRead, DeploymentSpec

API = "/api/v1"


def _deployment(method: str, org: str, name: str, spec: DeploymentSpec | Mapping[str, Any] | None = None
                ) -> Call[DeploymentRead]:
    payload = None
    if spec is not None:
        payload = spec.model_dump(mode="json", exclude_none=True) if isinstance(spec, DeploymentSpec) else dict(spec)
    return Call(method, f"{API}/orgs/{segment(org)}/deployments/{segment(name)}", as_model(DeploymentRead),
                json=payload)


def _removal(org: str, name: str) -> Call[None]:
    return Call("DELETE", f"{API}/orgs/{segment(org)}/deployments/{segment(name)}", as_none)


def _audit(org: str, filters: dict[str, str | None], limit: int | None, cursor: str | None
           ) -> Call[Page[AuditEntryRead]]:
    return Call("GET", f"{API}/orgs/{segment(org)}/audit", as_page(AuditEntryRead),
                params=query(limit=limit, cursor=cursor, **filters))


def _verify() -> Call[AuditVerifyResult]:
    return Call("GET", f"{API}/audit/verify", as_model(AuditVerifyResult))


class Deployments(SyncResource):
    def put(self, org: str, name: str, spec: DeploymentSpec | Mapping[str, Any]) -> DeploymentRead:
        """Set how model ``name`` is served: weighted routes over versions, batching, limits."""
        return self._run(_deployment("PUT", org, name, spec))

    def get(self, org: str, name: str) -> DeploymentRead:
        return self._run(_deployment("GET", org, name))

    def delete(self, org: str, name: str) -> None:
        """Remove the deployment: calls go to the production alias again, else to the latest version."""
        self._run(_removal(org, name))


class Audit(SyncResource):
    def list(self, org: str, *, action: str | None = None, actor: str | None = None,
             object_type: str | None = None, limit: int | None = None, cursor: str | None = None
             ) -> Page[AuditEntryRead]:
        """Audit entries of ``org``, newest first (maintainers and owners)."""
        filters = {"action": action, "actor": actor, "object_type": object_type}
        return self._run(_audit(org, filters, limit, cursor))

    def iter(self, org: str, *, action: str | None = None, actor: str | None = None,
             object_type: str | None = None, limit: int | None = None) -> Iterator[AuditEntryRead]:
        filters = {"action": action, "actor": actor, "object_type": object_type}
        return self._iterate(lambda cursor: _audit(org, filters, limit, cursor))

    def verify(self) -> AuditVerifyResult:
        """Recompute the hash chain of the whole audit log; ``ok`` is False at the first broken link."""
        return self._run(_verify())


class AsyncDeployments(AsyncResource):
    async def put(self, org: str, name: str, spec: DeploymentSpec | Mapping[str, Any]) -> DeploymentRead:
        return await self._run(_deployment("PUT", org, name, spec))

    async def get(self, org: str, name: str) -> DeploymentRead:
        return await self._run(_deployment("GET", org, name))

    async def delete(self, org: str, name: str) -> None:
        await self._run(_removal(org, name))


class AsyncAudit(AsyncResource):
    async def list(self, org: str, *, action: str | None = None, actor: str | None = None,
                   object_type: str | None = None, limit: int | None = None, cursor: str | None = None
                   ) -> Page[AuditEntryRead]:
        filters = {"action": action, "actor": actor, "object_type": object_type}
        return await self._run(_audit(org, filters, limit, cursor))

    def iter(self, org: str, *, action: str | None = None, actor: str | None = None,
             object_type: str | None = None, limit: int | None = None) -> AsyncIterator[AuditEntryRead]:
        filters = {"action": action, "actor": actor, "object_type": object_type}
        return self._iterate(lambda cursor: _audit(org, filters, limit, cursor))

    async def verify(self) -> AuditVerifyResult:
        return await self._run(_verify())
