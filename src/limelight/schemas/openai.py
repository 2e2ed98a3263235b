"""The OpenAI-compatible wire shapes (``/v1/embeddings``, ``/v1/models``, ``/v1/chat/completions``,
``/v1/completions``), shared by server and SDK.

``model`` names a limelight model as ``org/name``, optionally ``org/name:alias`` or
``org/name:<version number>``; without a suffix the model's default routing answers (its
deployment, else the ``production`` alias, else the latest version), as on the native API.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from limelight.schemas.common import ErrorDetail

__all__ = [
    "ChatCompletion",
    "ChatCompletionChoice",
    "ChatCompletionRequest",
    "ChatMessage",
    "CompletionRequest",
    "CompletionUsage",
    "ResponseFormat",
    "StreamOptions",
    "TextCompletion",
    "TextCompletionChoice",
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



# ---- text generation (documentation of the bodies; the serving verbs parse and check them) -------


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str = Field(..., description="the text (a list of {\"type\": \"text\", \"text\"} parts is joined)")


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"] = "text"
    json_schema: dict[str, Any] | None = Field(
        None, description='{"name": ..., "schema": {JSON schema}}: the output is constrained to parse and validate; '
                          "a schema no grammar can express is a 400 response_format_unsupported")


class StreamOptions(BaseModel):
    include_usage: bool = Field(False, description="a last chunk with empty choices carries the usage")


class _Sampling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(..., pattern=MODEL_REF_PATTERN, examples=["studio/smollm2"],
                       description="org/name, org/name:alias or org/name:version")
    max_tokens: int | None = Field(256, ge=1, description="tokens to generate at most; generation also stops "
                                                          "where the context ends (finish_reason 'length'); a "
                                                          "prompt that fills the context alone is a 400 "
                                                          "context_length_exceeded")
    max_completion_tokens: int | None = Field(None, ge=1, description="the newer name of max_tokens")
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    stop: str | list[str] | None = Field(None, description="a string or up to 4; not included in the output")
    seed: int | None = Field(None, description="the same seed gives the same output (same model, same threads)")
    n: Literal[1] = 1
    response_format: ResponseFormat | None = None
    stream: bool = Field(False, description="Server-Sent Events of chunks, then data: [DONE]")
    stream_options: StreamOptions | None = None
    user: str | None = Field(None, max_length=256, description="the end user, for the caller's own records")


class ChatCompletionRequest(_Sampling):
    """``POST /v1/chat/completions``."""

    messages: list[ChatMessage] = Field(..., min_length=1)


class CompletionRequest(_Sampling):
    """``POST /v1/completions``."""

    prompt: str = Field(..., min_length=1)


class CompletionUsage(BaseModel):
    prompt_tokens: int = Field(..., description="the prompt's tokens, chat template included")
    completion_tokens: int
    total_tokens: int


class _Answer(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class ChatCompletionChoice(BaseModel):
    index: int = 0
    message: _Answer
    logprobs: None = None
    finish_reason: Literal["stop", "length"]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(..., description="unix seconds")
    model: str = Field(..., description="org/name")
    system_fingerprint: None = None
    choices: list[ChatCompletionChoice]
    usage: CompletionUsage


class TextCompletionChoice(BaseModel):
    index: int = 0
    text: str
    logprobs: None = None
    finish_reason: Literal["stop", "length"]


class TextCompletion(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    system_fingerprint: None = None
    choices: list[TextCompletionChoice]
    usage: CompletionUsage
