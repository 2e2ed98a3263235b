"""The OpenAI-compatible surface: ``POST /v1/embeddings``, ``GET /v1/models``, ``GET /v1/models/{org}/{name}``.

The official ``openai`` client works against it with ``base_url=<server>/v1`` and a limelight API
key. ``model`` is ``org/name`` (default routing: deployment, else ``production``, else latest),
``org/name:alias`` or ``org/name:<version>`` (digits are a version number, anything else an alias).

Embeddings go through the same path as ``:embed``: the fast path, the ``embed`` verb of the
resolved version's runtime, the version's batcher, the same metrics (route ``openai:embeddings``).
``usage`` counts the tokens the model read (its own tokenizer, special tokens included, after
truncation). ``dimensions`` must equal the model's dimension: these models are not trained to be
truncated. ``encoding_format: "base64"`` is each vector's little-endian float32 bytes, base64.

Errors keep limelight's body and add OpenAI's ``type`` and ``param``, which the client reads; the
HTTP status picks the client's exception (404 ``NotFoundError``, 401 ``AuthenticationError``, ...).
Listing models needs the ``read`` scope; embeddings need ``predict``.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.convertors import StringConvertor, register_url_convertor

from limelight.errors import InvalidParams, LimelightError, NotFound, ValidationFailed
from limelight.schemas.common import MAX_VERSION
from limelight.schemas.openai import (
    MAX_EMBEDDING_INPUTS,
    EmbeddingRequest,
    EmbeddingResponse,
    OpenAIErrorBody,
    OpenAIModel,
    OpenAIModelList,
)
from limelight.server.deps import Predictor, Reader
from limelight.serving.protocols.http import Endpoint, HttpCall, HttpReply, json_reply, run_from_fastapi
from limelight.serving.protocols.v1 import ROUTING_KEY_HEADER, VERSION_HEADER

if TYPE_CHECKING:
    from limelight.auth.principal import Principal
    from limelight.schemas.registry import ModelRead
    from limelight.serving.engine import ServingEngine, Target

__all__ = ["ENDPOINTS", "openai_error", "router", "split_model"]

_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error"}
_INLINE_TOKENIZE_CHARS = 4096  # more text than this is counted in a thread, off the event loop
_MAX_LISTED = 10_000


def openai_error(exc: LimelightError, request_id: str) -> HttpReply:
    """limelight's error body plus ``type`` and ``param`` (the field at fault, when known)."""
    body = exc.to_body(request_id)
    kind = _TYPES.get(exc.status, "server_error" if exc.status >= 500 else "invalid_request_error")
    field = exc.details.get("field")
    body["error"].update(type=kind, param=str(field) if field is not None else None)
    return json_reply(body, exc.status, [(k.lower().encode(), v.encode()) for k, v in exc.headers().items()])


def split_model(ref: str) -> tuple[str, str, int | None, str | None]:
    """``org/name[:alias|:version]`` -> (org, name, version, alias)."""
    path, _, suffix = ref.partition(":")
    org, _, name = path.partition("/")
    if not suffix:
        return org, name, None, None
    if suffix.isascii() and suffix.isdigit():
        if not 1 <= int(suffix) <= MAX_VERSION:
            raise NotFound(f"Version {suffix} of {org}/{name} not found.", details={"field": "model"})
        return org, name, int(suffix), None
    return org, name, None, suffix


# ---- POST /v1/embeddings ------------------------------------------------------------------------


