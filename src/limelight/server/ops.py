"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from limelight.auth.principal import Permission
from limelight.errors import Unauthenticated
from limelight.jobs import liveness
from limelight.schemas.common import ErrorBody
from limelight.server.deps import Public, Requires, StateDep
from limelight.server.responses import JSON

router = APIRouter(tags=["operations"])


class MetricsAccess(Requires):
    """``/metrics`` answers only the operator's scrape token (``limelight.server.scrape``): it names
    every org's models, so no tenant API key opens it, whatever its scopes."""

    def __init__(self) -> None:
        super().__init__(Permission.metrics_scrape)

    def __call__(self, request: Request, state: StateDep) -> None:  # type: ignore[override]
        if not state.scrape.accepts(request.headers.get("authorization")):
            raise Unauthenticated("/metrics needs the operator's scrape token (server.metrics_token).")


@router.get("/healthz", dependencies=[Public])
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


_READINESS = {"content": {"application/json": {"schema": {
    "type": "object", "required": ["status", "checks"],
    "properties": {"status": {"type": "string", "enum": ["ready", "not_ready"]},
                   "checks": {"type": "object", "additionalProperties": {"type": "boolean"}},
                   "workers": {"type": "object", "properties": {"expected": {"type": "integer"},
                                                                "alive": {"type": "boolean"}}}}}}}}


@router.get("/readyz", dependencies=[Public],
            responses={200: {**_READINESS, "description": "ready"}, 503: {**_READINESS, "description": "not ready"}})
def readyz(state: StateDep) -> JSON:
    """Ready means this process can serve requests: it accepts them and its database answers.

    Job workers are reported, not required: a worker busy with a long job, or none at all, does not
    stop this process from serving; queued jobs wait for a worker either way."""
    checks = {"accepting": state.ready}
    try:
        with state.db.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = False
    expected = state.settings.worker.processes
    workers = {"expected": expected,
               "alive": liveness.any_alive(state.settings.home, max_age_s=liveness.readiness_window_s(state.settings.worker.heartbeat_s))}
    ok = all(checks.values())
    return JSON({"status": "ready" if ok else "not_ready", "checks": checks, "workers": workers},
                status_code=200 if ok else 503)


@router.get("/metrics", dependencies=[Depends(MetricsAccess())],
            response_class=Response, responses={200: {"content": {"text/plain": {}}},
                                                401: {"model": ErrorBody, "description": "not the scrape token"}})
async def metrics(state: StateDep) -> Response:
    """Prometheus metrics of every API process (see ``limelight.serving.metrics``)."""
    engine = state.serving
    if engine is None:
        return Response(b"", media_type="text/plain; version=0.0.4; charset=utf-8")
    # this process's gauges as of now (on the loop, which owns the host's state); the other
    # processes' are at most one sampling period old
    engine.metrics.record_states(engine.version_states())
    body, content_type = await run_in_threadpool(engine.metrics.render)
    return Response(body, media_type=content_type)
