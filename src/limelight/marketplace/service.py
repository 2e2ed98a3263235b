"""The marketplace: every model the caller may see, searched and faceted; stars; forks.

Visibility is one rule everywhere: the caller's own org's models, every public one and those
shared with the caller's org for reading, never an archived one. Another org's private model is
absent from results and facet counts, and answers 404 to a star exactly like a missing model.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from limelight.audit import service as audit
from limelight.auth.principal import Permission, Principal, authorize
from limelight.db.models import ModelAlias, ModelVersion
from limelight.errors import BadRequest
from limelight.marketplace import repository
from limelight.marketplace.cache import SearchCache
from limelight.marketplace.query import parse_metric_ranges, parse_text
from limelight.pagination import decode_cursor, encode_cursor
from limelight.registry import repository as registry_repo
from limelight.registry import service as registry
from limelight.schemas.common import NAME_PATTERN
from limelight.schemas.registry import (
    FACETS,
    ForkRequest,
    ModelCreate,
    ModelRead,
    ModelSearchPage,
    SearchSort,
    Task,
    Visibility,
)

_NAME_RE = re.compile(NAME_PATTERN)
USAGE_DAYS = 30  # "usage" counts inference requests of the last 30 UTC days, today included
DAY_S = 86400
FACET_VALUES = 50  # the most frequent values of each facet are returned


@dataclass(frozen=True)
class SearchParams:
    """A marketplace search as the caller wrote it; the service parses and checks it."""

    q: str | None = None
    task: str | None = None
    runtime: str | None = None
    tags: tuple[str, ...] = ()
    org: str | None = None
    licence: str | None = None
    metrics: tuple[str, ...] = ()
    sort: SearchSort | None = None


def search_page(session: Session, principal: Principal, params: SearchParams, *, cursor: str | None,
                limit: int, counts: bool | None = None, now_s: float | None = None,
                cache: SearchCache | None = None) -> ModelSearchPage:
    """One page of results in the asked order (relevance with text, newest without) and the cursor of
    the next page; the first page (or any, with ``counts``) also has the total and the facet counts
    over every result."""
    authorize(principal, Permission.org_read)
    text = parse_text(params.q)
    filters = repository.Filters(
        text=text, task=params.task, runtime=params.runtime, tags=tuple(dict.fromkeys(params.tags)),
        org=params.org, licence=params.licence, metrics=parse_metric_ranges(list(params.metrics)))
    sort = params.sort or (SearchSort.relevance if text is not None and text.ranks else SearchSort.newest)
    after = _after(cursor, sort)
    now_s = time.time() if now_s is None else now_s
    since_s = usage_since_s(now_s)
    counted = counts if counts is not None else after is None  # counting every match costs more than a page
    found = repository.search(session, principal.org_id, filters, sort=sort.value, after=after, limit=limit,
                              usage_since_s=since_s, counted=counted, cache=cache, now_s=now_s)
    last = found.hits[-1] if len(found.hits) == limit else None
    page = ModelSearchPage(items=_reads(session, principal, found.hits),
                           next_cursor=encode_cursor(sort.value, last.key, last.org, last.model.name) if last else None)
    if found.facets is not None:
        page.total = sum(found.facets["task"].values())  # every model has exactly one task
        page.facets = {name: _most_frequent(found.facets[name]) for name in FACETS}
    return page


def usage_since_s(now_s: float) -> int:
    """Start of the usage window: midnight UTC, 29 days before today's."""
    return (int(now_s) // DAY_S - (USAGE_DAYS - 1)) * DAY_S


def _after(cursor: str | None, sort: SearchSort) -> tuple[Any, str, str] | None:
    """The keyset a cursor carries; one made for another sort, or not by this server, is a 400."""
    values = decode_cursor(cursor, 4)
    if values is None:
        return None
    made_for, key, org, name = values
    if made_for != sort.value:
        raise BadRequest("This cursor belongs to another search order; start again without it.",
                         details={"cursor": (cursor or "")[:50]})
    value = _cursor_key(key, sort)
    if value is None or not isinstance(org, str) or not isinstance(name, str) or not (
            _NAME_RE.match(org) and _NAME_RE.match(name)):
        raise BadRequest("Malformed cursor.", details={"cursor": (cursor or "")[:50]})
    return value, org, name


def _cursor_key(key: object, sort: SearchSort) -> Any:
    """The sort key a cursor holds, if it is one this sort could have written (else None)."""
    if sort is SearchSort.newest:
        try:
            moment = datetime.fromisoformat(key) if isinstance(key, str) else None
        except ValueError:
            return None
        return moment if moment is not None and moment.tzinfo is not None else None
    if isinstance(key, bool) or not isinstance(key, int | float):
        return None
    return key if abs(key) < 2**63 else None


def _most_frequent(counts: dict[str, int]) -> dict[str, int]:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:FACET_VALUES])


