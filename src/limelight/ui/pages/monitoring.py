"""Monitoring: the org's served models, and per model its traffic, errors, availability and latency.

The numbers come from the persisted rollups (``limelight.monitoring``), the same service as the
monitoring API, so every API process shows the same figures and a restart keeps them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from limelight.monitoring import service as monitoring
from limelight.schemas.common import Name
from limelight.schemas.monitoring import MonitoringWindow
from limelight.server.deps import SessionDep
from limelight.ui.access import PageRoute
from limelight.ui.monitoring_charts import model_charts, requests_chart
from limelight.ui.rendering import render
from limelight.ui.viewer import ReaderPage, Viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/monitoring")
def monitoring_page(request: Request, viewer: ReaderPage, session: SessionDep,
                    window: MonitoringWindow = MonitoringWindow.hour) -> Response:
    view = monitoring.org_monitoring(session, viewer.principal, viewer.org, window)
    return render(request, "monitoring.html", {
        "viewer": viewer, "view": view, "windows": list(MonitoringWindow),
        "chart": requests_chart(view.points, view.step_s, title="Requests per second, every model"),
    })


@router.get("/monitoring/{name}")
def model_monitoring_page(request: Request, name: Name, viewer: ReaderPage, session: SessionDep,
                          window: MonitoringWindow = MonitoringWindow.hour) -> Response:
    return render(request, "model_monitoring.html", {"viewer": viewer, "windows": list(MonitoringWindow),
                                                     **_panel(session, viewer, name, window)})


@router.get("/monitoring/{name}/panel")
def model_monitoring_panel(request: Request, name: Name, viewer: ReaderPage, session: SessionDep,
                           window: MonitoringWindow = MonitoringWindow.hour) -> Response:
    """The charts alone, for the page's periodic refresh."""
    return render(request, "_monitoring_panel.html", {"viewer": viewer, **_panel(session, viewer, name, window)})


def _panel(session: Session, viewer: Viewer, name: str, window: MonitoringWindow) -> dict[str, Any]:
    view = monitoring.model_monitoring(session, viewer.principal, viewer.org, name, window)
    return {"view": view, "charts": model_charts(view)}
