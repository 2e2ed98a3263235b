"""HTTP route of usage reports (JSON, or CSV for spreadsheets and billing)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from limelight.metering import service
from limelight.schemas.common import ErrorBody, Name
from limelight.schemas.metering import UsageReport
from limelight.server.deps import Reader, SessionDep, StateDep

router = APIRouter(prefix="/api/v1", tags=["usage"],
                   responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.get("/orgs/{org}/usage", response_model=UsageReport,
            responses={200: {"content": {"text/csv": {}}}, 400: {"model": ErrorBody}})
def usage(org: Name, principal: Reader, session: SessionDep, state: StateDep,
          days: Annotated[int, Query(ge=1, le=400)] = 30,
          granularity: Annotated[Literal["day", "hour"], Query()] = "day",
          format: Annotated[Literal["json", "csv"], Query()] = "json") -> UsageReport | Response:  # noqa: A002
    """Requests and errors per period and per model, compute seconds of jobs, and storage, over ``days``."""
    report = service.report(session, principal, org, days=days, granularity=granularity,
                            retention_days=state.settings.monitoring.hour_retention_days)
    if format == "csv":
        return Response(service.as_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{org}-usage-{granularity}.csv"'})
    return report
