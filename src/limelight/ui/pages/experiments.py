"""Experiments: the org's A/B/n tests, and one test's per-variant results, charts and decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from limelight.experiments import service as experiments
from limelight.schemas.common import Name
from limelight.schemas.experiments import ExperimentRead
from limelight.server.deps import SessionDep
from limelight.ui.access import PageRoute
from limelight.ui.charts import LineChart, line_chart
from limelight.ui.rendering import render
from limelight.ui.viewer import FormMaintainer, ReaderPage

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_MAX_LINES = 5  # the stylesheet has five series colours; an experiment has at most five variants


@router.get("/experiments")
def experiments_page(request: Request, viewer: ReaderPage, session: SessionDep) -> Response:
    found = experiments.list_for_org(session, viewer.principal, viewer.org)
    return render(request, "experiments.html", {"viewer": viewer, "experiments": found})


@router.get("/experiments/{name}/{experiment_id}")
def experiment_page(request: Request, name: Annotated[Name, Path()], experiment_id: Annotated[str, Path(max_length=32)],
                    viewer: ReaderPage, session: SessionDep) -> Response:
    found = experiments.get(session, viewer.principal, viewer.org, name, experiment_id)
    return render(request, "experiment.html", {"viewer": viewer, "experiment": found, "name": name,
                                                 **_charts(found)})


@router.post("/experiments/{name}/{experiment_id}/stop")
def stop(name: Annotated[Name, Path()], experiment_id: Annotated[str, Path(max_length=32)], viewer: FormMaintainer,
         session: SessionDep) -> Response:
    experiments.stop(session, viewer.principal, viewer.org, name, experiment_id)
    return RedirectResponse(f"/experiments/{name}/{experiment_id}?notice=experiment-stopped", status_code=303)


@router.post("/experiments/{name}/{experiment_id}/decide")
def decide(name: Annotated[Name, Path()], experiment_id: Annotated[str, Path(max_length=32)], viewer: FormMaintainer,
           session: SessionDep, dry_run: Annotated[bool, Form()] = False) -> Response:
    experiments.decide(session, viewer.principal, viewer.org, name, experiment_id, dry_run=dry_run)
    return RedirectResponse(f"/experiments/{name}/{experiment_id}?notice=experiment-decided", status_code=303)


def _charts(found: ExperimentRead) -> dict[str, LineChart]:
    """Impressions and CTR per hour, one line per variant."""
    names = [v.name for v in found.variants][:_MAX_LINES]
    impressions, ctr = [], []
    for index, variant in enumerate(names):
        points = [p for p in found.series if p.variant == variant]
        css = f"s{index + 1}"
        impressions.append((variant, css, [(p.start.timestamp(), float(p.impressions)) for p in points]))
        ctr.append((variant, css, [(p.start.timestamp(), 100.0 * p.clicks / p.impressions if p.impressions else None)
                                   for p in points]))
    return {"impressions_chart": line_chart(impressions, title="Impressions per hour", unit="",
                                            empty_text="no impressions yet"),
            "ctr_chart": line_chart(ctr, title="Click-through rate per hour", unit="%",
                                    empty_text="no impressions yet")}
