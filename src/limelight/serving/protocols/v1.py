"""The native protocol: ``POST /v1/models/{org}/{name}:{verb}`` (``predict``, ``embed``, ``recommend``
and any registered verb; see ``engine.VerbRegistry``).

``?version=N`` or ``?alias=name`` pick a version; by default the model's deployment routes (sticky
by the deployment's ``sticky_field`` in the body or a ``Limelight-Routing-Key`` header), else the
``production`` alias, else the latest version. The ``Limelight-Model-Version`` header and the body
say which version answered.

A streaming verb (``VerbHandler.stream``: ``chat``, ``complete``) answers ``"stream": true`` with
Server-Sent Events, one ``data: {"event": ...}`` line per event (``start`` also names the model
and version), and otherwise one JSON reply built from the folded events.

A ``multipart/form-data`` body reaches the verb as the same object (files as bytes; see
``form_bodies``), so ``curl -F image=@cat.jpg`` works wherever a verb takes bytes.
"""

from __future__ import annotations

import re
from contextlib import aclosing
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from limelight.errors import BadRequest, NotFound, ValidationFailed
from limelight.schemas.common import MAX_VERSION, ErrorBody
from limelight.server.deps import Predictor
from limelight.serving.protocols.form_bodies import form_object, is_form
from limelight.serving.protocols.http import (
    Endpoint,
    HttpCall,
    HttpReply,
    json_reply,
    run_from_fastapi,
    stream_reply,
)
from limelight.serving.protocols.streaming import sse_data
from limelight.serving.streams import collect, open_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from limelight.auth.principal import Principal
    from limelight.serving.engine import ServingEngine, Target
    from limelight.verbs import VerbHandler
__all__ = ["ENDPOINTS", "router", "version_and_alias"]

ROUTING_KEY_HEADER = "limelight-routing-key"
VERSION_HEADER = b"limelight-model-version"


def version_and_alias(query: dict[str, str]) -> tuple[int | None, str | None]:
    raw_version, alias = query.get("version"), query.get("alias")
    if raw_version is not None and alias is not None:
        raise BadRequest("Give ?version= or ?alias=, not both.", details={"field": "version"})
    if raw_version is None:
        return None, alias or None
    if not (raw_version.isascii() and raw_version.isdigit()) or not 1 <= int(raw_version) <= MAX_VERSION:
        raise ValidationFailed(f"version must be an integer in 1..{MAX_VERSION}", details={"field": "version"})
    return int(raw_version), None


async def call_verb(engine: ServingEngine, principal: Principal | None, call: HttpCall) -> HttpReply:
    assert principal is not None
    org, name, verb = call.params["org"], call.params["name"], call.params["verb"]
    if not engine.verbs.known(verb):
        call.route = "v1:unknown"  # arbitrary verbs must not become metric labels
        raise NotFound(f"Unknown verb {verb!r}.", details={"verb": verb})
    call.route = f"v1:{verb}"
    content_type = call.headers.get("content-type")
    body = await form_object(content_type or "", call.body) if is_form(content_type) else call.json_object()
    version, alias = version_and_alias(call.query())
    await engine.check_limits(principal)
    target = await engine.resolve(principal, org, name, version=version, alias=alias,
                                  routing_key=call.headers.get(ROUTING_KEY_HEADER), body=body)
    served = target.served
    call.served_by(target)
    handler = engine.verbs.lookup(verb, served.runtime)
    headers = [(VERSION_HEADER, call.version.encode())]
    if handler.stream is not None and (body.get("stream") is True or handler.call is None):
        return await _streaming_verb(engine, target, handler, body, headers, call.request_id)
    outputs = await engine.run(target, handler, handler.parse(body))
    answer = handler.respond(outputs, body, served)
    if handler.shown_items is not None and engine.shown_items is not None:
        engine.shown_items.observe(served.model_ref, handler.shown_items(answer))
    return json_reply(_labelled(answer, target, call.request_id), headers=headers)


def _labelled(answer: Any, target: Target, request_id: str) -> Any:
    """The request id (events cite it to be attributed) and, under an experiment, the variant."""
    if isinstance(answer, dict):
        answer["request_id"] = request_id
        if target.arm is not None:
            answer["experiment"] = {"id": target.arm.experiment_id, "variant": target.arm.variant}
    return answer


async def _streaming_verb(engine: ServingEngine, target: Target, handler: VerbHandler, body: dict[str, Any],
                          headers: list[tuple[bytes, bytes]], request_id: str) -> HttpReply:
    item = handler.parse(body)[0]
    if body.get("stream") is not True:
        result = await collect(engine, target, handler, item)
        return json_reply(_labelled(handler.respond([result], body, target.served), target, request_id),
                          headers=headers)
    events = await open_stream(engine, target, handler, item)
    return stream_reply(_sse(events, target, request_id), headers)


async def _sse(events: AsyncIterator[dict[str, Any]], target: Target, request_id: str) -> AsyncIterator[bytes]:
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if event.get("event") == "start":
                event = _labelled({**event, "model": target.served.model_ref, "version": target.served.version},
                                  target, request_id)
            yield sse_data(event)


PATH = re.compile(r"^/v1/models/(?P<org>[^/]+)/(?P<name>[^/:]+):(?P<verb>[A-Za-z0-9_-]+)$")
ENDPOINTS = [Endpoint("v1", "POST", PATH, call_verb)]

router = APIRouter(tags=["inference"])
_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {
        "type": "object", "description": "`predict`: {\"inputs\": [...]}; other verbs: see the verb",
        "properties": {"inputs": {"type": "array", "items": {}}}}},
    "multipart/form-data": {"schema": {
        "type": "object", "additionalProperties": True,
        "description": "the same object as a form, for verbs that take bytes: each file part arrives as bytes, "
                       "each field as JSON when it parses (`top_k=3` is 3) else as text, and a name sent several "
                       "times as a list (`curl -F image=@cat.jpg …:classify`)",
        "properties": {"image": {"type": "string", "format": "binary",
                                 "description": "`classify` on an image classifier: the picture"},
                       "images": {"type": "array", "items": {"type": "string", "format": "binary"},
                                  "description": "`classify`: several pictures, one answer each"},
                       "top_k": {"type": "integer", "minimum": 1, "description": "`classify`: labels per answer"}}}}}}}


@router.post("/v1/models/{org}/{name}:{verb}", openapi_extra=_BODY,
             responses={200: {"description": "`predict`: {\"outputs\": [...], \"model\": \"org/name\", \"version\": N}"},
                        401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                        422: {"model": ErrorBody}, 429: {"model": ErrorBody}, 503: {"model": ErrorBody},
                        504: {"model": ErrorBody}})
async def call_verb_route(org: str, name: str, verb: str, request: Request, principal: Predictor,
                          version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
                          alias: str | None = None) -> Response:
    """Run a verb on a model version (API-key callers are served by the fast path, same behaviour)."""
    return await run_from_fastapi(request, ENDPOINTS[0], principal, {"org": org, "name": name, "verb": verb})
