"""A cached search answers exactly what the search itself would, after every kind of write, on
SQLite and PostgreSQL (the search generation of migration 0006)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, text, update

from limelight.auth.principal import Principal
from limelight.db.models import Org
from limelight.marketplace import repository
from limelight.marketplace import service as marketplace
from limelight.marketplace.cache import SearchCache, generation
from limelight.marketplace.query import parse_text
from limelight.monitoring import service as monitoring
from limelight.monitoring.rollups import RollupBuffer
from limelight.registry import service as registry
from limelight.schemas.registry import ModelCreate, ModelUpdate, Task, VersionMeta
from tests.marketplace.test_triggers import _owner


def _search(database, viewer: Principal, cache: SearchCache | None, *, q: str | None = None,  # type: ignore[no-untyped-def]
            sort: str = "newest", now_s: float | None = None
            ) -> tuple[list[tuple[str, str, Any]], dict[str, dict[str, int]] | None]:
    filters = repository.Filters(text=parse_text(q) if q else None)
    now_s = time.time() if now_s is None else now_s
    with database.transaction(write=False) as session:
        found = repository.search(session, viewer.org_id, filters, sort=sort, after=None, limit=20, counted=True,
                                  usage_since_s=marketplace.usage_since_s(now_s), cache=cache, now_s=now_s)
    return [(hit.org, hit.model.name, hit.key) for hit in found.hits], found.facets


def _same_as_uncached(database, viewer: Principal, cache: SearchCache, **search: Any):  # type: ignore[no-untyped-def]
    cached = _search(database, viewer, cache, **search)
    assert cached == _search(database, viewer, None, **search)
    return cached


def test_every_write_a_search_can_see_moves_the_generation_and_the_cache_follows(database):
    ann, bob = _owner(database), _owner(database, "beta", "bob")
    cache = SearchCache()
    with database.transaction() as session:
        registry.create_model(session, ann, "acme", ModelCreate(name="whale-song", task=Task.classify,
                                                                  visibility="public"))
    rows, facets = _same_as_uncached(database, bob, cache, q="whale", sort="relevance")
    assert [name for _, name, _ in rows] == ["whale-song"] and facets is not None and facets["task"] == {"classify": 1}
    hits = cache.hits
    assert _search(database, bob, cache, q="whale", sort="relevance")[0] == rows
    assert cache.hits == hits + 2  # the page and the counts, with no write in between

    def changed(write) -> None:  # type: ignore[no-untyped-def]
        with database.transaction(write=False) as session:
            before = generation(session)
        with database.transaction() as session:
            write(session)
        with database.transaction(write=False) as session:
            assert generation(session) > before

    changed(lambda s: registry.update_model(s, ann, "acme", "whale-song", ModelUpdate(description="orca calls")))
    assert [name for _, name, _ in _same_as_uncached(database, bob, cache, q="orca", sort="relevance")[0]] == [
        "whale-song"]
    changed(lambda s: registry.register_version(s, ann, "acme", "whale-song", sha256="a" * 64, size_bytes=1,
                                                fmt="json", meta=VersionMeta(runtime="sklearn")))
    assert _same_as_uncached(database, bob, cache, q="whale", sort="relevance")[1]["runtime"] == {  # type: ignore[index]
        "sklearn": 1}
    changed(lambda s: marketplace.star(s, bob, "acme", "whale-song"))
    assert _same_as_uncached(database, bob, cache, sort="stars")[0][0][2] == 1
    changed(lambda s: s.execute(update(Org).where(Org.id == ann.org_id).values(name="acme-2")))
    assert _same_as_uncached(database, bob, cache, q="whale", sort="relevance")[1]["org"] == {  # type: ignore[index]
        "acme-2": 1}
    changed(lambda s: s.execute(text("UPDATE models SET visibility = 'private'")))
    assert _same_as_uncached(database, bob, cache, q="whale", sort="relevance") == ([], {
        "task": {}, "runtime": {}, "org": {}, "tag": {}, "licence": {}})
    assert [name for _, name, _ in _same_as_uncached(database, ann, cache, q="whale", sort="relevance")[0]] == [
        "whale-song"]  # the owner still sees it
    changed(lambda s: s.execute(delete(Org).where(Org.id == ann.org_id)))  # cascades to the models
    assert _same_as_uncached(database, ann, cache, q="whale", sort="relevance")[0] == []


def test_a_usage_ordered_page_lags_traffic_by_at_most_a_minute(database):
    ann = _owner(database)
    cache = SearchCache()
    with database.transaction() as session:
        for name in ("first", "second"):
            registry.create_model(session, ann, "acme", ModelCreate(name=name, task=Task.classify))
    minute = (time.time() // repository.USAGE_PAGE_TTL_S) * repository.USAGE_PAGE_TTL_S
    before = _search(database, ann, cache, sort="usage", now_s=minute + 1)[0]
    buffer = RollupBuffer()
    for _ in range(3):
        buffer.observe("acme/first", 1, 200, 0.01)
    with database.transaction(write=False) as session:
        generation_then = generation(session)
    with database.transaction() as session:
        monitoring.store_counts(session, buffer.take())
    with database.transaction(write=False) as session:  # traffic is not a change of the catalogue
        assert generation(session) == generation_then
    assert _search(database, ann, cache, sort="usage", now_s=minute + 59)[0] == before  # same minute: cached
    after = _same_as_uncached(database, ann, cache, sort="usage", now_s=minute + repository.USAGE_PAGE_TTL_S)[0]
    assert [(name, key) for _, name, key in after][0] == ("first", 3)
    assert after != before
