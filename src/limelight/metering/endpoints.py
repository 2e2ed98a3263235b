"""HTTP routes of usage reports (JSON, or CSV for spreadsheets and billing) and of quotas."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from limelight.metering import quotas, service
from limelight.schemas.common import ErrorBody, Name
from limelight.schemas.metering import OrgQuotas, QuotaLimits, UsageReport
from limelight.server.deps import Authenticated, Reader, SessionDep, StateDep

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
                            retention_days=state.settings.metering.retention_days)
    if format == "csv":
        return Response(service.as_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{org}-usage-{granularity}.csv"'})
    return report


@router.get("/orgs/{org}/quotas", response_model=OrgQuotas)
def get_quotas(org: Name, principal: Reader, session: SessionDep) -> OrgQuotas:
    """The org's monthly quotas (null: unlimited), what this UTC month used, what remains, when it resets."""
    return quotas.get_quotas(session, principal, org)


@router.put("/orgs/{org}/quotas", response_model=OrgQuotas, responses={422: {"model": ErrorBody}})
def set_quotas(org: Name, body: QuotaLimits, principal: Authenticated, session: SessionDep) -> OrgQuotas:
    """Replace the org's quotas (system admins; a field left out or null is unlimited). Audited."""
    return quotas.set_quotas(session, principal, org, body)
