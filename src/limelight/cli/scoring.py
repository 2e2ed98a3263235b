"""``limelight score-users``: rank every user a behaviour model knows and keep the list as a dataset.

The ranked list comes from the model's ``:score`` verb; this command writes it to a CSV or Parquet
file and uploads it as a ``users`` dataset (``user_id`` plus ``rank``, ``probability``,
``top_reason``, ``reasons``), through the same streaming upload as any file. Training jobs register
model versions, never datasets, so the list is composed here, on the client side.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from limelight.cli.connection import ApiKeyOpt, JsonOpt, OrgOpt, UrlOpt, connect
from limelight.cli.inference import AliasOpt, VersionOpt
from limelight.cli.models import RefArg, owner_and_name
from limelight.cli.output import print_json, print_table, stderr

COLUMNS = ("rank", "user_id", "probability", "top_reason", "reasons")


def write_ranked(rows: list[dict[str, Any]], path: Path, fmt: Literal["csv", "parquet"]) -> Path:
    import pyarrow as pa

    table = pa.Table.from_pylist([{c: row.get(c) for c in COLUMNS} for row in rows], schema=pa.schema(
        [("rank", pa.int64()), ("user_id", pa.string()), ("probability", pa.float64()),
         ("top_reason", pa.string()), ("reasons", pa.string())]))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    return path


def score_users(
    ref: RefArg,
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="store the ranked list as this users "
                                                                       "dataset (a new version if it exists)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="how many users, most likely first")] = 1000,
    as_of: Annotated[str | None, typer.Option(help="the moment to predict from (ISO date or epoch seconds)")] = None,
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None, json_out: JsonOpt = False,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Rank every user of a behaviour model (churn: most at risk first); --dataset keeps the list."""
    if file_format not in ("csv", "parquet"):
        raise typer.BadParameter("csv or parquet", param_hint="--format")
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        answer = client.score_users(owner, name, limit=limit, as_of=as_of, version=version, alias=alias)
        rows = answer.get("users", [])
        stored = None
        if dataset is not None:
            with tempfile.TemporaryDirectory(prefix="limelight-scores-") as tmp:
                path = write_ranked(rows, Path(tmp) / f"{dataset}.{file_format}", file_format)  # type: ignore[arg-type]
                stored = client.datasets.upload(owner, path, dataset, "users",
                                                description=f"users ranked by {owner}/{name} version "
                                                            f"{answer.get('version')}")
    if json_out:
        print_json({**answer, "dataset": stored.model_dump(mode="json") if stored else None})
        return
    print_table(rows[:50], [(c, _column(c)) for c in COLUMNS[:4]], empty="No users.")
    note = f"{len(rows)} of {answer.get('total')} users, {owner}/{name} version {answer.get('version', '?')}"
    if stored is not None:
        note += f"; stored as dataset {stored.dataset} version {stored.version}"
    stderr().print(f"[dim]{note}[/dim]")


def _column(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


def register(app: typer.Typer) -> None:
    app.command("score-users")(score_users)