async def embeddings(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    assert principal is not None
    body = call.json_object()
    texts = _texts(body.get("input"))
    request = _request(body)
    org, name, version, alias = split_model(request.model)
    await engine.check_limits(principal)
    try:
        target = await engine.resolve(principal, org, name, version=version, alias=alias,
                                      routing_key=call.headers.get(ROUTING_KEY_HEADER), body=body)
    except NotFound as exc:
        exc.details.setdefault("field", "model")
        raise
    served = target.served
    call.served_by(target)
    handler = _embed_handler(engine, target)
    if request.dimensions is not None:
        await _check_dimensions(engine, target, request.dimensions)
    vectors = await engine.run(target, handler, texts)
    tokens = await _count_tokens(engine, target, texts)
    data = [{"object": "embedding", "index": i, "embedding": _encoded(v, request.encoding_format)}
            for i, v in enumerate(vectors)]
    total = sum(tokens)
    payload = {"object": "list", "data": data, "model": served.model_ref,
               "usage": {"prompt_tokens": total, "total_tokens": total}}
    return json_reply(payload, headers=[(VERSION_HEADER, call.version.encode())])


def _texts(value: Any) -> list[str]:
    """``input`` as texts, with a message naming the item at fault (pydantic's union errors do not)."""
    if value is None:
        raise ValidationFailed("input is required: a string or an array of strings", details={"field": "input"})
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ValidationFailed("input must not be an empty array", details={"field": "input"})
    if len(items) > MAX_EMBEDDING_INPUTS:
        raise ValidationFailed(f"at most {MAX_EMBEDDING_INPUTS} inputs per request", details={"field": "input"})
    if all(_is_token_ids(item) for item in items) or _is_token_ids(value):
        raise InvalidParams("token-id arrays are not accepted; send the text itself",
                            details={"field": "input", "reason": "token_ids_unsupported"})
    for i, item in enumerate(items):
        field = f"input[{i}]" if isinstance(value, list) else "input"
        if not isinstance(item, str):
            raise ValidationFailed(f"{field} must be a string", details={"field": field})
        if not item:
            raise ValidationFailed(f"{field} must not be empty", details={"field": field})
    return items


def _is_token_ids(item: Any) -> bool:
    if isinstance(item, list):
        return bool(item) and all(isinstance(t, int) and not isinstance(t, bool) for t in item)
    return isinstance(item, int) and not isinstance(item, bool)


def _request(body: dict[str, Any]) -> EmbeddingRequest:
    dimensions = body.get("dimensions")
    if isinstance(dimensions, float) and dimensions.is_integer():  # JSON's 384.0 is an integer too
        body = {**body, "dimensions": int(dimensions)}
    try:
        return EmbeddingRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "extra_forbidden":
            raise InvalidParams(f"Unknown field {field!r}.", details={"field": field}) from None
        raise ValidationFailed(f"{field}: {first['msg']}", details={"field": field}) from None


def _embed_handler(engine: ServingEngine, target: Target) -> Any:
    runtime = target.served.runtime
    try:
        return engine.verbs.lookup("embed", runtime)
    except NotFound:
        raise InvalidParams(f"{target.served.model_ref} is a {runtime} model; embeddings need an embedding model.",
                            details={"field": "model", "runtime": runtime}) from None


async def _check_dimensions(engine: ServingEngine, target: Target, wanted: int) -> None:
    signature = await engine.signature(target.served, target.timeout_s)
    shape = (signature.get("outputs") or [{}])[0].get("shape") or []
    dim = shape[-1] if shape else None
    if wanted != dim:
        raise InvalidParams(f"this model's embeddings have {dim} dimensions; it cannot give {wanted}",
                            details={"field": "dimensions", "dimensions": dim})


async def _count_tokens(engine: ServingEngine, target: Target, texts: list[str]) -> list[int]:
    runtime, release = await engine.host.acquire(target.served.key, timeout_s=target.timeout_s)
    try:
        count = getattr(runtime, "count_tokens", None)
        if count is None:
            return [0] * len(texts)
        if sum(map(len, texts)) <= _INLINE_TOKENIZE_CHARS:
            return list(count(texts))
        return list(await asyncio.to_thread(count, texts))
    finally:
        release()


def _encoded(vector: Any, encoding_format: str) -> Any:
    if encoding_format == "base64":
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return vector


# ---- GET /v1/models[/{org}/{name}] ----------------------------------------------------------


async def list_models(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    assert principal is not None
    models = await asyncio.to_thread(_visible_models, engine, principal)
    return json_reply({"object": "list", "data": [_model(m) for m in models]})


async def get_model(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    assert principal is not None
    org, name = call.params["org"], call.params["name"]
    return json_reply(_model(await asyncio.to_thread(_one_model, engine, principal, org, name)))


def _visible_models(engine: ServingEngine, principal: Principal) -> list[ModelRead]:
    return engine.directory.visible_models(principal, _MAX_LISTED)


def _one_model(engine: ServingEngine, principal: Principal, org: str, name: str) -> ModelRead:
    return engine.directory.visible_model(principal, org, name)


def _model(model: ModelRead) -> dict[str, Any]:
    return {"id": f"{model.org}/{model.name}", "object": "model", "created": int(model.created_at.timestamp()),
            "owned_by": model.org}


EMBEDDINGS_PATH = re.compile(r"^/v1/embeddings$")
MODELS_PATH = re.compile(r"^/v1/models$")
MODEL_PATH = re.compile(r"^/v1/models/(?P<org>[^/]+)/(?P<name>[^/:]+)$")
ENDPOINTS = [
    Endpoint("openai:embeddings", "POST", EMBEDDINGS_PATH, embeddings, render_error=openai_error),
    Endpoint("openai:models", "GET", MODELS_PATH, list_models, render_error=openai_error),
    Endpoint("openai:model", "GET", MODEL_PATH, get_model, render_error=openai_error),
]

# ---- the FastAPI routes: OpenAPI, and callers without a key ------------------------------------


class _ModelName(StringConvertor):
    """A path segment without ':', so ``GET /v1/models/{org}/{name}`` never claims the verb routes'
    paths (``…/{name}:{verb}``): those answer 405 with ``Allow: POST``, not a model lookup."""

    regex = "[^/:]+"


register_url_convertor("model_name", _ModelName())  # starlette's registry is global by design

router = APIRouter(tags=["openai"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": OpenAIErrorBody} for status in (400, 401, 403, 404, 413, 415, 422, 429, 503, 504)}
_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": EmbeddingRequest.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


@router.post("/v1/embeddings", response_model=EmbeddingResponse, responses=_ERRORS, openapi_extra=_BODY)
async def embeddings_route(request: Request, principal: Predictor) -> Response:
    """Embed one text or several with an embedding model (OpenAI's shape; see the module docstring)."""
    return await run_from_fastapi(request, ENDPOINTS[0], principal, {})


@router.get("/v1/models", response_model=OpenAIModelList, responses=_ERRORS)
async def list_models_route(request: Request, principal: Reader) -> Response:
    """The caller's org's models and every public model (OpenAI's list shape)."""
    return await run_from_fastapi(request, ENDPOINTS[1], principal, {})


@router.get("/v1/models/{org}/{name:model_name}", response_model=OpenAIModel, responses=_ERRORS)
async def get_model_route(org: str, name: str, request: Request, principal: Reader) -> Response:
    """One model the caller may see; another org's private model is 404."""
    return await run_from_fastapi(request, ENDPOINTS[2], principal, {"org": org, "name": name})
