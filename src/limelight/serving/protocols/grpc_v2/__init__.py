"""The KServe v2 (Open Inference Protocol) gRPC messages and service, compiled from
``grpc_predict_v2.proto`` here when first imported. grpcio-tools' protoc turns the .proto into a
descriptor set; protobuf makes the message classes from it in a private descriptor pool. So no
generated code is kept in the repository, the messages always match the installed protobuf, and a
process that also imports tritonclient (whose stubs define the same ``inference.*`` names in the
default pool) loads both."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO = Path(__file__).resolve().parent / "grpc_predict_v2.proto"
SERVICE = "inference.GRPCInferenceService"


def _compile() -> tuple[SimpleNamespace, Any]:
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "descriptors.pb"
        code = protoc.main(["protoc", f"-I{PROTO.parent}", f"--descriptor_set_out={out}", PROTO.name])
        if code != 0:
            raise RuntimeError(f"protoc could not compile {PROTO.name} (exit code {code})")
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    pool = descriptor_pool.DescriptorPool()
    classes = message_factory.GetMessages(list(files), pool=pool)
    messages = SimpleNamespace(**{name.rsplit(".", 1)[-1]: cls for name, cls in classes.items()})
    return messages, pool.FindServiceByName(SERVICE)


pb, _service = _compile()  # pb.ModelInferRequest etc.


def rpc_handler(servicer: object) -> grpc.GenericRpcHandler:
    """The service's methods, each served by the servicer's coroutine of the same name."""
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    for method in _service.methods:
        request = getattr(pb, method.input_type.name)
        response = getattr(pb, method.output_type.name)
        call: Callable[..., Any] = getattr(servicer, method.name)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            call, request_deserializer=request.FromString, response_serializer=response.SerializeToString)
    return grpc.method_handlers_generic_handler(SERVICE, handlers)