def _reads(session: Session, principal: Principal, hits: list[repository.Hit]) -> list[ModelRead]:
    ids = [hit.model.id for hit in hits]
    aliases = registry_repo.aliases_of(session, ids)
    starred = registry_repo.starred_by(session, ids, principal.user_id)
    return [registry.model_read(session, hit.model, hit.org, aliases=aliases.get(hit.model.id, {}),
                                starred=hit.model.id in starred) for hit in hits]


def search(session: Session, principal: Principal, *, q: str | None, task: str | None, tag: str | None,
           after: tuple[str, str] | None, limit: int) -> list[ModelRead]:
    """Every model the caller may see in (org, name) order, without facets: the serving directory's
    listing (``after`` is the last (org, name) seen)."""
    authorize(principal, Permission.org_read)
    filters = repository.Filters(text=parse_text(q), task=task, tags=(tag,) if tag else ())
    found = repository.search(session, principal.org_id, filters, sort="name",
                              after=(0.0, after[0], after[1]) if after else None, limit=limit)
    return _reads(session, principal, found.hits)


# ---- stars ---------------------------------------------------------------------------------

def star(session: Session, principal: Principal, org: str, name: str) -> ModelRead:
    """Stars a model the caller may see, once per user (starring again changes nothing)."""
    return _set_star(session, principal, org, name, starred=True)


def unstar(session: Session, principal: Principal, org: str, name: str) -> ModelRead:
    return _set_star(session, principal, org, name, starred=False)


def _set_star(session: Session, principal: Principal, org: str, name: str, *, starred: bool) -> ModelRead:
    model, owner = registry.visible_model(session, principal, org, name)
    change = registry_repo.add_star if starred else registry_repo.remove_star
    if change(session, model.id, principal.user_id):
        audit.record(session, principal, "model.star" if starred else "model.unstar", "model", f"{owner.name}/{name}")
        session.refresh(model, ["star_count"])  # a trigger counted it
    return registry.model_read(session, model, owner.name, starred=starred)


# ---- forks ---------------------------------------------------------------------------------

def fork(session: Session, principal: Principal, org: str, name: str, body: ForkRequest) -> ModelRead:
    """Copies a visible model and its production (else latest) version into the caller's org.

    Artifacts are content-addressed, so the fork shares the blob; nothing is copied on disk.
    """
    source, owner = registry.visible_model(session, principal, org, name)
    authorize(principal, Permission.org_write, body.org)
    version = registry.resolve(session, source, owner.name, version=None, alias=None)
    target_name = body.name or source.name
    registry.create_model(
        session, principal, body.org,
        ModelCreate(name=target_name, task=Task(source.task), description=source.description,
                    tags=source.tags or [], visibility=Visibility.private, card=source.card,
                    licence=source.licence or None),
        forked_from=f"{owner.name}/{source.name}@{version.version}",
    )
    target = registry_repo.model_by_name(session, principal.org_id, target_name)
    assert target is not None
    target.latest_version = 1
    copy = ModelVersion(
        model_id=target.id, version=1, blob_sha256=version.blob_sha256, size_bytes=version.size_bytes,
        format=version.format, runtime=version.runtime, signature=version.signature, params=version.params,
        metrics=version.metrics, description=f"fork of {owner.name}/{source.name} v{version.version}",
        created_by=principal.username, validation=version.validation, card_facts=version.card_facts,
    )
    session.add(copy)
    session.flush()
    session.add(ModelAlias(model_id=target.id, alias="production", version_id=copy.id))
    session.flush()
    audit.record(session, principal, "model.fork", "model", f"{body.org}/{target_name}",
                 {"source": f"{owner.name}/{source.name}", "version": version.version})
    return registry.model_read(session, target, body.org, user_id=principal.user_id)


def forks(session: Session, principal: Principal, org: str, name: str) -> list[ModelRead]:
    """The forks of a model that the caller may see (another org's private fork stays unseen)."""
    _, owner = registry.visible_model(session, principal, org, name)
    found = repository.forks_of(session, principal.org_id, f"{owner.name}/{name}")
    return [registry.model_read(session, model, fork_org, user_id=principal.user_id) for model, fork_org in found]
