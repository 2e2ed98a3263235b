"""``limelight models …``: the registry and the marketplace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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
    split_ref,
)
from limelight.cli.output import (
    print_json,
    print_page,
    print_record,
    print_table,
    stderr,
    to_jsonable,
    upload_progress,
    whole_page,
)
from limelight.client import Client
from limelight.schemas.common import Page
from limelight.schemas.registry import (
    ArtifactFormatName,
    ForkRetrain,
    ModelRead,
    ModelSearchPage,
    ModelVersionRead,
    RuntimeName,
    SearchSort,
    Task,
    VersionMeta,
    Visibility,
)

models_app = typer.Typer(help="Models: versions, aliases, publishing, forks, marketplace search.", no_args_is_help=True)

RefArg = Annotated[str, typer.Argument(metavar="MODEL", help="NAME (in --org) or ORG/NAME")]
MODEL_COLUMNS = [("model", lambda m: f"{m.org}/{m.name}"), ("task", lambda m: m.task), ("latest", lambda m: m.latest_version),
                 ("aliases", lambda m: m.aliases), ("visibility", lambda m: m.visibility), ("tags", lambda m: m.tags),
                 ("stars", lambda m: f"{m.stars}{' (yours)' if m.starred else ''}"), ("description", lambda m: m.description)]
LicenceOpt = Annotated[str | None, typer.Option("--licence", help='SPDX-like licence id, e.g. "Apache-2.0"')]
VERSION_COLUMNS = [("version", lambda v: v.version), ("runtime", lambda v: v.runtime), ("format", lambda v: v.format),
                   ("aliases", lambda v: v.aliases), ("metrics", lambda v: v.metrics),
                   ("size bytes", lambda v: v.size_bytes), ("created", lambda v: v.created_at)]


def json_arg(raw: str | None, option: str) -> dict[str, Any]:
    """A JSON object given inline or as ``@path/to/file.json``."""
    if raw is None:
        return {}
    text = Path(raw[1:]).read_text() if raw.startswith("@") else raw
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from exc
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint=option)
    return value


def owner_and_name(client: Client, ref: str, org: str | None) -> tuple[str, str]:
    owner, name = split_ref(ref, org)
    return owner or org_of(client, None), name


def model_ref(client: Client, ref: str, org: str | None) -> str:
    """``ORG/NAME`` for a MODEL argument: how the SDK's inference calls name a model."""
    owner, name = owner_and_name(client, ref, org)
    if not name or "/" in name:
        raise typer.BadParameter(f"{ref!r} is not NAME or ORG/NAME", param_hint="MODEL")
    return f"{owner}/{name}"


@models_app.command("create")
def create(
    name: str, task: Annotated[Task, typer.Option("--task", "-t", help="what the model does")],
    description: Annotated[str, typer.Option(help="one paragraph")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="repeat for several")] = None,
    public: Annotated[bool, typer.Option("--public", help="list it in the marketplace for every org")] = False,
    card: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="model card, Markdown file")] = None,
    licence: LicenceOpt = None,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Create an (empty) model; versions come from `models upload` or a training job."""
    with connect(url, api_key) as client:
        model = client.models.create(org_of(client, org), name, task, description=description, tags=tag or [],
                                     visibility=Visibility.public if public else Visibility.private,
                                     card=card.read_text() if card else "", licence=licence)
    _show_model(model, json_out)


@models_app.command("update")
def update(
    ref: RefArg, description: Annotated[str | None, typer.Option(help="new description")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="replaces all tags; repeat for several")] = None,
    visibility: Annotated[Visibility | None, typer.Option(help="public publishes to the marketplace")] = None,
    card: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="model card, Markdown file")] = None,
    archived: Annotated[bool | None, typer.Option("--archive/--unarchive", help="hide from lists, refuse new versions")] = None,
    licence: Annotated[str | None, typer.Option("--licence", help='SPDX-like licence id; "" removes it')] = None,
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Change a model's description, tags, visibility, card, licence or archived flag (only what is given)."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        model = client.models.update(owner, name, description=description, tags=tag, visibility=visibility,
                                     card=card.read_text() if card else None, archived=archived, licence=licence)
    _show_model(model, json_out)


@models_app.command("list")
def list_(limit: LimitOpt = 50, cursor: CursorOpt = None, all_pages: AllOpt = False, org: OrgOpt = None,
          json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Models of the organization (`models search` for the whole marketplace)."""
    with connect(url, api_key) as client:
        owner = org_of(client, org)
        if all_pages:
            page: Page[ModelRead] = whole_page(client.models.iter(owner, limit=limit))
        else:
            page = client.models.list(owner, limit=limit, cursor=cursor)
    print_page(page, MODEL_COLUMNS, as_json=json_out, empty="No models yet.")


