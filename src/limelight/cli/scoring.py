"""``limelight score-users``: rank every user a behaviour model knows.

Without ``--dataset`` it prints the top of the list from the model's ``:score`` verb. With
``--dataset`` the server does the work: a ``predict-behaviour/score-users`` job ranks every user on a
worker and stores the list as a version of that ``users`` dataset (``rank``, ``user_id``,
``probability``, ``top_reason``, ``reasons``); ``--output`` then saves it as CSV or Parquet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from limelight.cli.connection import ApiKeyOpt, JsonOpt, OrgOpt, UrlOpt, connect
from limelight.cli.inference import AliasOpt, VersionOpt
from limelight.cli.jobs import exit_for, follow_job
from limelight.cli.models import RefArg, owner_and_name
from limelight.cli.output import print_json, print_table, stderr

COLUMNS = ("rank", "user_id", "probability", "top_reason", "reasons")
RECIPE = "predict-behaviour/score-users"


def score_users(
    ref: RefArg,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="rank everyone in a server job and store "
                                                "the list as this users dataset (a new version if it exists)")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="with --dataset: also save the stored list "
                                                "here (CSV or Parquet, by --format)")] = None,
    limit: Annotated[int | None, typer.Option(min=1, max=10_000_000, help="how many users, most likely first "
                                              "(default: 1000 printed; every user with --dataset)")] = None,
    as_of: Annotated[str | None, typer.Option(help="the moment to predict from (ISO date or epoch seconds)")] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet, for --output")] = "csv",
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None, json_out: JsonOpt = False,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Rank every user of a behaviour model (churn: most at risk first); --dataset keeps the list."""
    if file_format not in ("csv", "parquet"):
        raise typer.BadParameter("csv or parquet", param_hint="--format")
    if output is not None and dataset is None:
        raise typer.BadParameter("--output saves the list a --dataset job stored", param_hint="--output")
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        if dataset is None:
            answer = client.score_users(f"{owner}/{name}", limit=limit or 1000, as_of=as_of, version=version,
                                        alias=alias)
            _print(answer, owner, name, json_out)
            return
        params: dict[str, Any] = {"output_dataset": dataset, "limit": limit, "as_of": as_of, "version": version,
                                  "alias": alias}
        job = client.jobs.submit(owner, RECIPE, name, params={k: v for k, v in params.items() if v is not None})
        job = follow_job(client, owner, job.id, timeout_s=24 * 3600.0, poll_interval_s=0.5, quiet=json_out)
        if job.state.value != "succeeded":
            exit_for(job)
        stored = client.datasets.get_version(owner, dataset, int(job.result["dataset_version"]))
        if output is not None:
            client.datasets.download(owner, dataset, stored.version, output, file_format=file_format)
    if json_out:
        print_json({"job": job.model_dump(mode="json"), "dataset": stored.model_dump(mode="json"),
                    "output": str(output) if output else None})
        return
    summary = job.result.get("summary") or {}
    print_table(summary.get("top") or [], [(c, _column(c)) for c in COLUMNS[:4]], empty="No users.")
    note = (f"{summary.get('users_kept')} of {summary.get('users_scored')} users, {owner}/{name} version "
            f"{job.result.get('version')}; stored as dataset {stored.dataset} version {stored.version}")
    stderr().print(f"[dim]{note}" + (f"; saved to {output}" if output else "") + "[/dim]")


def _print(answer: dict[str, Any], owner: str, name: str, json_out: bool) -> None:
    if json_out:
        print_json(answer)
        return
    rows = answer.get("users", [])
    print_table(rows[:50], [(c, _column(c)) for c in COLUMNS[:4]], empty="No users.")
    stderr().print(f"[dim]{len(rows)} of {answer.get('total')} users, {owner}/{name} version "
                   f"{answer.get('version', '?')}[/dim]")


def _column(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


def register(app: typer.Typer) -> None:
    app.command("score-users")(score_users)
