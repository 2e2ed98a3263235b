"""The model registry: models, versions (artifact uploads), aliases, forks, marketplace search and stars."""

from __future__ import annotations

import builtins
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from limelight.client._base import Call, as_model, as_none, as_page, body, query, segment
from limelight.client._datasets import UPLOAD_TIMEOUT
from limelight.client._resource import AsyncResource, SyncResource
from limelight.client._upload import ProgressReader, SourceFile, UploadProgress, multipart_file, upload_source
from limelight.schemas.common import Page
from limelight.schemas.registry import (
    ForkRead,
    ForkRetrain,
    ModelRead,
    ModelSearchPage,
    ModelVersionRead,
    SearchSort,
    Task,
    VersionMeta,
    Visibility,
)

API = "/api/v1"


def _model(org: str, name: str) -> str:
    return f"{API}/orgs/{segment(org)}/models/{segment(name)}"


def _create(org: str, fields: dict[str, Any]) -> Call[ModelRead]:
    return Call("POST", f"{API}/orgs/{segment(org)}/models", as_model(ModelRead), json=fields)


def _list(org: str, limit: int | None, cursor: str | None) -> Call[Page[ModelRead]]:
    return Call("GET", f"{API}/orgs/{segment(org)}/models", as_page(ModelRead), params=query(limit=limit, cursor=cursor))


def _get(org: str, name: str) -> Call[ModelRead]:
    return Call("GET", _model(org, name), as_model(ModelRead))


def _update(org: str, name: str, changes: dict[str, Any]) -> Call[ModelRead]:
    return Call("PATCH", _model(org, name), as_model(ModelRead), json=body(**changes))


def _delete(org: str, name: str) -> Call[None]:
    return Call("DELETE", _model(org, name), as_none)


def _versions(org: str, name: str, limit: int | None, cursor: str | None) -> Call[Page[ModelVersionRead]]:
    return Call("GET", f"{_model(org, name)}/versions", as_page(ModelVersionRead),
                params=query(limit=limit, cursor=cursor))


def _version(method: str, org: str, name: str, version: int) -> Call[Any]:
    parse = as_none if method == "DELETE" else as_model(ModelVersionRead)
    return Call(method, f"{_model(org, name)}/versions/{int(version)}", parse)


def _upload(org: str, name: str, reader: ProgressReader, filename: str,
            meta: VersionMeta | Mapping[str, Any]) -> Call[ModelVersionRead]:
    meta_json = meta.model_dump_json() if isinstance(meta, VersionMeta) else json.dumps(dict(meta))
    return Call("POST", f"{_model(org, name)}/versions", as_model(ModelVersionRead), data={"meta": meta_json},
                files={"file": multipart_file(reader, filename)}, timeout=UPLOAD_TIMEOUT)


def _alias(org: str, name: str, alias: str, version: int | None) -> Call[ModelRead]:
    path = f"{_model(org, name)}/aliases/{segment(alias)}"
    if version is None:
        return Call("DELETE", path, as_model(ModelRead))
    return Call("PUT", path, as_model(ModelRead), json={"version": version})


def _fork(org: str, name: str, into_org: str, new_name: str | None, retrain: ForkRetrain | None) -> Call[ForkRead]:
    return Call("POST", f"{_model(org, name)}/fork", as_model(ForkRead),
                json=body(org=into_org, name=new_name, retrain=retrain.model_dump(exclude_none=True) if retrain else None))


def _forks(org: str, name: str) -> Call[Page[ModelRead]]:
    return Call("GET", f"{_model(org, name)}/forks", as_page(ModelRead))