@models_app.command("show")
def show(ref: RefArg, version: Annotated[int | None, typer.Option(min=1, help="show this version")] = None,
         org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """A model (aliases, latest version, card) or one of its versions."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        if version is not None:
            _show_version(client.models.get_version(owner, name, version), json_out)
            return
        model = client.models.get(owner, name)
    _show_model(model, json_out)


@models_app.command("versions")
def versions(ref: RefArg, limit: LimitOpt = 50, cursor: CursorOpt = None, all_pages: AllOpt = False,
             org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Versions of a model, newest first."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        if all_pages:
            page: Page[ModelVersionRead] = whole_page(client.models.iter_versions(owner, name, limit=limit))
        else:
            page = client.models.list_versions(owner, name, limit=limit, cursor=cursor)
    print_page(page, VERSION_COLUMNS, as_json=json_out, title=f"{owner}/{name}", empty="No versions yet.")


@models_app.command("upload")
def upload(
    ref: RefArg,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="onnx, lightgbm, skops, safetensors, …")],
    runtime: Annotated[RuntimeName, typer.Option(help="runtime that serves it")],
    format: Annotated[ArtifactFormatName | None, typer.Option(help="declared format, checked against the bytes")] = None,
    signature: Annotated[str | None, typer.Option(help="inputs/outputs, JSON or @file.json")] = None,
    params: Annotated[str | None, typer.Option(help="training parameters, JSON or @file.json")] = None,
    metrics: Annotated[str | None, typer.Option(help="evaluation metrics, JSON or @file.json")] = None,
    description: Annotated[str, typer.Option(help="what changed in this version")] = "",
    org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Upload an artifact file as the model's next version (streamed, with a progress bar)."""
    meta = VersionMeta(runtime=runtime, format=format, signature=json_arg(signature, "--signature"),
                       params=json_arg(params, "--params"), metrics=json_arg(metrics, "--metrics"),
                       description=description)
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        with upload_progress(file) as on_progress:
            created = client.models.upload_version(owner, name, file, meta, on_progress=on_progress)
    if not json_out:
        stderr().print(f"Registered {owner}/{name} version {created.version}.")
    _show_version(created, json_out)


@models_app.command("alias")
def alias(ref: RefArg, alias_name: Annotated[str, typer.Argument(metavar="ALIAS", help="e.g. production")],
          version: int, org: OrgOpt = None, json_out: JsonOpt = False, url: UrlOpt = None,
          api_key: ApiKeyOpt = None) -> None:
    """Point an alias at a version (atomically); inference uses `production` by default."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        model = client.models.set_alias(owner, name, alias_name, version)
    if json_out:
        print_json(model)
    else:
        stderr().print(f"{owner}/{name}@{alias_name} → version {version}.")


@models_app.command("unalias")
def unalias(ref: RefArg, alias_name: Annotated[str, typer.Argument(metavar="ALIAS")], org: OrgOpt = None,
            json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Remove an alias."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, org)
        model = client.models.delete_alias(owner, name, alias_name)
    if json_out:
        print_json(model)
    else:
        stderr().print(f"Removed alias {alias_name} of {owner}/{name}.")


@models_app.command("fork")
def fork(ref: Annotated[str, typer.Argument(metavar="ORG/NAME", help="the model to copy")],
         into: Annotated[str | None, typer.Option("--into", help="receiving org (default: the key's org)")] = None,
         new_name: Annotated[str | None, typer.Option("--name", help="name of the copy (default: same)")] = None,
         retrain_on: Annotated[str | None, typer.Option(
             "--retrain-on", metavar="DATASET",
             help="also retrain the copy on this dataset of yours, with the source's recipe and parameters")] = None,
         items_dataset: Annotated[str | None, typer.Option(help="your catalog, for recipes that use one")] = None,
         promote: Annotated[str | None, typer.Option(help="alias to move to the retrained version if it is at "
                                                          "least as good")] = None,
         json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Copy a public, shared or own model into your organization, and optionally retrain it on your data."""
    if retrain_on is None and (items_dataset or promote):
        raise typer.BadParameter("--items-dataset and --promote go with --retrain-on")
    retrain = ForkRetrain(dataset=retrain_on, items_dataset=items_dataset, promote=promote) if retrain_on else None
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, None)
        model = client.models.fork(owner, name, into or org_of(client, None), new_name=new_name, retrain=retrain)
    _show_model(model, json_out)
    if model.retrain_job and not json_out:
        stderr().print(f"Retraining as job {model.retrain_job}: `limelight jobs logs {model.retrain_job}` follows it.")


