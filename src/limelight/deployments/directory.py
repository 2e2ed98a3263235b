"""The serving core's view of models (``serving.ports.ModelDirectory``), read from the registry and
the deployments tables, one transaction per question."""

from __future__ import annotations

from typing import Any

from limelight.auth.principal import Permission, Principal
from limelight.db.session import Database
from limelight.deployments.service import spec_for
from limelight.experiments import service as experiments
from limelight.marketplace import service as marketplace
from limelight.registry import repository
from limelight.registry import service as registry
from limelight.schemas.registry import ModelRead
from limelight.serving.ports import ModelRoutes, VersionFacts

_PAGE = 200


class DatabaseModelDirectory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def routes(self, org: str, name: str) -> ModelRoutes | None:
        with self.db.transaction(write=False) as session:
            found = repository.model_with_org(session, org, name)
            if found is None:
                return None
            model, owner = found
            aliases = repository.aliases(session, model.id)
            return ModelRoutes(
                owner_org_id=owner.id,
                public=model.visibility == "public",
                shared_with=repository.grantee_org_ids(session, model.id),
                aliases=aliases,
                latest=model.latest_version,
                runtimes=repository.version_runtimes(session, model.id),
                spec=spec_for(session, model),
                experiment=experiments.split_for(session, model.id, aliases),
            )

    def version(self, org: str, name: str, number: int) -> VersionFacts | None:
        with self.db.transaction(write=False) as session:
            found = repository.model_with_org(session, org, name)
            row = repository.version(session, found[0].id, number) if found else None
            if row is None:
                return None
            return VersionFacts(row.id, row.blob_sha256, row.runtime, dict(row.params or {}),
                                dict(row.validation) if row.validation else None)

    def record_validation(self, version_id: str, verdict: dict[str, Any]) -> None:
        with self.db.transaction() as session:
            repository.set_validation(session, version_id, verdict)

    def visible_models(self, principal: Principal, limit: int) -> list[ModelRead]:
        found: list[ModelRead] = []
        with self.db.transaction(write=False) as session:
            while len(found) < limit:
                after = (found[-1].org, found[-1].name) if found else None
                page = marketplace.search(session, principal, q=None, task=None, tag=None, after=after, limit=_PAGE)
                found += page
                if len(page) < _PAGE:
                    break
        return found[:limit]

    def visible_model(self, principal: Principal, org: str, name: str) -> ModelRead:
        with self.db.transaction(write=False) as session:
            model, owner = registry.visible_model(session, principal, org, name, Permission.org_read)
            return registry.model_read(session, model, owner.name)
