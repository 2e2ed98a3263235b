"""``limelight jobs submit|list|show|logs|cancel|wait`` and ``limelight recipes list``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from limelight.cli.connection import (
    AllOpt,
    ApiKeyOpt,
    CursorOpt,
    JsonOpt,
    LimitOpt,
    OrgOpt,
    UrlOpt,
    connect,
    org_of,
)
from limelight.cli.output import print_json, print_page, print_record, print_table, stderr, stdout, whole_page
from limelight.client import Client
from limelight.schemas.common import Page
from limelight.schemas.jobs import JobRead, JobState

jobs_app = typer.Typer(help="Background jobs: training runs and their logs.", no_args_is_help=True)
recipes_app = typer.Typer(help="Training recipes the server offers.", no_args_is_help=True)

JOB_COLUMNS = [("id", lambda j: j.id), ("recipe", lambda j: j.recipe), ("model", lambda j: j.model),
               ("state", lambda j: j.state), ("progress %", lambda j: round(j.progress)),
               ("message", lambda j: j.message), ("created", lambda j: j.created_at)]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help="give up after this many seconds")]
IntervalOpt = Annotated[float, typer.Option("--interval", min=0.05, help="seconds between polls")]


def parse_params(pairs: list[str] | None, params_json: str | None) -> dict[str, Any]:
    """``--params-json`` first, then each ``--param key=value`` (value read as JSON, else as text)."""
    params: dict[str, Any] = {}
    if params_json:
        loaded = json.loads(params_json)
        if not isinstance(loaded, dict):
            raise typer.BadParameter("must be a JSON object", param_hint="--params-json")
        params.update(loaded)
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


@jobs_app.command("submit")
def submit(
    recipe: Annotated[str, typer.Argument(help="e.g. classify/lightgbm (see `limelight recipes list`)")],
    model: Annotated[str, typer.Option("--model", "-m", help="model to register the result under (created if missing)")],
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="training dataset (latest version)")] = None,
    dataset_version: Annotated[int | None, typer.Option(min=1, help="pin a dataset version")] = None,
    items_dataset: Annotated[str | None, typer.Option(help="catalog (kind items) for recommenders")] = None,
    users_dataset: Annotated[str | None, typer.Option(help="end-user profiles (kind users) for behaviour")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="recipe parameter key=value; repeat")] = None,
    params_json: Annotated[str | None, typer.Option(help="recipe parameters as one JSON object")] = None,
    max_attempts: Annotated[int | None, typer.Option(min=1, max=5, help="attempts in all if workers die mid-job")] = None,
    promote: Annotated[str | None, typer.Option(help="alias the new version takes if it scores at least as well")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the job until it ends")] = False,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Queue a training job."""
    params = parse_params(param, params_json)
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        job = client.jobs.submit(owner, recipe, model, dataset=dataset, dataset_version=dataset_version,
                                 items_dataset=items_dataset, params=params, max_attempts=max_attempts,
                                 promote=promote, users_dataset=users_dataset)
        if not json_out:
            stderr().print(f"Queued job {job.id} ({job.recipe} → {owner}/{job.model}).")
        if wait:
            job = follow_job(client, owner, job.id, timeout_s=24 * 3600.0, poll_interval_s=1.0, quiet=json_out)
    if json_out:
        print_json(job)
    elif wait:
        _show(job, False)
    else:
        print(job.id)  # alone on stdout, for JOB=$(limelight jobs submit ...)
    if wait:
        exit_for(job)


