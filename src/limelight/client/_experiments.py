"""Online experiments on a model (named ``"org/name"``): start, read results, stop, decide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from limelight.client._base import Call, as_list, as_model, segment
from limelight.client._inference import split_model
from limelight.client._resource import AsyncResource, SyncResource
from limelight.schemas.experiments import ExperimentCreate, ExperimentRead

API = "/api/v1"


def _base(model: str) -> str:
    org, name = split_model(model)
    return f"{API}/orgs/{segment(org)}/models/{segment(name)}/experiments"


def _start(model: str, spec: ExperimentCreate | Mapping[str, Any]) -> Call[ExperimentRead]:
    payload = spec.model_dump(mode="json") if isinstance(spec, ExperimentCreate) else dict(spec)
    return Call("POST", _base(model), as_model(ExperimentRead), json=payload)


def _list(model: str) -> Call[list[ExperimentRead]]:
    return Call("GET", _base(model), as_list(ExperimentRead))


def _one(model: str, experiment_id: str, action: str | None = None, dry_run: bool = False) -> Call[ExperimentRead]:
    path = f"{_base(model)}/{segment(experiment_id)}"
    if action is None:
        return Call("GET", path, as_model(ExperimentRead))
    return Call("POST", f"{path}/{action}", as_model(ExperimentRead),
                json={"dry_run": dry_run} if action == "decide" else None)


class Experiments(SyncResource):
    def start(self, model: str, spec: ExperimentCreate | Mapping[str, Any]) -> ExperimentRead:
        """Split ``model``'s traffic between aliases, e.g. ``{"name": "ranker-v2", "variants": [{"name":
        "control", "alias": "production", "weight": 50}, {"name": "new", "alias": "candidate", "weight": 50}]}``."""
        return self._run(_start(model, spec))

    def list(self, model: str) -> list[ExperimentRead]:
        return self._run(_list(model))

    def get(self, model: str, experiment_id: str) -> ExperimentRead:
        """Per-variant results with 95% intervals, the test against the control, and the rule's verdict."""
        return self._run(_one(model, experiment_id))

    def stop(self, model: str, experiment_id: str) -> ExperimentRead:
        return self._run(_one(model, experiment_id, "stop"))

    def decide(self, model: str, experiment_id: str, *, dry_run: bool = False) -> ExperimentRead:
        """Promote the winner to production, keep the control, or roll back a variant (audited)."""
        return self._run(_one(model, experiment_id, "decide", dry_run))


class AsyncExperiments(AsyncResource):
    async def start(self, model: str, spec: ExperimentCreate | Mapping[str, Any]) -> ExperimentRead:
        return await self._run(_start(model, spec))

    async def list(self, model: str) -> list[ExperimentRead]:
        return await self._run(_list(model))

    async def get(self, model: str, experiment_id: str) -> ExperimentRead:
        return await self._run(_one(model, experiment_id))

    async def stop(self, model: str, experiment_id: str) -> ExperimentRead:
        return await self._run(_one(model, experiment_id, "stop"))

    async def decide(self, model: str, experiment_id: str, *, dry_run: bool = False) -> ExperimentRead:
        return await self._run(_one(model, experiment_id, "decide", dry_run))
