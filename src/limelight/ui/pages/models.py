"""Models and marketplace: search with facets and stars, the model page (card, versions, lineage), aliases,
visibility."""

from __future__ import annotations

import re
from collections.abc import Container
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from limelight.datasets import repository as datasets_repo
from limelight.datasets import service as datasets
from limelight.deployments import service as deployments
from limelight.errors import BadRequest, InvalidParams, NotFound
from limelight.jobs import forking
from limelight.jobs import service as jobs
from limelight.marketplace import service as marketplace
from limelight.registry import service as registry
from limelight.registry.cards import build_card
from limelight.schemas.common import NAME_PATTERN, Name
from limelight.schemas.jobs import JobCreate
from limelight.schemas.registry import (
    LICENCE_PATTERN,
    ForkRequest,
    ForkRetrain,
    ModelSearchPage,
    ModelUpdate,
    ModelVersionRead,
    RuntimeName,
    SearchSort,
    Task,
    Visibility,
)
from limelight.server.deps import SessionDep, StateDep
from limelight.ui.access import PageRoute
from limelight.ui.cards import render_card
from limelight.ui.classifier_report import classifier_report
from limelight.ui.rendering import render
from limelight.ui.version_comparison import MAX_VERSIONS, compare
from limelight.ui.viewer import FormMaintainer, FormSignedIn, FormWriter, ReaderPage, Viewer

router = APIRouter(route_class=PageRoute, include_in_schema=False)

COMMON_ALIASES = ("production", "staging", "canary")
OPTIONAL_NAME = r"^([a-z0-9][a-z0-9_-]{0,63})?$"
SCORE_RECIPE = "predict-behaviour/score-users"


TASKS = frozenset(t.value for t in Task)
RUNTIMES = frozenset(str(r) for r in RuntimeName)
SORTS = frozenset(s.value for s in SearchSort)
NAME_RE = re.compile(NAME_PATTERN)
LICENCE_RE = re.compile(LICENCE_PATTERN)
MARKETPLACE_PAGE = 48
FACET_LINKS = 12  # values shown per facet (the most frequent)
SINGLE_FACETS = ("task", "runtime", "org", "licence")


