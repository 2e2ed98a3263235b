"""HTTP routes of monitoring: an org's served models, and one model, over a window."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from limelight.monitoring import service
from limelight.schemas.common import ErrorBody, Name
from limelight.schemas.monitoring import CatalogHealth, ModelMonitoring, MonitoringWindow, OrgMonitoring
from limelight.server.deps import Reader, SessionDep

router = APIRouter(prefix="/api/v1/orgs/{org}/monitoring", tags=["monitoring"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                              422: {"model": ErrorBody, "description": "an unknown window"}})


@router.get("", response_model=OrgMonitoring)
def org_monitoring(org: Name, principal: Reader, session: SessionDep,
                   window: MonitoringWindow = MonitoringWindow.hour) -> OrgMonitoring:
    """Traffic of every model of the org: totals, per model and version, and the org's series."""
    return service.org_monitoring(session, principal, org, window)


@router.get("/models/{name}", response_model=ModelMonitoring)
def model_monitoring(org: Name, name: Name, principal: Reader, session: SessionDep,
                     window: MonitoringWindow = MonitoringWindow.hour) -> ModelMonitoring:
    """One model's traffic over time, split by version."""
    return service.model_monitoring(session, principal, org, name, window)


@router.get("/models/{name}/catalog", response_model=CatalogHealth)
def catalog_health(org: Name, name: Name, principal: Reader, session: SessionDep,
                   weeks: Annotated[int, Query(ge=1, le=13)] = 8) -> CatalogHealth:
    """What a recommender showed per week: catalog coverage, popularity concentration (Gini) and the
    drift of the shown-item distribution from the week before."""
    return service.catalog_health(session, principal, org, name, weeks=weeks)
