"""``limelight datasets upload|list|show|download|delete``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from limelight.cli.output import (
    print_json,
    print_page,
    print_record,
    print_table,
    stderr,
    upload_progress,
    whole_page,
)
from limelight.schemas.common import Page
from limelight.schemas.datasets import DatasetKind, DatasetRead, DatasetVersionRead

datasets_app = typer.Typer(help="Datasets: upload files as immutable, validated versions.", no_args_is_help=True)

DATASET_COLUMNS = [("name", lambda d: d.name), ("kind", lambda d: d.kind), ("latest", lambda d: d.latest_version),
                   ("description", lambda d: d.description), ("created", lambda d: d.created_at)]


@datasets_app.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV, TSV, JSON Lines or Parquet file; for images, a zip or tar")],
    name: Annotated[str, typer.Option("--name", "-n", help="dataset name; an existing one gets a new version")],
    kind: Annotated[DatasetKind, typer.Option("--kind", "-k", help="what the table holds")],
    description: Annotated[str | None, typer.Option(help="what this dataset is")] = None,
    target: Annotated[str | None, typer.Option(help="tabular: the label column, if not named target")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="images: keep the readable pictures when "
                                                                      "some are not (default: refuse)")] = False,
    labels: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, readable=True,
                                                help="images: a path,label CSV for the archive's pictures")] = None,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Upload a file as the next version of a dataset (streamed, with a progress bar)."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        with upload_progress(file) as on_progress:
            version = client.datasets.upload(owner, file, name, kind, description=description, target=target,
                                             skip_invalid=skip_invalid, labels=labels, on_progress=on_progress)
    if json_out:
        print_json(version)
        return
    stderr().print(f"Stored {version.org}/{version.dataset} version {version.version}.")
    _show_version(version)


@datasets_app.command("import-movielens")
def import_movielens(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, readable=True,
                                           help="a MovieLens folder: ml-100k (u.data/u.item), ml-1m "
                                                "(ratings.dat/movies.dat) or ml-latest (ratings.csv/movies.csv)")],
    ratings_name: Annotated[str, typer.Option(help="dataset name for the ratings (kind interactions)")] = "ratings",
    movies_name: Annotated[str, typer.Option(help="dataset name for the movies (kind items)")] = "movies",
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Import a MovieLens release as two datasets: ratings (interactions) and movies (items, with year)."""
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    from limelight.recsys.movielens import load_movielens

    data = load_movielens(folder)
    stderr().print(f"Read {data.layout}: {len(data.ratings):,} ratings, {len(data.items):,} movies.")
    ratings = pa.table({"user_id": data.user_ids, "item_id": data.item_ids, "rating": data.ratings,
                        "timestamp": data.timestamps})
    movies = pa.Table.from_pylist(data.items)
    uploaded = []
    with tempfile.TemporaryDirectory() as tmp, connect(url, api_key) as client:
        owner = org_of(client, org)
        for name, kind, table in ((ratings_name, DatasetKind.interactions, ratings),
                                  (movies_name, DatasetKind.items, movies)):
            path = Path(tmp) / f"{name}.parquet"
            pq.write_table(table, path)
            with upload_progress(path) as on_progress:
                uploaded.append(client.datasets.upload(owner, path, name, kind, description=f"MovieLens {data.layout}",
                                                       on_progress=on_progress))
    if json_out:
        print_json(uploaded)
        return
    for version in uploaded:
        stderr().print(f"Stored {version.org}/{version.dataset} version {version.version} ({version.rows:,} rows).")


@datasets_app.command("list")
def list_(kind: Annotated[DatasetKind | None, typer.Option(help="only this kind")] = None,
          limit: LimitOpt = 50, cursor: CursorOpt = None, all_pages: AllOpt = False, org: OrgOpt = None,
          json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Datasets of the organization, by name."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        if all_pages:
            page: Page[DatasetRead] = whole_page(client.datasets.iter(owner, kind=kind, limit=limit))
        else:
            page = client.datasets.list(owner, kind=kind, limit=limit, cursor=cursor)
    print_page(page, DATASET_COLUMNS, as_json=json_out, empty="No datasets yet: limelight datasets upload FILE ...")


@datasets_app.command("show")
def show(name: str, version: Annotated[int | None, typer.Option(min=1, help="a version (default: latest)")] = None,
         org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """A dataset with its latest version's schema and profile, or one given version."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        if version is None:
            dataset = client.datasets.get(owner, name)
        else:
            shown = client.datasets.get_version(owner, name, version)
    if version is not None:
        if json_out:
            print_json(shown)
        else:
            _show_version(shown)
        return
    if json_out:
        print_json(dataset)
        return
    print_record([("kind", dataset.kind), ("description", dataset.description), ("versions", dataset.versions),
                  ("created", dataset.created_at)], title=f"Dataset {dataset.org}/{dataset.name}")
    if dataset.latest is not None:
        _show_version(dataset.latest)


def _show_version(version: DatasetVersionRead) -> None:
    print_record([("version", version.version), ("kind", version.kind), ("rows", version.rows),
                  ("size bytes", version.size_bytes), ("format", version.source_format),
                  ("file", version.source_filename), ("sha256", version.sha256),
                  ("created", f"{version.created_at:%Y-%m-%d %H:%M:%S} by {version.created_by}")],
                 title=f"{version.org}/{version.dataset} v{version.version}")
    print_table(version.columns, [("column", lambda c: c.name), ("type", lambda c: c.type)])


@datasets_app.command("download")
def download(
    name: str,
    output: Annotated[Path | None, typer.Option("--output", help="file to write (default: "
                                                "ORG-NAME-vN.FORMAT here)")] = None,
    version: Annotated[int | None, typer.Option(min=1, help="a version (default: latest)")] = None,
    file_format: Annotated[str, typer.Option("--format", help="parquet (as stored) or csv")] = "parquet",
    org: OrgOpt = None, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Save a dataset version's rows as Parquet or CSV (a ranked list from score-users, say)."""
    if file_format not in ("parquet", "csv"):
        raise typer.BadParameter("parquet or csv", param_hint="--format")
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        number = version or client.datasets.get(owner, name).latest_version
        dest = output or Path(f"{owner}-{name}-v{number}.{file_format}")
        client.datasets.download(owner, name, number, dest, file_format=file_format)
    stderr().print(f"Saved {owner}/{name} version {number} to {dest} ({dest.stat().st_size} bytes).")


@datasets_app.command("delete")
def delete(name: str, yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
           org: OrgOpt = None, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Delete a dataset with every version (maintainers)."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        if not yes:
            typer.confirm(f"Delete {owner}/{name} and all its versions?", abort=True, err=True)
        client.datasets.delete(owner, name)
    stderr().print(f"Deleted {owner}/{name}.")


def register(app: typer.Typer) -> None:
    app.add_typer(datasets_app, name="datasets")