def _listed(value: str | Sequence[str] | None) -> list[str] | None:
    """A repeatable query parameter given as one value or several."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _search(q: str | None, filters: dict[str, Any], limit: int | None, cursor: str | None) -> Call[ModelSearchPage]:
    params = query(q=q, task=str(filters["task"]) if filters.get("task") else None,
                   runtime=filters.get("runtime"), tag=_listed(filters.get("tag")), org=filters.get("org"),
                   licence=filters.get("licence"), metric=_listed(filters.get("metric")),
                   sort=str(filters["sort"]) if filters.get("sort") else None, limit=limit, cursor=cursor)
    return Call("GET", f"{API}/models", as_model(ModelSearchPage), params=params)


def _search_pages(q: str | None, filters: dict[str, Any], limit: int | None,
                  cursor: str | None) -> Call[Page[ModelRead]]:
    """The same call, typed as plain pages for the iterators (a ModelSearchPage is one)."""
    found = _search(q, filters, limit, cursor)
    return Call(found.method, found.path, found.parse, params=found.params)


def _star(org: str, name: str, starred: bool) -> Call[ModelRead]:
    return Call("PUT" if starred else "DELETE", f"{_model(org, name)}/star", as_model(ModelRead))


def _create_fields(name: str, task: Task | str, description: str, tags: Sequence[str],
                   visibility: Visibility | str, card: str, licence: str | None) -> dict[str, Any]:
    return body(name=name, task=str(task), description=description, tags=list(tags), visibility=str(visibility),
                card=card, licence=licence)


def _changes(description: str | None, tags: Sequence[str] | None, visibility: Visibility | str | None,
             card: str | None, archived: bool | None, licence: str | None = None) -> dict[str, Any]:
    """PATCH fields; None means 'leave unchanged' (``licence=""`` removes the licence)."""
    return {"description": description, "tags": list(tags) if tags is not None else None,
            "visibility": str(visibility) if visibility is not None else None, "card": card, "archived": archived,
            "licence": licence}


# ---- sync ----------------------------------------------------------------------------------

class Models(SyncResource):
    def create(self, org: str, name: str, task: Task | str, *, description: str = "", tags: Sequence[str] = (),
               visibility: Visibility | str = Visibility.private, card: str = "",
               licence: str | None = None) -> ModelRead:
        """A new, empty model; ``licence`` is an SPDX-like id such as ``"Apache-2.0"``."""
        return self._run(_create(org, _create_fields(name, task, description, tags, visibility, card, licence)))

    def get(self, org: str, name: str) -> ModelRead:
        return self._run(_get(org, name))

    def update(self, org: str, name: str, *, description: str | None = None, tags: Sequence[str] | None = None,
               visibility: Visibility | str | None = None, card: str | None = None,
               archived: bool | None = None, licence: str | None = None) -> ModelRead:
        """Change only the fields given (``visibility="public"`` publishes to the marketplace,
        ``licence=""`` removes the licence)."""
        return self._run(_update(org, name, _changes(description, tags, visibility, card, archived, licence)))

    def delete(self, org: str, name: str) -> None:
        self._run(_delete(org, name))

    def list(self, org: str, *, limit: int | None = None, cursor: str | None = None) -> Page[ModelRead]:
        """The models of ``org``; `search` lists every model the caller may see."""
        return self._run(_list(org, limit, cursor))

    def iter(self, org: str, *, limit: int | None = None) -> Iterator[ModelRead]:
        return self._iterate(lambda cursor: _list(org, limit, cursor))

    def list_versions(self, org: str, name: str, *, limit: int | None = None,
                      cursor: str | None = None) -> Page[ModelVersionRead]:
        """Versions of one model, newest first."""
        return self._run(_versions(org, name, limit, cursor))

    def iter_versions(self, org: str, name: str, *, limit: int | None = None) -> Iterator[ModelVersionRead]:
        return self._iterate(lambda cursor: _versions(org, name, limit, cursor))

    def get_version(self, org: str, name: str, version: int) -> ModelVersionRead:
        return self._run(_version("GET", org, name, version))

    def delete_version(self, org: str, name: str, version: int) -> None:
        self._run(_version("DELETE", org, name, version))

    def upload_version(self, org: str, name: str, file: SourceFile, meta: VersionMeta | Mapping[str, Any], *,
                       on_progress: UploadProgress | None = None) -> ModelVersionRead:
        """Register an artifact file as the next version; ``meta`` names its runtime, signature, metrics."""
        with upload_source(file, on_progress) as (reader, filename):
            return self._run(_upload(org, name, reader, filename, meta))

    def set_alias(self, org: str, name: str, alias: str, version: int) -> ModelRead:
        """Point ``alias`` (``production``, ``staging``, …) at ``version``, atomically."""
        return self._run(_alias(org, name, alias, version))

    def delete_alias(self, org: str, name: str, alias: str) -> ModelRead:
        return self._run(_alias(org, name, alias, None))

    def fork(self, org: str, name: str, into_org: str, *, new_name: str | None = None,
             retrain: ForkRetrain | None = None) -> ForkRead:
        """Copy a model the caller may see (public, shared to read, or their own org's) into ``into_org``;
        with ``retrain``, also train it again there on ``retrain.dataset`` (its job id is ``retrain_job``)."""
        return self._run(_fork(org, name, into_org, new_name, retrain))

    def forks(self, org: str, name: str) -> builtins.list[ModelRead]:
        """The forks of a model that the caller may see."""
        return self._run(_forks(org, name)).items

    def search(self, q: str | None = None, *, task: Task | str | None = None, runtime: str | None = None,
               tag: str | Sequence[str] | None = None, org: str | None = None, licence: str | None = None,
               metric: str | Sequence[str] | None = None, sort: SearchSort | str | None = None,
               limit: int | None = None, cursor: str | None = None) -> ModelSearchPage:
        """The marketplace: every model the caller may see. ``q`` takes words, "quoted phrases" and
        -exclusions; ``tag`` and ``metric`` (``"ndcg@10>=0.3"``) take one value or several, all required;
        ``sort`` is relevance, stars, usage or newest. The first page also carries ``total`` and
        ``facets`` (counts per task, runtime, org, tag and licence over every match)."""
        return self._run(_search(q, {"task": task, "runtime": runtime, "tag": tag, "org": org, "licence": licence,
                                     "metric": metric, "sort": sort}, limit, cursor))

    def iter_search(self, q: str | None = None, *, task: Task | str | None = None, runtime: str | None = None,
                    tag: str | Sequence[str] | None = None, org: str | None = None, licence: str | None = None,
                    metric: str | Sequence[str] | None = None, sort: SearchSort | str | None = None,
                    limit: int | None = None) -> Iterator[ModelRead]:
        filters = {"task": task, "runtime": runtime, "tag": tag, "org": org, "licence": licence, "metric": metric,
                   "sort": sort}
        return self._iterate(lambda cursor: _search_pages(q, filters, limit, cursor))

    def star(self, org: str, name: str) -> ModelRead:
        """Star a model you can see (starring twice is one star); the answer counts it."""
        return self._run(_star(org, name, True))

    def unstar(self, org: str, name: str) -> ModelRead:
        return self._run(_star(org, name, False))


# ---- async ---------------------------------------------------------------------------------

class AsyncModels(AsyncResource):
    async def create(self, org: str, name: str, task: Task | str, *, description: str = "",
                     tags: Sequence[str] = (), visibility: Visibility | str = Visibility.private,
                     card: str = "", licence: str | None = None) -> ModelRead:
        return await self._run(_create(org, _create_fields(name, task, description, tags, visibility, card, licence)))

    async def get(self, org: str, name: str) -> ModelRead:
        return await self._run(_get(org, name))

    async def update(self, org: str, name: str, *, description: str | None = None,
                     tags: Sequence[str] | None = None, visibility: Visibility | str | None = None,
                     card: str | None = None, archived: bool | None = None, licence: str | None = None) -> ModelRead:
        return await self._run(_update(org, name, _changes(description, tags, visibility, card, archived, licence)))

    async def delete(self, org: str, name: str) -> None:
        await self._run(_delete(org, name))

    async def list(self, org: str, *, limit: int | None = None, cursor: str | None = None) -> Page[ModelRead]:
        return await self._run(_list(org, limit, cursor))

    def iter(self, org: str, *, limit: int | None = None) -> AsyncIterator[ModelRead]:
        return self._iterate(lambda cursor: _list(org, limit, cursor))

    async def list_versions(self, org: str, name: str, *, limit: int | None = None,
                            cursor: str | None = None) -> Page[ModelVersionRead]:
        return await self._run(_versions(org, name, limit, cursor))

    def iter_versions(self, org: str, name: str, *, limit: int | None = None) -> AsyncIterator[ModelVersionRead]:
        return self._iterate(lambda cursor: _versions(org, name, limit, cursor))

    async def get_version(self, org: str, name: str, version: int) -> ModelVersionRead:
        return await self._run(_version("GET", org, name, version))

    async def delete_version(self, org: str, name: str, version: int) -> None:
        await self._run(_version("DELETE", org, name, version))

    async def upload_version(self, org: str, name: str, file: SourceFile, meta: VersionMeta | Mapping[str, Any], *,
                             on_progress: UploadProgress | None = None) -> ModelVersionRead:
        with upload_source(file, on_progress) as (reader, filename):
            return await self._run(_upload(org, name, reader, filename, meta))

    async def set_alias(self, org: str, name: str, alias: str, version: int) -> ModelRead:
        return await self._run(_alias(org, name, alias, version))

    async def delete_alias(self, org: str, name: str, alias: str) -> ModelRead:
        return await self._run(_alias(org, name, alias, None))

    async def fork(self, org: str, name: str, into_org: str, *, new_name: str | None = None,
                   retrain: ForkRetrain | None = None) -> ForkRead:
        return await self._run(_fork(org, name, into_org, new_name, retrain))

    async def forks(self, org: str, name: str) -> builtins.list[ModelRead]:
        return (await self._run(_forks(org, name))).items

    async def search(self, q: str | None = None, *, task: Task | str | None = None, runtime: str | None = None,
                     tag: str | Sequence[str] | None = None, org: str | None = None, licence: str | None = None,
                     metric: str | Sequence[str] | None = None, sort: SearchSort | str | None = None,
                     limit: int | None = None, cursor: str | None = None) -> ModelSearchPage:
        return await self._run(_search(q, {"task": task, "runtime": runtime, "tag": tag, "org": org,
                                           "licence": licence, "metric": metric, "sort": sort}, limit, cursor))

    def iter_search(self, q: str | None = None, *, task: Task | str | None = None, runtime: str | None = None,
                    tag: str | Sequence[str] | None = None, org: str | None = None, licence: str | None = None,
                    metric: str | Sequence[str] | None = None, sort: SearchSort | str | None = None,
                    limit: int | None = None) -> AsyncIterator[ModelRead]:
        filters = {"task": task, "runtime": runtime, "tag": tag, "org": org, "licence": licence, "metric": metric,
                   "sort": sort}
        return self._iterate(lambda cursor: _search_pages(q, filters, limit, cursor))

    async def star(self, org: str, name: str) -> ModelRead:
        return await self._run(_star(org, name, True))

    async def unstar(self, org: str, name: str) -> ModelRead:
        return await self._run(_star(org, name, False))