@models_app.command("search")
def search(query: Annotated[str | None, typer.Argument(help='words, "quoted phrases" and -exclusions')] = None,
           task: Annotated[Task | None, typer.Option(help="only this task")] = None,
           runtime: Annotated[RuntimeName | None, typer.Option(help="runtime of the production (else latest) version")] = None,
           tag: Annotated[list[str] | None, typer.Option("--tag", help="only models with this tag; repeat: all of them")] = None,
           org: Annotated[str | None, typer.Option("--org", help="only this organization's models")] = None,
           licence: LicenceOpt = None,
           metric: Annotated[list[str] | None, typer.Option("--metric", help="a range such as 'ndcg@10>=0.3' (>=, <=, >, <); "
                                                           "repeat: all of them")] = None,
           sort: Annotated[SearchSort | None, typer.Option(help="default: relevance with a query, newest without")] = None,
           limit: LimitOpt = 50, cursor: CursorOpt = None, all_pages: AllOpt = False, json_out: JsonOpt = False,
           url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Search the marketplace: every model you may see (yours and public ones), with counts per facet."""
    filters: dict[str, Any] = {"task": task, "runtime": str(runtime) if runtime else None, "tag": tag, "org": org,
                               "licence": licence, "metric": metric, "sort": sort}
    with connect(url, api_key) as client:
        if all_pages:
            page: Page[ModelRead] = whole_page(client.models.iter_search(query, limit=limit, **filters))
        else:
            page = client.models.search(query, limit=limit, cursor=cursor, **filters)
    if isinstance(page, ModelSearchPage) and page.total is not None:
        _show_search_page(page, json_out)
        return
    print_page(page, MODEL_COLUMNS, as_json=json_out, empty="No model matches.")


def _show_search_page(page: ModelSearchPage, json_out: bool) -> None:
    """A first page: the models, then how many match in all and the counts per facet."""
    if json_out:
        print_json({"items": to_jsonable(page.items), "next_cursor": page.next_cursor, "total": page.total,
                    "facets": page.facets})
        return
    print_page(page, MODEL_COLUMNS, as_json=False, empty="No model matches.")
    facets = page.facets or {}
    rows = [(name, ", ".join(f"{value} ({count})" for value, count in list(facets.get(name, {}).items())[:8]))
            for name in ("task", "runtime", "org", "tag", "licence") if facets.get(name)]
    if rows:
        print_table(rows, [("facet", lambda r: r[0]), ("values (models)", lambda r: r[1])],
                    title=f"{page.total} model{'s' if page.total != 1 else ''} match")


@models_app.command("star")
def star(ref: Annotated[str, typer.Argument(metavar="ORG/NAME", help="a model you can see")],
         json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Star a model (once per user; starring again changes nothing)."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, None)
        model = client.models.star(owner, name)
    if json_out:
        print_json(model)
    else:
        stderr().print(f"Starred {owner}/{name} ({model.stars} star{'s' if model.stars != 1 else ''}).")


@models_app.command("unstar")
def unstar(ref: Annotated[str, typer.Argument(metavar="ORG/NAME", help="a model you starred")],
           json_out: JsonOpt = False, url: UrlOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Remove your star from a model."""
    with connect(url, api_key) as client:
        owner, name = owner_and_name(client, ref, None)
        model = client.models.unstar(owner, name)
    if json_out:
        print_json(model)
    else:
        stderr().print(f"Removed your star from {owner}/{name} ({model.stars} left).")


def _show_model(model: ModelRead, json_out: bool) -> None:
    if json_out:
        print_json(model)
        return
    print_record([("task", model.task), ("description", model.description), ("tags", model.tags),
                  ("visibility", model.visibility), ("licence", model.licence),
                  ("stars", f"{model.stars}{' (starred by you)' if model.starred else ''}"),
                  ("latest version", model.latest_version),
                  ("aliases", model.aliases), ("forked from", model.forked_from), ("archived", model.archived),
                  ("needs retraining", model.needs_retraining), ("updated", model.updated_at)],
                 title=f"Model {model.org}/{model.name}")


def _show_version(version: ModelVersionRead, json_out: bool) -> None:
    if json_out:
        print_json(version)
        return
    print_record([("runtime", version.runtime), ("format", version.format), ("aliases", version.aliases),
                  ("metrics", version.metrics), ("params", version.params), ("size bytes", version.size_bytes),
                  ("sha256", version.sha256), ("job", version.job_id), ("description", version.description),
                  ("created", f"{version.created_at:%Y-%m-%d %H:%M:%S} by {version.created_by}")],
                 title=f"{version.org}/{version.model} v{version.version}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
