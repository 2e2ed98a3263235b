"""The KServe Open Inference Protocol v2 over REST, as limelight speaks it.

These models document what ``serving/protocols/v2_rest.py`` sends and takes (the handlers build
plain dicts on the fast path); the OpenAPI of the ``/v2`` routes is generated from them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from limelight.schemas.common import ReadSchema

DataType = Literal["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
                   "FP16", "FP32", "FP64", "BYTES"]


class KServeErrorBody(ReadSchema):
    """A v2 error: the message in ``error`` as a string (what tritonclient reads), limelight's fields alongside."""

    error: str
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = None


class ServerLive(ReadSchema):
    live: bool


class ServerReady(ReadSchema):
    ready: bool


class ServerMetadata(ReadSchema):
    name: str
    version: str
    extensions: list[str]


class TensorMetadata(ReadSchema):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(ReadSchema):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ModelReady(ReadSchema):
    name: str
    ready: bool
    reason: str | None = Field(None, description="why a version could not be loaded (with 503)")


class InferInput(ReadSchema):  # requests too: the handler ignores fields it does not know
    name: str
    datatype: DataType
    shape: list[int] = Field(..., min_length=1)
    data: list[Any] | None = Field(None, description="row-major values; absent with the binary extension")
    parameters: dict[str, Any] | None = Field(None, description="binary_data_size: bytes after the JSON header")


class RequestedOutput(ReadSchema):
    name: str
    parameters: dict[str, Any] | None = Field(None, description="binary_data: true for a raw output")


class InferRequest(ReadSchema):
    id: str | None = None
    inputs: list[InferInput] = Field(..., min_length=1)
    outputs: list[RequestedOutput] | None = None
    parameters: dict[str, Any] | None = Field(None, description="binary_data_output: true for raw outputs")


class InferOutput(ReadSchema):
    name: str
    datatype: str
    shape: list[int]
    data: list[Any] | None = None
    parameters: dict[str, Any] | None = None


class InferResponse(ReadSchema):
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[InferOutput]