@router.get("/models")
def marketplace_page(request: Request, viewer: ReaderPage, session: SessionDep, state: StateDep,
                     q: Annotated[str | None, Query(max_length=500)] = None,
                     task: Annotated[str | None, Query(max_length=32)] = None,
                     runtime: Annotated[str | None, Query(max_length=32)] = None,
                     tag: Annotated[list[str] | None, Query(max_length=16)] = None,
                     org: Annotated[str | None, Query(max_length=64)] = None,
                     licence: Annotated[str | None, Query(max_length=64)] = None,
                     sort: Annotated[str | None, Query(max_length=16)] = None,
                     cursor: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """Search, facets with counts (each a link that adds or removes its filter), sort, stars.
    The form's "any" choices arrive as empty values: they mean no filter."""
    chosen: dict[str, Any] = {
        "q": q or "", "task": _kept(task, TASKS), "runtime": _kept(runtime, RUNTIMES), "org": _kept(org, NAME_RE),
        "licence": _kept(licence, LICENCE_RE), "tag": [t for t in (_kept(t, NAME_RE) for t in tag or []) if t],
        "sort": _kept(sort, SORTS)}
    params = marketplace.SearchParams(
        q=q or None, task=chosen["task"] or None, runtime=chosen["runtime"] or None, tags=tuple(chosen["tag"]),
        org=chosen["org"] or None, licence=chosen["licence"] or None,
        sort=SearchSort(chosen["sort"]) if chosen["sort"] else None)
    try:
        found = marketplace.search_page(session, viewer.principal, params, cursor=cursor or None,
                                        limit=MARKETPLACE_PAGE, counts=True, cache=state.search_cache)
        problem = None
    except BadRequest as exc:  # a search text with no word, a stale cursor: said on the page itself
        found, problem = ModelSearchPage(items=[], total=0, facets={}), exc.message
    return render(request, "models.html", {
        "viewer": viewer, "page": found, "models": found.items, "problem": problem, "chosen": chosen,
        "tasks": [t.value for t in Task], "sorts": [s.value for s in SearchSort],
        "facets": _facet_links(chosen, found.facets or {}),
        "next_href": f"/models?{_query(chosen, cursor=found.next_cursor)}" if found.next_cursor else None,
    })


def _kept(value: str | None, allowed: Container[str] | re.Pattern[str]) -> str:
    """A filter as chosen, or "" (no filter) when it is empty or could never match."""
    if not value:
        return ""
    ok = allowed.fullmatch(value) is not None if isinstance(allowed, re.Pattern) else value in allowed
    return value if ok else ""


def _query(chosen: dict[str, Any], **changes: Any) -> str:
    """The page's query string with ``changes`` applied (empty values left out)."""
    merged = {**chosen, **changes}
    pairs = [(key, value) for key, value in merged.items() if key != "tag" and value]
    pairs += [("tag", value) for value in merged.get("tag") or []]
    return urlencode(pairs)


def _facet_links(chosen: dict[str, Any], facets: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Per facet: its values with counts, each linking to the search with that value added (or
    removed, when it is already chosen)."""
    groups = []
    for name in ("task", "runtime", "org", "tag", "licence"):
        links = []
        for value, count in list(facets.get(name, {}).items())[:FACET_LINKS]:
            if name == "tag":
                selected = value in chosen["tag"]
                tags = [t for t in chosen["tag"] if t != value] if selected else [*chosen["tag"], value]
                href = _query(chosen, tag=tags, cursor=None)
            else:
                selected = chosen[name] == value
                href = _query(chosen, **{name: "" if selected else value}, cursor=None)
            links.append({"value": value, "count": count, "href": f"/models?{href}", "selected": selected})
        if links:
            groups.append({"name": name, "links": links})
    return groups


@router.get("/models/{org}/{name}")
def model_page(request: Request, org: Name, name: Name, viewer: ReaderPage, session: SessionDep) -> Response:
    model = registry.get_model(session, viewer.principal, org, name)
    versions = registry.list_versions(session, viewer.principal, org, name, before=None, limit=100)
    own = org == viewer.org
    shown = _reported_version(versions, model.aliases.get("production"))
    generated = build_card(model, shown, str(request.base_url))  # the card's facts are of the version shown
    return render(request, "model.html", {
        "generated": generated, "facts_html": render_card(generated.facts) if generated.facts else None,
        "viewer": viewer, "model": model, "versions": versions, "own": own,
        "card_html": render_card(model.card) if model.card.strip() else None,
        "lineage": _lineage(session, viewer, versions) if own else {},
        "deployment": _deployment(session, viewer, name) if own else None,
        "alias_names": sorted(set(COMMON_ALIASES) | set(model.aliases)),
        "production": model.aliases.get("production"),
        "report": classifier_report(shown.metrics) if shown else None,
        "report_version": shown.version if shown else None,
        "forks": marketplace.forks(session, viewer.principal, org, name),
        "retrainable": shown is not None and shown.job_id is not None,  # a fork copies this version
        "own_datasets": [] if own or not viewer.can("org:write") else [
            d.name for d in datasets.list_datasets(session, viewer.principal, viewer.org, after=None, limit=200)],
    })


def _reported_version(versions: list[ModelVersionRead], production: int | None) -> ModelVersionRead | None:
    """The version whose evaluation the page shows: production, else the newest."""
    return next((v for v in versions if v.version == production), versions[0] if versions else None)


def _lineage(session: Any, viewer: Viewer, versions: list[ModelVersionRead]) -> dict[int, str]:
    """version → "dataset/v" of the dataset version it was trained on (own org only)."""
    lineage = {}
    for version in versions:
        if version.dataset_version_id:
            found = datasets_repo.version_by_id(session, version.dataset_version_id)
            if found is not None and found[1].org_id == viewer.principal.org_id:
                lineage[version.version] = f"{found[1].name}/{found[0].version}"
    return lineage


def _deployment(session: Any, viewer: Viewer, name: str) -> Any:
    try:
        return deployments.get(session, viewer.principal, viewer.org, name)
    except NotFound:
        return None


@router.get("/models/{org}/{name}/compare")
def compare_page(request: Request, org: Name, name: Name, viewer: ReaderPage, session: SessionDep,
                 v: Annotated[list[int] | None, Query(max_length=MAX_VERSIONS)] = None) -> Response:
    """Chosen versions side by side (``?v=1&v=3``), oldest first: the deltas say what changed since
    it. With fewer than two chosen: production against the latest, else the two latest."""
    model = registry.get_model(session, viewer.principal, org, name)
    numbers = sorted(set(v or []))
    if len(numbers) < 2:
        recent = [x.version for x in registry.list_versions(session, viewer.principal, org, name, before=None,
                                                            limit=2)]
        production = model.aliases.get("production")
        latest = recent[0] if recent else None
        numbers = sorted({production, latest} if production and latest and production != latest else set(recent))
    versions = [registry.get_version(session, viewer.principal, org, name, n) for n in numbers]
    return render(request, "model_compare.html", {"viewer": viewer, "model": model, "comparison": compare(versions)})


def _back(org: str, name: str, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/models/{org}/{name}?notice={notice}", status_code=303)


@router.post("/models/{org}/{name}/aliases")
def set_alias(org: Name, name: Name, viewer: FormMaintainer, session: SessionDep,
              alias: Annotated[str, Form(max_length=64)], version: Annotated[int, Form(ge=1)]) -> Response:
    registry.set_alias(session, viewer.principal, org, name, alias, version, details={"via": "console"})
    return _back(org, name, "alias-set")


@router.post("/models/{org}/{name}/aliases/{alias}/delete")
def delete_alias(org: Name, name: Name, alias: Name, viewer: FormMaintainer, session: SessionDep) -> Response:
    registry.delete_alias(session, viewer.principal, org, name, alias)
    return _back(org, name, "alias-removed")


@router.post("/models/{org}/{name}/visibility")
def set_visibility(org: Name, name: Name, viewer: FormMaintainer, session: SessionDep,
                   visibility: Annotated[Visibility, Form()]) -> Response:
    registry.update_model(session, viewer.principal, org, name, ModelUpdate.model_validate({"visibility": visibility}))
    return _back(org, name, "visibility-set")


@router.post("/models/{org}/{name}/card")
def save_card(org: Name, name: Name, viewer: FormWriter, session: SessionDep,
              card: Annotated[str, Form(max_length=100_000)] = "") -> Response:
    registry.update_model(session, viewer.principal, org, name, ModelUpdate.model_validate({"card": card}))
    return _back(org, name, "card-saved")


@router.post("/models/{org}/{name}/score-users")
def score_users(org: Name, name: Name, viewer: FormWriter, session: SessionDep,
                output_dataset: Annotated[str, Form(max_length=64)],
                version: Annotated[int, Form(ge=1)], limit: Annotated[str, Form(max_length=12)] = "") -> Response:
    """Queues the batch-scoring job of a behaviour model and opens its page."""
    params: dict[str, Any] = {"output_dataset": output_dataset, "version": version}
    if limit.strip():
        params["limit"] = _positive(limit)
    job = jobs.submit(session, viewer.principal, org, JobCreate(recipe=SCORE_RECIPE, model=name, params=params))
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


def _positive(raw: str) -> int:
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InvalidParams("Top must be a whole number of users, at least 1.", details={"field": "limit"})
    return int(raw)


@router.post("/models/{org}/{name}/star")
def star_model(org: Name, name: Name, viewer: FormSignedIn, session: SessionDep,
               starred: Annotated[Literal["true", "false"], Form()]) -> Response:
    """Star (``starred=true``) or unstar a model the viewer can see, then back to its page."""
    (marketplace.star if starred == "true" else marketplace.unstar)(session, viewer.principal, org, name)
    return RedirectResponse(f"/models/{org}/{name}", status_code=303)


@router.post("/models/{org}/{name}/fork")
def fork_model(org: Name, name: Name, viewer: FormWriter, session: SessionDep,
               new_name: Annotated[str, Form(pattern=OPTIONAL_NAME)] = "",
               retrain_on: Annotated[str, Form(pattern=OPTIONAL_NAME)] = "") -> Response:
    """Fork into the viewer's org; with a dataset, retrain the fork on it too and show that job."""
    retrain = ForkRetrain(dataset=retrain_on) if retrain_on else None
    forked = forking.fork(session, viewer.principal, org, name,
                          ForkRequest(org=viewer.org, name=new_name or None, retrain=retrain))
    if forked.retrain_job:
        return RedirectResponse(f"/jobs/{forked.retrain_job}", status_code=303)
    return RedirectResponse(f"/models/{forked.org}/{forked.name}", status_code=303)
