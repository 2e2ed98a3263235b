"""``limelight predict``, ``recommend``, ``classify``, ``search`` and ``invoke`` (any verb): call a served model."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from limelight.cli.connection import ApiKeyOpt, JsonOpt, OrgOpt, UrlOpt, connect
from limelight.cli.models import RefArg, json_arg, model_ref
from limelight.cli.output import print_json, print_table, stderr

VersionOpt = Annotated[int | None, typer.Option(min=1, help="call this version")]
AliasOpt = Annotated[str | None, typer.Option(help="call the version behind this alias (default: production)")]


def read_inputs(raw: str) -> list[Any]:
    """A JSON array given inline, as ``@file.json``, or ``-`` for stdin; one JSON value means a batch of one."""
    text = sys.stdin.read() if raw == "-" else Path(raw[1:]).read_text() if raw.startswith("@") else raw
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="INPUTS") from exc
    return value if isinstance(value, list) else [value]


def predict(
    ref: RefArg,
    inputs: Annotated[str, typer.Argument(help="JSON array of inputs, @file.json, or - for stdin")],
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Run a model on a batch of inputs; prints the JSON answer (outputs, model, version)."""
    batch = read_inputs(inputs)
    with connect(url, api_key) as client:
        answer = client.predict(model_ref(client, ref, org), batch, version=version, alias=alias)
    print_json(answer)


def recommend(
    ref: RefArg, user_id: Annotated[str, typer.Argument(help="the end user to recommend for")],
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="how many items")] = 10,
    include_seen: Annotated[bool, typer.Option("--include-seen", help="allow items the user already had")] = False,
    filters: Annotated[str | None, typer.Option(help="JSON object (or @file.json) of item filters")] = None,
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None, json_out: JsonOpt = False,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Top-k items for one end user."""
    with connect(url, api_key) as client:
        model = model_ref(client, ref, org)
        answer = client.recommend(model, user_id, k, exclude_seen=not include_seen,
                                  filters=json_arg(filters, "--filters") or None, version=version, alias=alias)
    if json_out:
        print_json(answer)
        return
    items = answer.get("items", [])
    extra = sorted({key for item in items for key in item} - {"item_id", "score"})
    columns = [(key, _field(key)) for key in ("item_id", "score", *extra)]
    print_table(items, columns, empty="No items.")
    note = f"{model} version {answer.get('version', '?')}"
    if answer.get("fallback"):
        note += f", fallback: {answer['fallback']}"
    stderr().print(f"[dim]{note}[/dim]")


def classify(
    ref: RefArg, texts: Annotated[list[str], typer.Argument(help="one or more texts to label")],
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="labels per text")] = None,
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None, json_out: JsonOpt = False,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Label texts with a text classifier (its top label and score per text)."""
    with connect(url, api_key) as client:
        model = model_ref(client, ref, org)
        answer = client.classify(model, texts, top_k=top_k, version=version, alias=alias)
    if json_out:
        print_json(answer)
        return
    rows = [{"text": text, **p} for text, p in zip(texts, answer.get("predictions", []), strict=False)]
    print_table(rows, [("text", _field("text")), ("label", _field("label")), ("score", _field("score")),
                       ("labels", lambda r: ", ".join(f"{x['label']} {x['score']:.3f}" for x in r["labels"])),
                       ("truncated", _field("truncated"))], empty="No predictions.")
    stderr().print(f"[dim]{model} version {answer.get('version', '?')}[/dim]")


def search(
    ref: RefArg, query: Annotated[str, typer.Argument(help="what to look for, in words")],
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="how many items")] = 10,
    mode: Annotated[str | None, typer.Option(help="hybrid (default), lexical or semantic")] = None,
    filters: Annotated[str | None, typer.Option(help="JSON object (or @file.json) of item filters")] = None,
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None, json_out: JsonOpt = False,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Search a catalog with a search model (hybrid BM25 + embeddings by default)."""
    with connect(url, api_key) as client:
        model = model_ref(client, ref, org)
        answer = client.search(model, query, k, mode=mode, filters=json_arg(filters, "--filters") or None,
                               version=version, alias=alias)
    if json_out:
        print_json(answer)
        return
    print_table(answer.get("items", []), [(key, _field(key)) for key in ("item_id", "score", "title")],
                empty="No items.")
    stderr().print(f"[dim]{model} version {answer.get('version', '?')}, {answer.get('index', '')} index[/dim]")


def invoke(
    ref: RefArg, verb: Annotated[str, typer.Argument(help="the verb: recommend, predict, classify, search, ask, …")],
    body: Annotated[str, typer.Argument(help="the request body: a JSON object, @file.json, or - for stdin")],
    version: VersionOpt = None, alias: AliasOpt = None, org: OrgOpt = None,
    url: UrlOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Call any verb of a model with its JSON body (what a model card's snippets use); prints the JSON answer."""
    text = sys.stdin.read() if body == "-" else Path(body[1:]).read_text() if body.startswith("@") else body
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint="BODY") from exc
    if not isinstance(payload, dict):
        raise typer.BadParameter("the body must be a JSON object", param_hint="BODY")
    with connect(url, api_key) as client:
        answer = client.invoke(model_ref(client, ref, org), verb, payload, version=version, alias=alias)
    print_json(answer)


def _field(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda item: item.get(key)


def register(app: typer.Typer) -> None:
    app.command()(predict)
    app.command()(recommend)
    app.command()(classify)
    app.command()(search)
    app.command()(invoke)
