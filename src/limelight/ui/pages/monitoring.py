"""Monitoring: the org's served models, and per model its traffic, errors, availability and latency.

The numbers come from the persisted rollups (``limelight.monitoring``), the same service as the
monitoring API, so every API process shows the same figures and a restart keeps them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from limelight.monitoring import service as monitoring
from limelight.schemas.common import Name
from limelight.schemas.monitoring import CatalogHealth, MonitoringWindow
from limelight.server.deps import SessionDep
from limelight.ui.access import PageRoute
from limelight.ui.charts import line_chart
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
    panel = _panel(session, viewer, name, window)
    catalog = None
    if panel["view"].task == "recommend":
        catalog = monitoring.catalog_health(session, viewer.principal, viewer.org, name)
    return render(request, "model_monitoring.html", {"viewer": viewer, "windows": list(MonitoringWindow),
                                                     "catalog": catalog, **_catalog_charts(catalog), **panel})


@router.get("/monitoring/{name}/panel")
def model_monitoring_panel(request: Request, name: Name, viewer: ReaderPage, session: SessionDep,
                           window: MonitoringWindow = MonitoringWindow.hour) -> Response:
    """The charts alone, for the page's periodic refresh."""
    return render(request, "_monitoring_panel.html", {"viewer": viewer, **_panel(session, viewer, name, window)})


def _panel(session: Session, viewer: Viewer, name: str, window: MonitoringWindow) -> dict[str, Any]:
    view = monitoring.model_monitoring(session, viewer.principal, viewer.org, name, window)
    return {"view": view, "charts": model_charts(view)}


def _catalog_charts(catalog: CatalogHealth | None) -> dict[str, Any]:
    """Coverage, Gini and drift per week, in percent, on one chart."""
    if catalog is None:
        return {}
    def series(values: list[float | None]) -> list[tuple[float, float | None]]:
        return [(w.start.timestamp(), None if v is None else 100.0 * v) for w, v in zip(catalog.weeks, values, strict=True)]

    lines = [("coverage", "s1", series([w.coverage for w in catalog.weeks])),
             ("Gini", "s2", series([w.gini for w in catalog.weeks])),
             ("drift", "s3", series([w.drift for w in catalog.weeks]))]
    return {"catalog_chart": line_chart(lines, title="Catalog health per week", unit="%",
                                        x_text=lambda t, _span: _week_label(t), empty_text="nothing shown yet")}


def _week_label(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, UTC).strftime("%b %d")
