"""KServe Open Inference Protocol v2 over REST; the model name is ``org.name``.

Errors keep limelight's fields (``code``, ``details``, ``request_id``) but put the message in
``error`` as a string, as the v2 protocol (and tritonclient) expect.

``/v2/health/live``, ``/v2/health/ready`` (public), ``/v2`` (server metadata),
``/v2/models/{org}.{name}[/versions/{v}]`` (metadata), ``…/ready``, ``…/infer``. ``{v}`` is a
version number or an alias; without it the model's default routing applies (as in v1). Tensors may
travel as JSON ``data`` or with the binary tensor extension (``Inference-Header-Content-Length``),
which tritonclient uses by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from limelight.errors import LimelightError, ModelUnavailable, NotFound, ValidationFailed
from limelight.schemas.common import MAX_VERSION
from limelight.schemas.kserve import (
    InferRequest,
    InferResponse,
    KServeErrorBody,
    ModelMetadata,
    ModelReady,
    ServerLive,
    ServerMetadata,
    ServerReady,
)
from limelight.server.deps import Predictor, Public
from limelight.server.errors import request_id_of, validation_failed
from limelight.serving.protocols.http import (
    Endpoint,
    HttpCall,
    HttpReply,
    error_reply,
    json_reply,
    reply_response,
    run_from_fastapi,
)
from limelight.serving.protocols.tensors import (
    V2_OF_DTYPE,
    Tensor,
    items_from_tensors,
    outputs_to_tensors,
    tensor_from_data,
    tensor_from_raw,
    tensor_json,
)

if TYPE_CHECKING:
    from limelight.auth.principal import Principal
    from limelight.serving.engine import ServingEngine, Target

__all__ = ["ENDPOINTS", "SERVER_NAME", "KServeRoute", "model_metadata", "router", "split_ref", "v2_signature"]

SERVER_NAME = "limelight"
SERVER_VERSION = "0.1.0"
EXTENSIONS = ["binary_tensor_data"]


def split_ref(ref: str, version: str | None) -> tuple[str, str, int | None, str | None]:
    """``org.name`` and an optional version number or alias -> (org, name, version, alias)."""
    org, dot, name = ref.partition(".")
    if not dot or not org or not name:
        raise NotFound(f"Model {ref!r} not found; v2 model names are org.name.")
    if not version:
        return org, name, None, None
    if version.isascii() and version.isdigit():
        if int(version) > MAX_VERSION:  # beyond any stored version number
            raise NotFound(f"Version {version} of {org}/{name} not found.")
        return org, name, int(version), None
    return org, name, None, version


async def resolve_ref(engine: ServingEngine, principal: Principal, ref: str, version: str | None,
                      call: HttpCall | None = None, routing_key: str | None = None) -> Target:
    org, name, number, alias = split_ref(ref, version)
    await engine.check_limits(principal)
    target = await engine.resolve(principal, org, name, version=number, alias=alias, routing_key=routing_key)
    if call is not None:
        call.served_by(target)
    return target


def v2_signature(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": s["name"], "datatype": V2_OF_DTYPE.get(str(s.get("dtype")), "BYTES"),
             "shape": list(s.get("shape") or [-1])} for s in items]


async def model_metadata(engine: ServingEngine, target: Target, ref: str) -> dict[str, Any]:
    signature = await engine.signature(target.served, target.timeout_s)
    key = target.served.key
    return {"name": ref, "versions": [str(v) for v in engine.versions_of(key.org, key.model)],
            "platform": f"limelight-{target.served.runtime}",
            "inputs": v2_signature(signature.get("inputs") or []),
            "outputs": v2_signature(signature.get("outputs") or [])}


# ---- endpoints -----------------------------------------------------------------------------------

async def live(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    return json_reply({"live": True})


async def ready(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    is_ready = engine.state.ready and not engine.draining
    return json_reply({"ready": is_ready}, 200 if is_ready else 503)


async def server_metadata(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    return json_reply({"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": EXTENSIONS})


async def metadata(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    assert principal is not None
    call.route = "v2:metadata"
    ref = call.params["ref"]
    target = await resolve_ref(engine, principal, ref, call.params.get("version"), call)
    return json_reply(await model_metadata(engine, target, ref))


async def model_ready(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    """Ready = loaded; a version not loaded yet is loaded now (so this doubles as a warm-up call)."""
    assert principal is not None
    call.route = "v2:ready"
    ref = call.params["ref"]
    target = await resolve_ref(engine, principal, ref, call.params.get("version"), call)
    try:
        await engine.host.runtime(target.served.key, timeout_s=target.timeout_s)
    except ModelUnavailable as exc:
        return json_reply({"name": ref, "ready": False, "reason": exc.details.get("reason")}, 503)
    return json_reply({"name": ref, "ready": True})


async def infer(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    assert principal is not None
    call.route = "v2:infer"
    ref = call.params["ref"]
    request, binary = _split_body(call)
    target = await resolve_ref(engine, principal, ref, call.params.get("version"), call,
                               routing_key=call.headers.get("limelight-routing-key"))
    signature = await engine.signature(target.served, target.timeout_s)
    tensors = _input_tensors(request, binary)
    handler = engine.verbs.lookup("predict", target.served.runtime)
    outputs = await engine.run(target, handler, items_from_tensors(signature, tensors))
    wanted = request.get("outputs") or []
    names = [str(o.get("name")) for o in wanted if isinstance(o, dict)]
    out = outputs_to_tensors(signature, outputs, names or None)
    binary_out = _binary_outputs(request, wanted)
    return _infer_reply(ref, target, request.get("id"), out, binary_out)


def _split_body(call: HttpCall) -> tuple[dict[str, Any], bytes]:
    header_len = call.headers.get("inference-header-content-length")
    if header_len is None:
        return call.json_object(), b""
    if not header_len.isdigit() or int(header_len) > len(call.body):
        raise ValidationFailed("bad Inference-Header-Content-Length", details={"field": "headers"})
    size = int(header_len)
    head = HttpCall(call.method, call.params, call.headers, call.body[:size], call.request_id)
    return head.json_object(check_media_type=False), call.body[size:]  # binary extension: octet-stream


def _input_tensors(request: dict[str, Any], binary: bytes) -> list[Tensor]:
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ValidationFailed("inputs must be a non-empty array of tensors", details={"field": "inputs"})
    tensors, offset = [], 0
    for index, spec in enumerate(inputs):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not isinstance(spec.get("datatype"), str):
            raise ValidationFailed("each input needs name, datatype, shape and data",
                                   details={"field": f"inputs[{index}]"})
        size = (spec.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or size < 0 or offset + size > len(binary):
                raise ValidationFailed("binary_data_size runs past the body",
                                       details={"field": f"inputs[{index}].parameters.binary_data_size"})
            raw = binary[offset:offset + size]
            offset += size
            tensors.append(tensor_from_raw(index, spec["name"], spec["datatype"], spec.get("shape"), raw))
        else:
            tensors.append(tensor_from_data(index, spec["name"], spec["datatype"], spec.get("shape"), spec.get("data")))
    return tensors


def _binary_outputs(request: dict[str, Any], wanted: list[Any]) -> dict[str, bool] | bool:
    if wanted:
        return {str(o.get("name")): bool((o.get("parameters") or {}).get("binary_data")) for o in wanted if isinstance(o, dict)}
    return bool((request.get("parameters") or {}).get("binary_data_output"))


def _infer_reply(ref: str, target: Target, request_id: Any, tensors: list[Tensor],
                 binary: dict[str, bool] | bool) -> HttpReply:
    heads, blobs = [], []
    for tensor in tensors:
        as_binary = binary if isinstance(binary, bool) else binary.get(tensor.name, False)
        head, raw = tensor_json(tensor, as_binary)
        heads.append(head)
        if raw is not None:
            blobs.append(raw)
    version = str(target.served.version)
    payload = {"model_name": ref, "model_version": version, "outputs": heads}
    if isinstance(request_id, str):
        payload["id"] = request_id
    body = orjson.dumps(payload)
    headers = [(b"limelight-model-version", version.encode())]
    if not blobs:
        return HttpReply(200, body, headers)
    headers.append((b"inference-header-content-length", str(len(body)).encode()))
    return HttpReply(200, body + b"".join(blobs), headers, b"application/octet-stream")


_REF = r"/v2/models/(?P<ref>[^/]+)(?:/versions/(?P<version>[^/]+))?"
ENDPOINTS = [
    Endpoint("v2:health", "GET", re.compile(r"^/v2/health/live$"), live, public=True),
    Endpoint("v2:health", "GET", re.compile(r"^/v2/health/ready$"), ready, public=True),
    Endpoint("v2:server", "GET", re.compile(r"^/v2/?$"), server_metadata, kserve_errors=True),
    Endpoint("v2:infer", "POST", re.compile(f"^{_REF}/infer$"), infer, kserve_errors=True),
    Endpoint("v2:ready", "GET", re.compile(f"^{_REF}/ready$"), model_ready, kserve_errors=True),
    Endpoint("v2:metadata", "GET", re.compile(f"^{_REF}$"), metadata, kserve_errors=True),
]
_BY_HANDLER = {e.handler: e for e in ENDPOINTS}

# ---- FastAPI routes (OpenAPI, and callers without an API key) ---------------------------------------


class KServeRoute(APIRoute):
    """A v2 route: errors raised before the endpoint runs (authentication, validation) get the v2 body too.

    ``error_model`` tells the OpenAPI builder which body this route's errors have.
    """

    error_model = KServeErrorBody

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_kserve_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return _error_response(request, validation_failed(exc))
            except LimelightError as exc:
                return _error_response(request, exc)

        return with_kserve_errors


def _error_response(request: Request, exc: LimelightError) -> Response:
    return reply_response(error_reply(exc, request_id_of(request) or "", kserve=True))


router = APIRouter(tags=["inference: KServe v2"], route_class=KServeRoute)

_INFER_BODY: dict[str, Any] = {"requestBody": {"required": True, "description": (
    "JSON, or with the binary tensor extension a JSON header of `Inference-Header-Content-Length` bytes "
    "followed by the raw tensors"), "content": {"application/json": {
        "schema": InferRequest.model_json_schema(ref_template="#/components/schemas/{model}")}}}}
_LIMITS: dict[int | str, dict[str, Any]] = {429: {"model": KServeErrorBody}, 504: {"model": KServeErrorBody}}


def _params(ref: str | None = None, version: str | None = None) -> dict[str, str]:
    return {k: v for k, v in {"ref": ref, "version": version}.items() if v is not None}


@router.get("/v2/health/live", dependencies=[Public], responses={200: {"model": ServerLive}})
async def live_route(request: Request) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[live], None, {})


@router.get("/v2/health/ready", dependencies=[Public],
            responses={200: {"model": ServerReady}, 503: {"model": ServerReady, "description": "not ready"}})
async def ready_route(request: Request) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[ready], None, {})


@router.get("/v2", responses={200: {"model": ServerMetadata}})
async def server_metadata_route(request: Request, principal: Predictor) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[server_metadata], principal, {})


# One function per path: a version-less path must not grow a ?version= query the fast path would ignore.
@router.get("/v2/models/{ref}", responses={200: {"model": ModelMetadata}, **_LIMITS})
async def metadata_route(request: Request, principal: Predictor, ref: str) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[metadata], principal, _params(ref))


@router.get("/v2/models/{ref}/versions/{version}", responses={200: {"model": ModelMetadata}, **_LIMITS})
async def version_metadata_route(request: Request, principal: Predictor, ref: str, version: str) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[metadata], principal, _params(ref, version))


_READY: dict[int | str, dict[str, Any]] = {
    200: {"model": ModelReady},
    503: {"description": "the version could not be loaded, or the server is busy", "content": {"application/json": {
        "schema": {"anyOf": [{"$ref": "#/components/schemas/ModelReady"},
                             {"$ref": "#/components/schemas/KServeErrorBody"}]}}}},
    **_LIMITS}


@router.get("/v2/models/{ref}/ready", responses=_READY)
async def model_ready_route(request: Request, principal: Predictor, ref: str) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[model_ready], principal, _params(ref))


@router.get("/v2/models/{ref}/versions/{version}/ready", responses=_READY)
async def version_ready_route(request: Request, principal: Predictor, ref: str, version: str) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[model_ready], principal, _params(ref, version))


_INFERRED: dict[int | str, dict[str, Any]] = {
    200: {"model": InferResponse, "content": {"application/octet-stream": {"schema": {
        "type": "string", "format": "binary",
        "description": "with binary outputs: the JSON header (Inference-Header-Content-Length bytes), then raw tensors"}}}},
    **_LIMITS}


@router.post("/v2/models/{ref}/infer", openapi_extra=_INFER_BODY, responses=_INFERRED)
async def infer_route(request: Request, principal: Predictor, ref: str) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[infer], principal, _params(ref))


@router.post("/v2/models/{ref}/versions/{version}/infer", openapi_extra=_INFER_BODY, responses=_INFERRED)
async def version_infer_route(request: Request, principal: Predictor, ref: str, version: str) -> Response:
    return await run_from_fastapi(request, _BY_HANDLER[infer], principal, _params(ref, version))

