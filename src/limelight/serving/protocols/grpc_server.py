"""KServe v2 over gRPC: ``inference.GRPCInferenceService`` on ``settings.server.grpc_port`` (grpc.aio,
on the API process's own event loop, so it shares the engine, limits and metrics with HTTP).

The API key travels in the ``authorization: Bearer …`` metadata. Errors map to the matching gRPC
status (``STATUS_OF_HTTP``), with ``retry-after`` and ``x-request-id`` in the trailing metadata.
Under ``--workers N`` every process binds the same port with SO_REUSEPORT.

The generated stubs live in ``grpc_v2/`` (source: ``grpc_v2/grpc_predict_v2.proto``). They register
``inference.*`` messages in protobuf's default pool, like tritonclient's own stubs do: don't import
both in one process.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import grpc

from limelight.errors import LimelightError, ModelUnavailable, ValidationFailed
from limelight.serving.metrics import NO_MODEL
from limelight.serving.ports import Arm
from limelight.serving.protocols.grpc_v2 import pb as _pb
from limelight.serving.protocols.grpc_v2 import rpc_handler
from limelight.serving.protocols.tensors import (
    Tensor,
    items_from_tensors,
    outputs_to_tensors,
    tensor_bytes,
    tensor_from_data,
    tensor_from_raw,
)
from limelight.serving.protocols.v2_rest import SERVER_NAME, SERVER_VERSION, model_metadata, resolve_ref

if TYPE_CHECKING:
    from limelight.auth.principal import Principal
    from limelight.server.transport import TlsFiles
    from limelight.serving.engine import ServingEngine

__all__ = ["STATUS_OF_HTTP", "InferenceService", "start_grpc_server", "status_for"]

log = logging.getLogger(__name__)
pb: Any = _pb  # message classes are made at import time from the .proto: invisible to mypy
R = TypeVar("R")

STATUS_OF_HTTP: Mapping[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT, 401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED, 404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.FAILED_PRECONDITION, 413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT, 422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED, 503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}
_CONTENTS_FIELD = {"FP32": "fp32_contents", "FP64": "fp64_contents", "INT64": "int64_contents",
                   "INT32": "int_contents", "INT16": "int_contents", "INT8": "int_contents",
                   "UINT64": "uint64_contents", "UINT32": "uint_contents", "UINT16": "uint_contents",
                   "UINT8": "uint_contents", "BOOL": "bool_contents", "BYTES": "bytes_contents"}


def status_for(error: LimelightError) -> grpc.StatusCode:
    return STATUS_OF_HTTP.get(error.status, grpc.StatusCode.INTERNAL)


class _Call:
    """Per-RPC bookkeeping for metrics."""

    __slots__ = ("arm", "caller", "model", "request_id", "version")

    def __init__(self, request_id: str) -> None:
        self.model, self.version, self.request_id = NO_MODEL, "", request_id
        self.arm: Arm | None = None
        self.caller = ""  # the calling org's id, once authenticated


class InferenceService:
    def __init__(self, engine: ServingEngine) -> None:
        self.engine = engine

    async def ServerLive(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        return pb.ServerReadyResponse(ready=self.engine.state.ready and not self.engine.draining)

    async def ServerMetadata(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def run(principal: Principal, call: _Call) -> Any:
            return pb.ServerMetadataResponse(name=SERVER_NAME, version=SERVER_VERSION, extensions=[])

        return await self._guarded(context, "grpc:server", run)

    async def ModelReady(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def run(principal: Principal, call: _Call) -> Any:
            target = await self._target(principal, request.name, request.version, call, context)
            try:
                await self.engine.host.runtime(target.served.key, timeout_s=target.timeout_s)
            except ModelUnavailable:
                return pb.ModelReadyResponse(ready=False)
            return pb.ModelReadyResponse(ready=True)

        return await self._guarded(context, "grpc:ready", run)

    async def ModelMetadata(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def run(principal: Principal, call: _Call) -> Any:
            target = await self._target(principal, request.name, request.version, call, context)
            meta = await model_metadata(self.engine, target, request.name)
            tensor = pb.ModelMetadataResponse.TensorMetadata
            return pb.ModelMetadataResponse(
                name=meta["name"], versions=meta["versions"], platform=meta["platform"],
                inputs=[tensor(**t) for t in meta["inputs"]], outputs=[tensor(**t) for t in meta["outputs"]])

        return await self._guarded(context, "grpc:metadata", run)

    async def ModelInfer(self, request: Any, context: grpc.aio.ServicerContext) -> Any:  # noqa: N802
        async def run(principal: Principal, call: _Call) -> Any:
            target = await self._target(principal, request.model_name, request.model_version, call, context)
            signature = await self.engine.signature(target.served, target.timeout_s)
            items = items_from_tensors(signature, _input_tensors(request))
            handler = self.engine.verbs.lookup("predict", target.served.runtime)
            outputs = await self.engine.run(target, handler, items)
            wanted = [o.name for o in request.outputs] or None
            tensors = outputs_to_tensors(signature, outputs, wanted)
            out = pb.ModelInferResponse.InferOutputTensor
            return pb.ModelInferResponse(
                model_name=request.model_name, model_version=str(target.served.version), id=request.id,
                outputs=[out(name=t.name, datatype=t.datatype, shape=list(t.shape)) for t in tensors],
                raw_output_contents=[tensor_bytes(t) for t in tensors])

        return await self._guarded(context, "grpc:infer", run)

    async def _target(self, principal: Principal, name: str, version: str, call: _Call,
                      context: grpc.aio.ServicerContext) -> Any:
        routing_key = _metadata(context).get("limelight-routing-key")
        target = await resolve_ref(self.engine, principal, name, version or None, routing_key=routing_key)
        call.model, call.version, call.arm = target.served.model_ref, str(target.served.version), target.arm
        return target

    async def _guarded(self, context: grpc.aio.ServicerContext, route: str,
                       run: Callable[[Principal, _Call], Awaitable[R]]) -> R:
        """Authenticate, run, map errors to gRPC statuses, record metrics (as HTTP codes)."""
        metadata = _metadata(context)
        given = metadata.get("x-request-id")
        call = _Call(given if given and len(given) <= 64 else uuid.uuid4().hex)
        started, status = time.perf_counter(), 200
        try:
            principal = await self.engine.authenticate(metadata.get("authorization"))
            call.caller = principal.org_id
            return await run(principal, call)
        except LimelightError as exc:
            status = exc.status
            trailing = [("x-request-id", call.request_id)]
            trailing += [(k.lower(), v) for k, v in exc.headers().items() if k.lower() == "retry-after"]
            context.set_trailing_metadata(tuple(trailing))
            await context.abort(status_for(exc), exc.message)
            raise  # abort raises; this keeps type checkers satisfied
        except grpc.aio.AbortError:
            raise
        except Exception:
            status = 500
            log.exception("unhandled error on gRPC request %s", call.request_id)
            context.set_trailing_metadata((("x-request-id", call.request_id),))
            await context.abort(grpc.StatusCode.INTERNAL, "Internal error; the request id identifies it in the logs.")
            raise
        finally:
            elapsed_s = time.perf_counter() - started
            self.engine.metrics.observe_request(call.model, call.version, route, status, elapsed_s)
            if call.arm is not None and self.engine.exposures is not None:
                self.engine.exposures.observe(call.arm, call.request_id, status, elapsed_s)
            if call.caller and call.model != NO_MODEL and self.engine.meter is not None:
                self.engine.meter.observe(call.caller, call.model, status, 0, 0)  # metered to the calling org


def _metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}


def _input_tensors(request: Any) -> list[Tensor]:
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        raise ValidationFailed("raw_input_contents needs one entry per input", details={"field": "raw_input_contents"})
    tensors = []
    for index, tensor in enumerate(request.inputs):
        shape = list(tensor.shape)
        if raw:
            tensors.append(tensor_from_raw(index, tensor.name, tensor.datatype, shape, raw[index]))
            continue
        field = _CONTENTS_FIELD.get(tensor.datatype)
        if field is None:
            raise ValidationFailed(f"unsupported datatype {tensor.datatype!r}",
                                   details={"field": f"inputs[{index}].datatype"})
        data = list(getattr(tensor.contents, field))
        tensors.append(tensor_from_data(index, tensor.name, tensor.datatype, shape, data))
    return tensors


async def start_grpc_server(engine: ServingEngine, host: str, port: int, max_message_bytes: int,
                            max_inflight: int | None = None, tls: TlsFiles | None = None) -> grpc.aio.Server:
    """Bind and start the gRPC listener (over TLS when ``tls`` is given); ``await server.stop(grace_s)``
    ends it. Past ``max_inflight`` concurrent calls grpc answers RESOURCE_EXHAUSTED at once, as HTTP
    answers 503."""
    server = grpc.aio.server(maximum_concurrent_rpcs=max_inflight, options=[("grpc.max_receive_message_length", max_message_bytes),
                                      ("grpc.max_send_message_length", 64 << 20), ("grpc.so_reuseport", 1)])
    server.add_generic_rpc_handlers((rpc_handler(InferenceService(engine)),))
    address = f"{host}:{port}"
    if tls is None:
        bound = server.add_insecure_port(address)
    else:
        credentials = grpc.ssl_server_credentials([(tls.private_key, tls.certificate_chain)])
        bound = server.add_secure_port(address, credentials)
    if bound == 0:
        raise OSError(f"cannot bind the gRPC port {host}:{port}")
    await server.start()
    log.info("gRPC inference service on %s:%d%s", host, bound, " (TLS)" if tls else "")
    return server
