"""Datasets: the list with the upload form, one dataset's profile and versions, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from limelight.datasets import service
from limelight.datasets.ingest.kinds import get_kind
from limelight.schemas.common import Name
from limelight.schemas.datasets import DatasetKind
from limelight.server.deps import SessionDep, StateDep
from limelight.ui.access import PageRoute
from limelight.ui.preview import first_rows
from limelight.ui.rendering import render
from limelight.ui.viewer import FormMaintainer, ReaderPage

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/datasets")
def datasets_page(request: Request, viewer: ReaderPage, session: SessionDep) -> Response:
    items = service.list_datasets(session, viewer.principal, viewer.org, after=None, limit=500)
    kinds = [(k.value, get_kind(k.value).description) for k in DatasetKind]
    return render(request, "datasets.html", {"viewer": viewer, "datasets": items, "kinds": kinds})


@router.get("/datasets/{name}")
def dataset_page(request: Request, name: Name, viewer: ReaderPage, session: SessionDep, state: StateDep,
                 version: int | None = None) -> Response:
    dataset = service.get(session, viewer.principal, viewer.org, name)
    shown = service.get_version(session, viewer.principal, viewer.org, name, version) if version else dataset.latest
    columns, rows = first_rows(service.normalized_path(state.artifacts, shown.sha256)) if shown else ([], [])
    spec = get_kind(dataset.kind.value)
    return render(request, "dataset.html", {
        "viewer": viewer, "dataset": dataset, "shown": shown, "preview_columns": columns, "preview_rows": rows,
        "column_help": {c.name: c.description for c in spec.columns},
    })


@router.post("/datasets/{name}/delete")
def delete_dataset(name: Name, viewer: FormMaintainer, session: SessionDep) -> Response:
    service.delete(session, viewer.principal, viewer.org, name)
    return RedirectResponse("/datasets?notice=dataset-deleted", status_code=303)
