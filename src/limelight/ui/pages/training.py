"""Train: choose a recipe and a dataset, set parameters, start; jobs with live progress and results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from limelight.datasets import service as datasets
from limelight.errors import InvalidParams, LimelightError, NotFound
from limelight.jobs import service as jobs
from limelight.registry import service as registry
from limelight.schemas.jobs import JobCreate, JobState, RecipeRead
from limelight.server.deps import SessionDep
from limelight.ui.access import PageRoute
from limelight.ui.rendering import render
from limelight.ui.results import job_results
from limelight.ui.schema_form import param_fields, params_from_form
from limelight.ui.training_curve import training_curve
from limelight.ui.viewer import FormWriter, ReaderPage, Viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/train")
def train_page(request: Request, viewer: ReaderPage, session: SessionDep,
               recipe: Annotated[str | None, Query(max_length=64)] = None,
               dataset: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    return _train_form(request, viewer, session, recipe, {"dataset": dataset or ""})


def _train_form(request: Request, viewer: Viewer, session: Any, recipe_name: str | None,
                values: Mapping[str, Any], error: LimelightError | None = None) -> Response:
    # scoring recipes read a model, not a dataset: they start from the model page, not this form
    recipes = sorted((r for r in jobs.recipes() if r.consumes == "dataset"), key=lambda r: (r.task != "recommend", r.name))
    chosen = next((r for r in recipes if r.name == recipe_name), recipes[0] if recipes else None)
    return render(request, "train.html", {
        "viewer": viewer, "recipes": recipes, "chosen": chosen, "values": values, "error": error,
        "fields": param_fields(chosen.params_schema) if chosen else [],
        "datasets": _datasets_of(session, viewer, chosen.dataset_kind) if chosen else [],
        "catalogs": _datasets_of(session, viewer, "items") if chosen and chosen.task == "recommend" else [],
        "profiles": _datasets_of(session, viewer, "users") if chosen and chosen.task == "predict-behaviour" else [],
        "default_model": _default_model_name(chosen),
    }, status_code=error.status if error else 200)


def _datasets_of(session: Any, viewer: Viewer, kind: str) -> list[str]:
    return [d.name for d in datasets.list_datasets(session, viewer.principal, viewer.org, after=None, limit=500,
                                                   kind=kind)]


def _default_model_name(recipe: RecipeRead | None) -> str:
    if recipe is None:
        return ""
    return {"recommend": "recommender", "classify": "classifier"}.get(recipe.task, recipe.task.replace("/", "-"))


@router.post("/train")
async def start_training(request: Request, viewer: FormWriter, session: SessionDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    return await run_in_threadpool(_submit, request, viewer, session, form)


def _submit(request: Request, viewer: Viewer, session: Any, form: dict[str, str]) -> Response:
    recipe_name = form.get("recipe", "")
    try:
        recipe = next((r for r in jobs.recipes() if r.name == recipe_name), None)
        if recipe is None:
            raise NotFound(f"Unknown recipe {recipe_name!r}.")
        body = JobCreate.model_validate({
            "recipe": recipe.name, "dataset": form.get("dataset") or None,
            "items_dataset": form.get("items_dataset") or None, "model": form.get("model", ""),
            "users_dataset": form.get("users_dataset") or None,
            "promote": form.get("promote") or None,
            "params": params_from_form(param_fields(recipe.params_schema), form),
        })
        job = jobs.submit(session, viewer.principal, viewer.org, body)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _train_form(request, viewer, session, recipe_name, form,
                           InvalidParams(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"))
    except LimelightError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        return _train_form(request, viewer, session, recipe_name, form, exc)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs")
def jobs_page(request: Request, viewer: ReaderPage, session: SessionDep, state: JobState | None = None) -> Response:
    items = jobs.list_jobs(session, viewer.principal, viewer.org, before=None, limit=100,
                           state=state.value if state else None)
    return render(request, "jobs.html", {"viewer": viewer, "jobs": items, "state_filter": state.value if state else "",
                                         "states": [s.value for s in JobState]})


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: Annotated[str, Path(max_length=64)], viewer: ReaderPage,
             session: SessionDep) -> Response:
    job = jobs.get(session, viewer.principal, viewer.org, job_id)
    logs = jobs.logs(session, viewer.principal, viewer.org, job_id, 0)
    model = None
    if job.state is JobState.succeeded and job.model:
        model = registry.get_model(session, viewer.principal, viewer.org, job.model)
    return render(request, "job.html", {"viewer": viewer, "job": job, "logs": logs, "model": model,
                                        "results": job_results(job), "curve": training_curve(logs)})


@router.get("/jobs/{job_id}/curve")
def job_curve(request: Request, job_id: Annotated[str, Path(max_length=64)], viewer: ReaderPage,
              session: SessionDep) -> Response:
    """The training curve alone, for the job page's refresh while the job runs."""
    jobs.get(session, viewer.principal, viewer.org, job_id)  # 404 unless the viewer may see the job
    logs = jobs.logs(session, viewer.principal, viewer.org, job_id, 0)
    return render(request, "_training_curve.html", {"viewer": viewer, "curve": training_curve(logs)})


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: str, viewer: FormWriter, session: SessionDep) -> Response:
    jobs.cancel(session, viewer.principal, viewer.org, job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.post("/jobs/{job_id}/retry")
def retry_job(job_id: str, viewer: FormWriter, session: SessionDep) -> Response:
    jobs.retry(session, viewer.principal, viewer.org, job_id)
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
