"""Overview: models in production, jobs at work, and the last hour's traffic."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from limelight.datasets import service as datasets
from limelight.jobs import service as jobs
from limelight.monitoring import service as monitoring
from limelight.registry import service as registry
from limelight.schemas.monitoring import MonitoringWindow
from limelight.server.deps import SessionDep
from limelight.ui.access import PageRoute
from limelight.ui.monitoring_charts import requests_chart
from limelight.ui.rendering import render
from limelight.ui.viewer import ReaderPage

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def overview(request: Request, viewer: ReaderPage, session: SessionDep) -> Response:
    principal, org = viewer.principal, viewer.org
    models = registry.list_models(session, principal, org, after=None, limit=200)
    active = [j for s in ("running", "queued") for j in jobs.list_jobs(session, principal, org, before=None,
                                                                        limit=20, state=s)]
    traffic = monitoring.org_monitoring(session, principal, org, MonitoringWindow.hour)
    return render(request, "overview.html", {
        "viewer": viewer,
        "production": [m for m in models if "production" in m.aliases],
        "model_count": len(models),
        "dataset_count": len(datasets.list_datasets(session, principal, org, after=None, limit=500)),
        "active_jobs": active,
        "recent_jobs": jobs.list_jobs(session, principal, org, before=None, limit=8),
        "traffic": traffic,
        "traffic_chart": requests_chart(traffic.points, traffic.step_s, title="Requests per second, last hour"),
    })
