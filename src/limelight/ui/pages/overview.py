"""Overview: models in production, jobs at work, and the last hour's traffic."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from limelight.datasets import service as datasets
from limelight.jobs import service as jobs
from limelight.registry import service as registry
from limelight.server.deps import SessionDep
from limelight.ui.access import PageRoute
from limelight.ui.pages.monitoring import current_traffic
from limelight.ui.rendering import render
from limelight.ui.viewer import ReaderPage

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/")
def overview(request: Request, viewer: ReaderPage, session: SessionDep) -> Response:
    principal, org = viewer.principal, viewer.org
    models = registry.list_models(session, principal, org, after=None, limit=200)
    active = [j for s in ("running", "queued") for j in jobs.list_jobs(session, principal, org, before=None,
                                                                        limit=20, state=s)]
    return render(request, "overview.html", {
        "viewer": viewer,
        "production": [m for m in models if "production" in m.aliases],
        "model_count": len(models),
        "dataset_count": len(datasets.list_datasets(session, principal, org, after=None, limit=500)),
        "active_jobs": active,
        "recent_jobs": jobs.list_jobs(session, principal, org, before=None, limit=8),
        "traffic": current_traffic(request, org),
        "serving_available": request.app.state.ui.traffic is not None,
    })
