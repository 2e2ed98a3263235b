"""The ``llm`` runtime: a GGUF model served by a :class:`GenerationPool` of llama.cpp processes.

Streaming verbs (chat, completions, templates, the assistant) take ``runtime.pool`` from the model
host and submit :class:`GenerationRequest` s to it. ``predict_batch`` is the generic ``:predict``:
each input is a prompt (text) or a request object, answered with its generated text, greedily
(temperature 0) unless the object says otherwise, so the same input gives the same answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from limelight.config import GenerationSettings
from limelight.errors import InvalidParams, LimelightError, ValidationFailed
from limelight.generation.gguf_file import GGUFInfo, read_gguf_info
from limelight.generation.pool import GenerationPool
from limelight.generation.requests import GenerationRequest
from limelight.runtimes.base import LoadContext, int_param, io_spec, refuse_pickle

__all__ = ["SETTINGS_SERVICE", "LlmRuntime"]

SETTINGS_SERVICE = "generation_settings"
"""The key of ``LoadContext.services`` holding the serving process's :class:`GenerationSettings`."""

_PARAMS = ("n_ctx", "n_threads", "concurrency", "max_queue", "request_timeout_s")
_PREDICT_MAX_TOKENS = 64
_PREDICT_FIELDS = frozenset({"prompt", "messages", "max_tokens", "temperature", "top_p", "stop", "seed"})
# What the validator (and anyone reading the signature) can send: a tiny, greedy generation.
_EXAMPLE = {"prompt": "The capital of France is", "max_tokens": 2, "temperature": 0.0}
_KV_BYTES_PER_TOKEN = 32 * 1024  # a rough KV-cache cost per context token of a small model (f16)
_COMPUTE_BUFFER_BYTES = 64 << 20


class LlmRuntime:
    """One loaded GGUF model version; ``pool`` runs it, ``info`` describes it."""

    def __init__(self, pool: GenerationPool, n_ctx: int, concurrency: int) -> None:
        self.pool = pool
        self.info: GGUFInfo = pool.info
        self.n_ctx = n_ctx
        # The weights are memory-mapped, so children share them through the page cache; each child
        # adds its own KV cache and compute buffers.
        self.memory_bytes = self.info.size_bytes + concurrency * (n_ctx * _KV_BYTES_PER_TOKEN + _COMPUTE_BUFFER_BYTES)
        self.max_batch_size = concurrency

    @classmethod
    def load(cls, path: Path, params: dict[str, Any], context: LoadContext) -> LlmRuntime:
        refuse_pickle(Path(path))
        unknown = sorted(set(params) - set(_PARAMS))
        if unknown:
            raise InvalidParams(f"unknown params for runtime llm: {', '.join(unknown)}",
                                details={"field": f"params.{unknown[0]}", "allowed": list(_PARAMS)})
        settings = context.services.get(SETTINGS_SERVICE) or GenerationSettings()
        info = read_gguf_info(path)
        n_ctx = int_param(params, "n_ctx", min(settings.n_ctx, info.context_length), 16, info.context_length)
        concurrency = int_param(params, "concurrency", settings.concurrency, 1, 64)
        pool = GenerationPool(
            Path(path), n_ctx=n_ctx, n_threads=int_param(params, "n_threads", settings.n_threads, 1, 256),
            concurrency=concurrency, max_queue=int_param(params, "max_queue", settings.max_queue, 0, 10_000),
            default_timeout_s=float(int_param(params, "request_timeout_s", round(settings.request_timeout_s),
                                              1, 3600)))
        return cls(pool, n_ctx, concurrency)

    def signature(self) -> dict[str, Any]:
        prompt = io_spec("prompt", "object", [-1]) | {"example": dict(_EXAMPLE)}
        return {"inputs": [prompt], "outputs": [io_spec("text", "string", [-1])],
                "llm": self.info.details() | {"n_ctx": self.n_ctx}}

    def validate_input(self, item: Any) -> GenerationRequest:
        """A prompt text, or ``{"prompt"|"messages", "max_tokens", "temperature", "top_p", "stop", "seed"}``."""
        if isinstance(item, str):
            return GenerationRequest(prompt=item, max_tokens=_PREDICT_MAX_TOKENS, temperature=0.0)
        if not isinstance(item, dict):
            raise ValidationFailed("each input must be a prompt text or a request object",
                                   details={"field": "inputs", "expected": "string or object"})
        unknown = sorted(set(item) - _PREDICT_FIELDS)
        if unknown:
            raise ValidationFailed(f"unknown field {unknown[0]!r}", details={"field": unknown[0],
                                                                              "allowed": sorted(_PREDICT_FIELDS)})
        max_tokens = item.get("max_tokens", _PREDICT_MAX_TOKENS)
        if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > self.n_ctx:
            raise ValidationFailed(f"max_tokens must be at most {self.n_ctx}", details={"field": "max_tokens"})
        stop = item.get("stop") or ()
        try:
            return GenerationRequest(
                prompt=item.get("prompt"), messages=item.get("messages"), max_tokens=max_tokens,
                temperature=float(item.get("temperature", 0.0)), top_p=float(item.get("top_p", 0.95)),
                stop=(stop,) if isinstance(stop, str) else tuple(stop), seed=item.get("seed"))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(f"invalid request: {exc}", details={"field": "inputs"}) from None

    def predict_batch(self, inputs: list[GenerationRequest]) -> list[str]:
        """The generated text of each request (they share the pool's queue with streaming verbs)."""
        streams = []
        try:
            for request in inputs:
                streams.append(self.pool.submit(request))
            return [stream.collect().text for stream in streams]
        except LimelightError:
            for stream in streams:
                stream.cancel()
            raise

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Model tokens of each text alone (no chat template)."""
        return self.pool.count_tokens_many(list(texts))

    def close(self) -> None:
        self.pool.close()
