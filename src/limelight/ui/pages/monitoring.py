"""Monitoring: per model, requests per second, latency p50/p99 and errors over time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from limelight.registry import service as registry
from limelight.schemas.common import Name
from limelight.server.deps import SessionDep
from limelight.ui.access import PageRoute
from limelight.ui.charts import line_chart
from limelight.ui.rendering import Ui, render
from limelight.ui.serving_counts import read_counts, serving_metrics
from limelight.ui.traffic import Traffic, TrafficRecorder
from limelight.ui.viewer import ReaderPage, Viewer

log = logging.getLogger("limelight.ui")


@asynccontextmanager
async def record_traffic(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's lifespan (after the serving engine is built): samples its counters."""
    ui: Ui = app.state.ui
    metrics = serving_metrics(app.state.limelight)
    if metrics is None:
        yield
        return
    recorder = TrafficRecorder(lambda: read_counts(metrics))
    ui.traffic = recorder
    task = asyncio.create_task(_sample_forever(recorder))
    try:
        yield
    finally:
        task.cancel()
        ui.traffic = None


async def _sample_forever(recorder: TrafficRecorder) -> None:
    while True:
        try:
            await asyncio.to_thread(recorder.sample)
        except Exception as exc:  # noqa: BLE001 - a failed read must not stop the history
            log.warning("sampling serving metrics failed: %s", exc)
        await asyncio.sleep(recorder.interval_s)


router = APIRouter(route_class=PageRoute, include_in_schema=False, lifespan=record_traffic)


def current_traffic(request: Request, org: str, name: str | None = None) -> Traffic | None:
    recorder: TrafficRecorder | None = request.app.state.ui.traffic
    if recorder is None:
        return None
    return recorder.traffic(org=org, name=name)


@router.get("/monitoring")
def monitoring_page(request: Request, viewer: ReaderPage, session: SessionDep) -> Response:
    models = registry.list_models(session, viewer.principal, viewer.org, after=None, limit=500)
    rows = [(m, current_traffic(request, viewer.org, m.name)) for m in models]
    return render(request, "monitoring.html", {"viewer": viewer, "rows": rows,
                                               "available": request.app.state.ui.traffic is not None})


@router.get("/monitoring/{name}")
def model_monitoring_page(request: Request, name: Name, viewer: ReaderPage, session: SessionDep) -> Response:
    model = registry.get_model(session, viewer.principal, viewer.org, name)
    return render(request, "model_monitoring.html", {"viewer": viewer, "model": model,
                                                     **_charts(request, viewer, name)})


@router.get("/monitoring/{name}/panel")
def model_monitoring_panel(request: Request, name: Name, viewer: ReaderPage, session: SessionDep) -> Response:
    """The charts alone, for the page's periodic refresh."""
    registry.get_model(session, viewer.principal, viewer.org, name)
    return render(request, "_monitoring_panel.html", {"viewer": viewer, **_charts(request, viewer, name)})


def _charts(request: Request, viewer: Viewer, name: str) -> dict[str, Any]:
    traffic = current_traffic(request, viewer.org, name)
    if traffic is None:
        return {"traffic": None, "charts": []}
    charts = [
        line_chart([("requests/s", "s1", traffic.series("rate"))], title="Requests per second", unit="req/s"),
        line_chart([("p50", "s1", traffic.series("p50")), ("p99", "s2", traffic.series("p99"))],
                   title="Latency", unit="ms"),
        line_chart([("errors", "s3", traffic.series("errors"))], title="Errors (4xx and 5xx) per step", unit=""),
    ]
    return {"traffic": traffic, "charts": charts}