@jobs_app.command("list")
def list_(state: Annotated[JobState | None, typer.Option(help="only jobs in this state")] = None,
          model: Annotated[str | None, typer.Option(help="only jobs for this model")] = None,
          limit: LimitOpt = 50, cursor: CursorOpt = None, all_pages: AllOpt = False, org: OrgOpt = None,
          json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Jobs of the organization, newest first."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        if all_pages:
            page: Page[JobRead] = whole_page(client.jobs.iter(owner, state=state, model=model, limit=limit))
        else:
            page = client.jobs.list(owner, state=state, model=model, limit=limit, cursor=cursor)
    print_page(page, JOB_COLUMNS, as_json=json_out, empty="No jobs.")


@jobs_app.command("show")
def show(job_id: str, follow: Annotated[bool, typer.Option("--follow", "-f", help="live progress until it ends")] = False,
         org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """One job: state, progress, result or error."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        if follow:
            job = follow_job(client, owner, job_id, timeout_s=24 * 3600.0, poll_interval_s=1.0, quiet=json_out)
        else:
            job = client.jobs.get(owner, job_id)
    _show(job, json_out)


@jobs_app.command("wait")
def wait(job_id: str, timeout_s: TimeoutOpt = 3600.0, interval_s: IntervalOpt = 1.0, org: OrgOpt = None,
         json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Wait for a job with a live progress bar; exit 0 if it succeeded, 1 if it failed, was cancelled or timed out."""
    with connect(url, api_key) as client:
        job = follow_job(client, org_of(client, org), job_id, timeout_s=timeout_s, poll_interval_s=interval_s,
                      quiet=json_out)
    _show(job, json_out)
    exit_for(job)


@jobs_app.command("logs")
def logs(job_id: str, after: Annotated[int | None, typer.Option(min=0, help="only lines after this sequence number")] = None,
         org: OrgOpt = None, json_out: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
         url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Print a job's log, following it live until the job ends."""
    console = stdout()
    with connect(url, api_key) as client:
        for line in client.jobs.logs(org_of(client, org), job_id, after_seq=after):
            if json_out:
                print(line.model_dump_json(), flush=True)
            else:
                console.print(f"[dim]{line.ts:%H:%M:%S}[/dim] {_level(line.level)} {escape(line.message)}")


@jobs_app.command("cancel")
def cancel(job_id: str, org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None,
           api_key: ApiKeyOpt = None) -> None:
    """Cancel a queued or running job (a running one stops at its next checkpoint)."""
    with connect(url, api_key) as client:
        job = client.jobs.cancel(org_of(client, org), job_id)
    _show(job, json_out)


@jobs_app.command("retry")
def retry(job_id: str, follow: Annotated[bool, typer.Option("--follow", "-f", help="live progress until it ends")] = False,
          org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Run a failed or cancelled job again: the same recipe, parameters and data version, as its next attempt."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        job = client.jobs.retry(owner, job_id)
        if follow:
            job = follow_job(client, owner, job_id, timeout_s=24 * 3600.0, poll_interval_s=1.0, quiet=json_out)
    _show(job, json_out)
    if follow:
        exit_for(job)


@recipes_app.command("list")
def recipes_list(json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Recipes with their task and the dataset kind they train on."""
    with connect(url, api_key) as client:
        recipes = client.recipes.list()
    if json_out:
        print_json(recipes)
        return
    print_table(recipes, [("recipe", lambda r: r.name), ("task", lambda r: r.task),
                          ("dataset kind", lambda r: r.dataset_kind), ("description", lambda r: r.description),
                          ("params", lambda r: sorted(r.params_schema.get("properties", {})))])


def follow_job(client: Client, org: str, job_id: str, *, timeout_s: float, poll_interval_s: float,
            quiet: bool) -> JobRead:
    """`jobs.wait` behind a live Rich progress bar on stderr (nothing drawn with --json)."""
    if quiet:
        return client.jobs.wait(org, job_id, timeout_s=timeout_s, poll_interval_s=poll_interval_s)
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                        TimeElapsedColumn(), console=stderr(), transient=True)
    with progress:
        task = progress.add_task(f"job {job_id}", total=100)

        def update(job: JobRead) -> None:
            text = f"{job.recipe} [bold]{job.state.value}[/bold]" + (f": {escape(job.message)}" if job.message else "")
            progress.update(task, completed=100 if job.state == JobState.succeeded else job.progress, description=text)

        return client.jobs.wait(org, job_id, timeout_s=timeout_s, poll_interval_s=poll_interval_s, on_progress=update)


def _show(job: JobRead, json_out: bool) -> None:
    if json_out:
        print_json(job)
        return
    print_record([("id", job.id), ("recipe", job.recipe), ("model", job.model), ("state", job.state),
                  ("progress %", round(job.progress, 1)), ("message", job.message), ("params", job.params),
                  ("promote", job.promote), ("attempts", f"{job.attempts}/{job.max_attempts}"), ("error", job.error), ("result", job.result),
                  ("created", f"{job.created_at:%Y-%m-%d %H:%M:%S} by {job.created_by}"),
                  ("started", job.started_at), ("finished", job.finished_at)], title=f"Job {job.id}")
    candidates = (job.result.get("summary") or {}).get("candidates") or []
    if candidates:
        print_table(candidates, _candidate_columns(candidates), title="Candidates (validation metrics)")


def _candidate_columns(rows: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """recipe, every ``metric@k`` the rows carry, then the training seconds."""
    metrics = [name for name in rows[0] if "@" in name]
    columns: list[tuple[str, Any]] = [("recipe", lambda r: r["recipe"])]
    columns += [(name, lambda r, n=name: round(r[n], 4) if isinstance(r.get(n), float) else r.get(n))
                for name in metrics]
    columns.append(("train s", lambda r: round(r.get("train_seconds", 0.0), 2)))
    return columns


def exit_for(job: JobRead) -> None:
    if job.state != JobState.succeeded:
        stderr().print(f"[red]Job {job.id} {job.state.value}[/red]" + (f": {escape(job.error)}" if job.error else ""))
        raise typer.Exit(1)


def _level(level: str) -> str:
    colour = {"error": "red", "warning": "yellow", "info": "cyan"}.get(level.lower(), "white")
    return f"[{colour}]{escape(level.upper()):<7}[/{colour}]"


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(recipes_app, name="recipes")
