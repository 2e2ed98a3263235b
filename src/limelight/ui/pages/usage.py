"""Usage: what the org called per day (any org's models), the tokens it generated, what its jobs
computed, what it stores, its quotas; CSV export."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from limelight.metering import quotas
from limelight.metering import service as metering
from limelight.server.deps import SessionDep, StateDep
from limelight.ui.access import PageRoute
from limelight.ui.charts import bar_chart
from limelight.ui.rendering import render
from limelight.ui.viewer import ReaderPage

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/usage")
def usage_page(request: Request, viewer: ReaderPage, session: SessionDep, state: StateDep,
               days: Annotated[int, Query(ge=1, le=400)] = 14) -> Response:
    report = metering.report(session, viewer.principal, viewer.org, days=days, granularity="day",
                             retention_days=state.settings.metering.retention_days)
    days_shown = list(reversed(report.periods))  # newest first: today on top
    generated = any(p.completion_tokens for p in report.periods)
    return render(request, "usage.html", {
        "viewer": viewer, "report": report, "days": days,
        "quotas": quotas.get_quotas(session, viewer.principal, viewer.org),
        "requests_chart": bar_chart([(p.start.strftime("%b %d"), float(p.requests)) for p in days_shown],
                                    title="Requests per day"),
        "compute_chart": bar_chart([(p.start.strftime("%b %d"), p.compute_seconds) for p in days_shown],
                                   title="Compute seconds per day"),
        "tokens_chart": bar_chart([(p.start.strftime("%b %d"), float(p.completion_tokens)) for p in days_shown],
                                  title="Tokens generated per day") if generated else None,
    })
