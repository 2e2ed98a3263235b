"""The OpenAI-compatible wire shapes (``/v1/embeddings``, ``/v1/models``), shared by server and SDK.

``model`` names a limelight model as ``org/name``, optionally ``org/name:alias`` or
``org/name:<version number>``; without a suffix the model's default routing answers (its
deployment, else the ``production`` alias, else the latest version), as on the native API.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from limelight.schemas.common import ErrorDetail

__all__ = [
    "MAX_EMBEDDING_INPUTS",
    "MAX_TEXT_CHARS",
    "MODEL_REF_PATTERN",
    "Embedding",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "OpenAIErrorBody",
    "OpenAIErrorDetail",
    "OpenAIModel",
    "OpenAIModelList",
]

MAX_EMBEDDING_INPUTS = 1024  # the native API's MAX_INPUTS (serving/protocols/verbs.py)
MAX_TEXT_CHARS = 20_000  # the sentence-embedding runtime's default max_chars
_NAME = r"[a-z0-9][a-z0-9_-]{0,63}"
MODEL_REF_PATTERN = rf"^{_NAME}/{_NAME}(:[A-Za-z0-9][A-Za-z0-9_-]{{0,63}})?$"
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS)]
Texts = Annotated[list[Text], Field(min_length=1, max_length=MAX_EMBEDDING_INPUTS)]


class EmbeddingRequest(BaseModel):
    """``POST /v1/embeddings``. Unknown fields are refused, as OpenAI does."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str = Field(..., pattern=MODEL_REF_PATTERN, examples=["studio/minilm", "studio/minilm:production"],
                       description="org/name, org/name:alias or org/name:version")
    input: Text | Texts = Field(
        ..., description=f"one text or 1..{MAX_EMBEDDING_INPUTS} texts (token-id arrays are not accepted)")
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="base64: the little-endian float32 bytes of each vector, base64-encoded")
    dimensions: int | None = Field(None, ge=1, description="must equal the model's dimension if given")
    user: str | None = Field(None, max_length=256, description="the end user, for the caller's own records")


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int = Field(..., description="tokens the model read, by its own tokenizer")
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str = Field(..., description="org/name")
    usage: EmbeddingUsage


class OpenAIModel(BaseModel):
    id: str = Field(..., description="org/name")
    object: Literal["model"] = "model"
    created: int = Field(..., description="unix seconds")
    owned_by: str = Field(..., description="the owning org")


class OpenAIModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIModel]


class OpenAIErrorDetail(ErrorDetail):
    """limelight's error fields plus the two the OpenAI client reads."""

    type: str = Field(..., examples=["invalid_request_error"])
    param: str | None = None


class OpenAIErrorBody(BaseModel):
    error: OpenAIErrorDetail

