"""`Client` and `AsyncClient`: the same operations, blocking or awaitable."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any, TypeVar

import httpx
from httpx_sse import EventSource, ServerSentEvent

from limelight.client import _inference as inference
from limelight.client._base import DEFAULT_TIMEOUT_S, BaseClient, Call
from limelight.client._datasets import AsyncDatasets, AsyncEvents, Datasets, Events
from limelight.client._deployments import AsyncAudit, AsyncDeployments, Audit, Deployments
from limelight.client._deprecated import accepts_org_and_name
from limelight.client._errors import error_from_response
from limelight.client._experiments import AsyncExperiments, Experiments
from limelight.client._jobs import AsyncJobs, AsyncRecipes, Jobs, Recipes
from limelight.client._models import AsyncModels, Models
from limelight.client._tenancy import (
    AsyncAuth,
    AsyncInvitations,
    AsyncKeys,
    AsyncMembers,
    AsyncOrgs,
    AsyncUsers,
    Auth,
    Invitations,
    Keys,
    Members,
    Orgs,
    Users,
    whoami_call,
)
from limelight.schemas.tenancy import Whoami

T = TypeVar("T")


class Client(BaseClient):
    """A blocking client of a limelight server.

    ``base_url`` defaults to ``$LIMELIGHT_URL``, then ``http://127.0.0.1:8000``; ``api_key`` to
    ``$LIMELIGHT_API_KEY``. Methods return `limelight.schemas` models (inference: dicts) and raise
    `limelight.errors` classes carrying ``request_id``; network failures raise ``httpx`` errors.
    ``transport`` replaces the network (``httpx.MockTransport``, ``httpx.WSGITransport``).
    """

    _http: httpx.Client

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(base_url, api_key, timeout)
        self._http = httpx.Client(base_url=self.base_url, headers=self._default_headers(), timeout=self.timeout,
                                  transport=transport)
        self.orgs = Orgs(self)
        self.users = Users(self)
        self.members = Members(self)
        self.invitations = Invitations(self)
        self.auth = Auth(self)
        self.keys = Keys(self)
        self.datasets = Datasets(self)
        self.events = Events(self)
        self.jobs = Jobs(self)
        self.recipes = Recipes(self)
        self.models = Models(self)
        self.deployments = Deployments(self)
        self.experiments = Experiments(self)
        self.audit = Audit(self)

    def whoami(self) -> Whoami:
        """Who the current credentials are: user, org, role, scopes."""
        return self._run(whoami_call())

    # ---- inference: the model is "org/name", as in the CLI and the URL --------------------

    @accepts_org_and_name
    def predict(self, model: str, inputs: Sequence[Any], *, version: int | None = None,
                alias: str | None = None) -> dict[str, Any]:
        """``{"outputs": [...], "model": "org/name", "version": n}`` for a batch of inputs."""
        return self._run(inference.infer(model, "predict", inference.predict_body(inputs), version, alias))

    @accepts_org_and_name
    def recommend(self, model: str, user_id: str, k: int = 10, *, exclude_seen: bool = True,
                  filters: Mapping[str, Any] | None = None, version: int | None = None,
                  alias: str | None = None) -> dict[str, Any]:
        """``{"items": [{"item_id", "score", …}], "version", "fallback"}``: the top ``k`` items for a user."""
        payload = inference.recommend_body(user_id, k, exclude_seen, filters)
        return self._run(inference.infer(model, "recommend", payload, version, alias))

    @accepts_org_and_name
    def similar(self, model: str, item_id: str, k: int = 10, *, version: int | None = None,
                alias: str | None = None) -> dict[str, Any]:
        """The ``k`` items most similar to ``item_id``."""
        return self._run(inference.infer(model, "similar", inference.similar_body(item_id, k), version, alias))

    @accepts_org_and_name
    def explain(self, model: str, payload: Mapping[str, Any], *, version: int | None = None,
                alias: str | None = None) -> dict[str, Any]:
        """Why the model answers as it does; ``payload`` is the task's request (e.g. ``{"user_id", "item_id"}``)."""
        return self._run(inference.infer(model, "explain", payload, version, alias))

    @accepts_org_and_name
    def score_users(self, model: str, *, limit: int = 1000, as_of: str | None = None,
                    version: int | None = None, alias: str | None = None) -> dict[str, Any]:
        """``{"users": [{"rank", "user_id", "probability", "top_reason", "reasons"}], "total", "as_of", …}``:
        every user a behaviour model knows, most likely first (churn: most at risk)."""
        return self._run(inference.infer(model, "score", inference.score_body(limit, as_of), version, alias))

    @accepts_org_and_name
    def embed(self, model: str, inputs: Sequence[str], *, version: int | None = None,
              alias: str | None = None) -> dict[str, Any]:
        """``{"embeddings": [[...]], "model", "version"}`` for a batch of texts (sentence-embedding models)."""
        return self._run(inference.infer(model, "embed", inference.predict_body(inputs), version, alias))

    @accepts_org_and_name
    def classify(self, model: str, texts: Sequence[str], *, top_k: int | None = None,
                 threshold: float | Mapping[str, float] | None = None, version: int | None = None,
                 alias: str | None = None) -> dict[str, Any]:
        """``{"predictions": [{"label", "score", "labels", "truncated"}], …}`` for texts (text classifiers)."""
        payload = inference.classify_body(texts, top_k, threshold)
        return self._run(inference.infer(model, "classify", payload, version, alias))

    @accepts_org_and_name
    def search(self, model: str, query: str, k: int = 10, *, mode: str | None = None,
               filters: Mapping[str, Any] | None = None, version: int | None = None,
               alias: str | None = None) -> dict[str, Any]:
        """``{"items": [{"item_id", "score", "highlights", …}], "index", …}`` (catalog search models)."""
        payload = inference.search_body(query, k, mode, filters)
        return self._run(inference.infer(model, "search", payload, version, alias))

    @accepts_org_and_name
    def generate(self, model: str, variables: Mapping[str, str], *, max_tokens: int | None = None,
                 temperature: float | None = None, seed: int | None = None, version: int | None = None,
                 alias: str | None = None) -> dict[str, Any]:
        """``{"text", "output", "finish_reason", "usage", …}``: a prompt template filled and generated."""
        payload = inference.generate_body(variables, max_tokens, temperature, seed)
        return self._run(inference.generate_whole(model, payload, version, alias))

    @accepts_org_and_name
    def generate_stream(self, model: str, variables: Mapping[str, str], *, max_tokens: int | None = None,
                        temperature: float | None = None, seed: int | None = None, version: int | None = None,
                        alias: str | None = None) -> Iterator[dict[str, Any]]:
        """The ``start``, ``delta`` (``text``) and ``end`` (``output``, token counts) events as they come."""
        payload = inference.generate_body(variables, max_tokens, temperature, seed)
        # built here, not in the generator, so a bad model name raises at the call, not at the first event
        return self._generation_events(inference.generate_stream(model, payload, version, alias))

    def _generation_events(self, call: Call[None]) -> Iterator[dict[str, Any]]:
        for sse in self._stream_events(call):
            event = inference.stream_event(sse)
            if event is not None:
                yield event

    @accepts_org_and_name
    def invoke(self, model: str, verb: str, payload: Mapping[str, Any], *, version: int | None = None,
               alias: str | None = None) -> dict[str, Any]:
        """Any verb the server registers (``classify``, ``search``, …) with its own request body."""
        return self._run(inference.infer(model, verb, payload, version, alias))

    # ---- I/O ----------------------------------------------------------------------------

    def _run(self, call: Call[T]) -> T:
        response = self._http.send(self._build(self._http, call))
        return self._handle(call, response)

    @contextmanager
    def _streamed(self, call: Call[Any]) -> Iterator[httpx.Response]:
        """The response of ``call``, its body not yet read; an error status raises, as in ``_run``."""
        response = self._http.send(self._build(self._http, call), stream=True)
        try:
            if response.is_error:
                response.read()
                raise error_from_response(response)
            yield response
        finally:
            response.close()

    def _stream_events(self, call: Call[Any]) -> Iterator[ServerSentEvent]:
        with self._streamed(call) as response:
            yield from EventSource(response).iter_sse()

    def _stream_bytes(self, call: Call[Any]) -> Iterator[bytes]:
        with self._streamed(call) as response:
            yield from response.iter_bytes()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncClient(BaseClient):
    """The awaitable twin of `Client`: same constructor, same resources, ``await`` every call
    (``async for`` over ``iter*`` and ``jobs.logs``)."""

    _http: httpx.AsyncClient

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, api_key, timeout)
        self._http = httpx.AsyncClient(base_url=self.base_url, headers=self._default_headers(), timeout=self.timeout,
                                       transport=transport)
        self.orgs = AsyncOrgs(self)
        self.users = AsyncUsers(self)
        self.members = AsyncMembers(self)
        self.invitations = AsyncInvitations(self)
        self.auth = AsyncAuth(self)
        self.keys = AsyncKeys(self)
        self.datasets = AsyncDatasets(self)
        self.events = AsyncEvents(self)
        self.jobs = AsyncJobs(self)
        self.recipes = AsyncRecipes(self)
        self.models = AsyncModels(self)
        self.deployments = AsyncDeployments(self)
        self.experiments = AsyncExperiments(self)
        self.audit = AsyncAudit(self)

    async def whoami(self) -> Whoami:
        return await self._run(whoami_call())

    @accepts_org_and_name
    async def predict(self, model: str, inputs: Sequence[Any], *, version: int | None = None,
                      alias: str | None = None) -> dict[str, Any]:
        return await self._run(inference.infer(model, "predict", inference.predict_body(inputs), version, alias))

    @accepts_org_and_name
    async def recommend(self, model: str, user_id: str, k: int = 10, *, exclude_seen: bool = True,
                        filters: Mapping[str, Any] | None = None, version: int | None = None,
                        alias: str | None = None) -> dict[str, Any]:
        payload = inference.recommend_body(user_id, k, exclude_seen, filters)
        return await self._run(inference.infer(model, "recommend", payload, version, alias))

    @accepts_org_and_name
    async def similar(self, model: str, item_id: str, k: int = 10, *, version: int | None = None,
                      alias: str | None = None) -> dict[str, Any]:
        payload = inference.similar_body(item_id, k)
        return await self._run(inference.infer(model, "similar", payload, version, alias))

    @accepts_org_and_name
    async def explain(self, model: str, payload: Mapping[str, Any], *, version: int | None = None,
                      alias: str | None = None) -> dict[str, Any]:
        return await self._run(inference.infer(model, "explain", payload, version, alias))

    @accepts_org_and_name
    async def embed(self, model: str, inputs: Sequence[str], *, version: int | None = None,
                    alias: str | None = None) -> dict[str, Any]:
        return await self._run(inference.infer(model, "embed", inference.predict_body(inputs), version, alias))

    @accepts_org_and_name
    async def score_users(self, model: str, *, limit: int = 1000, as_of: str | None = None,
                          version: int | None = None, alias: str | None = None) -> dict[str, Any]:
        return await self._run(inference.infer(model, "score", inference.score_body(limit, as_of), version, alias))

    @accepts_org_and_name
    async def classify(self, model: str, texts: Sequence[str], *, top_k: int | None = None,
                       threshold: float | Mapping[str, float] | None = None, version: int | None = None,
                       alias: str | None = None) -> dict[str, Any]:
        payload = inference.classify_body(texts, top_k, threshold)
        return await self._run(inference.infer(model, "classify", payload, version, alias))

    @accepts_org_and_name
    async def search(self, model: str, query: str, k: int = 10, *, mode: str | None = None,
                     filters: Mapping[str, Any] | None = None, version: int | None = None,
                     alias: str | None = None) -> dict[str, Any]:
        payload = inference.search_body(query, k, mode, filters)
        return await self._run(inference.infer(model, "search", payload, version, alias))

    @accepts_org_and_name
    async def generate(self, model: str, variables: Mapping[str, str], *, max_tokens: int | None = None,
                       temperature: float | None = None, seed: int | None = None, version: int | None = None,
                       alias: str | None = None) -> dict[str, Any]:
        payload = inference.generate_body(variables, max_tokens, temperature, seed)
        return await self._run(inference.generate_whole(model, payload, version, alias))

    @accepts_org_and_name
    def generate_stream(self, model: str, variables: Mapping[str, str], *,
                        max_tokens: int | None = None, temperature: float | None = None,
                        seed: int | None = None, version: int | None = None,
                        alias: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Use with ``async for``; a bad model name raises here, before anything is sent."""
        payload = inference.generate_body(variables, max_tokens, temperature, seed)
        return self._generation_events(inference.generate_stream(model, payload, version, alias))

    async def _generation_events(self, call: Call[None]) -> AsyncIterator[dict[str, Any]]:
        async for sse in self._stream_events(call):
            event = inference.stream_event(sse)
            if event is not None:
                yield event

    @accepts_org_and_name
    async def invoke(self, model: str, verb: str, payload: Mapping[str, Any], *,
                     version: int | None = None, alias: str | None = None) -> dict[str, Any]:
        return await self._run(inference.infer(model, verb, payload, version, alias))

    async def _run(self, call: Call[T]) -> T:
        response = await self._http.send(self._build(self._http, call))
        return self._handle(call, response)

    @asynccontextmanager
    async def _streamed(self, call: Call[Any]) -> AsyncIterator[httpx.Response]:
        response = await self._http.send(self._build(self._http, call), stream=True)
        try:
            if response.is_error:
                await response.aread()
                raise error_from_response(response)
            yield response
        finally:
            await response.aclose()

    async def _stream_events(self, call: Call[Any]) -> AsyncIterator[ServerSentEvent]:
        async with self._streamed(call) as response:
            async for event in EventSource(response).aiter_sse():
                yield event

    async def _stream_bytes(self, call: Call[Any]) -> AsyncIterator[bytes]:
        async with self._streamed(call) as response:
            async for chunk in response.aiter_bytes():
                yield chunk

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
