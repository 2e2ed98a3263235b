"""The ``assistant`` runtime: a ``limelight.assistant/1`` index, a MiniLM encoder and a local LLM.

``ask(question, k)`` retrieves passages, abstains below the version's threshold and otherwise has
the LLM answer from the passages (greedy, fixed seed, short: the same question gets the same
answer). ``ask_events`` is the same as a stream of verb events. The LLM runs in the runtime's own
:class:`~limelight.generation.pool.GenerationPool` (llama.cpp in child processes) on the GGUF the
version names: today the bundled SmolLM2-135M-Instruct.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from limelight.assistant.answering import ABSTAIN_ANSWER, STOP, build_messages, response_body, should_abstain
from limelight.assistant.retrieval import (
    DEFAULT_ABSTAIN_THRESHOLD,
    DEFAULT_SEMANTIC_WEIGHT,
    Retrieval,
    Retriever,
)
from limelight.errors import InvalidParams, ValidationFailed
from limelight.runtimes.base import LoadContext, int_param, io_spec, refuse_pickle

BUNDLED_LLM = "smollm2-135m-instruct"
LLM_SEED = 42
N_CTX = 2048
MAX_QUESTION_CHARS = 2000
MAX_K = 10


class AssistantRuntime:
    max_batch_size = 1  # one generation at a time per question; retrieval is milliseconds

    def __init__(self, retriever: Retriever, encoder: Any, pool: Any, settings: dict[str, Any]) -> None:
        self.retriever = retriever
        self._encoder = encoder
        self.pool = pool
        self.k: int = settings["k"]
        self.threshold: float = settings["abstain_threshold"]
        self.max_tokens: int = settings["max_tokens"]
        self.llm: str = settings["llm"]
        self.memory_bytes = int(retriever.index.embeddings.nbytes * 2 + encoder.memory_bytes
                                + pool.info.size_bytes + (96 << 20))

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> AssistantRuntime:
        refuse_pickle(artifact_path)
        from limelight.assistant.artifact import load_index
        from limelight.assistant.indexing import passage_encoder
        from limelight.search.building import encode_with

        index = load_index(artifact_path)
        settings = _settings({**index.metadata["params"], **params})
        encoder = passage_encoder(context.cache_dir, threads=1)
        try:
            if encoder.dim != index.embeddings.shape[1]:
                raise ValidationFailed(f"assistant embeddings have {index.embeddings.shape[1]} dimensions; the "
                                       f"question encoder makes {encoder.dim}", details={"field": "artifact"})
            pool = _generation_pool(settings, params, context)
        except BaseException:
            encoder.close()
            raise
        retriever = Retriever(index, encode_with(encoder), float(settings["semantic_weight"]))
        return cls(retriever, encoder, pool, settings)

    # ---- answering ----------------------------------------------------------------------------

    def retrieve(self, question: str, k: int | None = None) -> Retrieval:
        return self.retriever.retrieve(question, k or self.k)

    def ask(self, question: str, k: int | None = None) -> dict[str, Any]:
        """The answer body (blocking: call it off the event loop)."""
        retrieval = self.retrieve(question, k)
        if should_abstain(retrieval, self.threshold):
            return response_body(retrieval, None)
        completion = self.pool.submit(self._request(question, retrieval)).collect()
        return response_body(retrieval, completion.text, finish_reason=completion.finish_reason,
                             usage={"prompt_tokens": completion.prompt_tokens,
                                    "completion_tokens": completion.completion_tokens})

    async def ask_events(self, question: str, k: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """The answer as verb events: ``start``, ``delta``…, ``end`` (with citations and abstained)."""
        from limelight.generation.requests import Finished, Started, Token

        retrieval = await asyncio.to_thread(self.retrieve, question, k)
        if should_abstain(retrieval, self.threshold):
            yield {"event": "start", "prompt_tokens": 0}
            yield {"event": "delta", "text": ABSTAIN_ANSWER}
            body = response_body(retrieval, None)
            yield {"event": "end", "finish_reason": "stop", "prompt_tokens": 0, "completion_tokens": 0,
                   **_end_fields(body)}
            return
        stream = self.pool.submit(self._request(question, retrieval))
        text: list[str] = []
        try:
            async for event in stream:
                if isinstance(event, Started):
                    yield {"event": "start", "prompt_tokens": event.prompt_tokens}
                elif isinstance(event, Token):
                    text.append(event.text)
                    if event.text:
                        yield {"event": "delta", "text": event.text}
                elif isinstance(event, Finished):
                    body = response_body(retrieval, "".join(text))
                    yield {"event": "end", "finish_reason": event.finish_reason,
                           "prompt_tokens": event.prompt_tokens, "completion_tokens": event.completion_tokens,
                           **_end_fields(body)}
        finally:
            stream.cancel()  # no-op once finished; stops the generation when the client went away

    def _request(self, question: str, retrieval: Retrieval) -> Any:
        from limelight.generation.requests import GenerationRequest

        return GenerationRequest(messages=build_messages(question, retrieval.hits), max_tokens=self.max_tokens,
                                 temperature=0.0, seed=LLM_SEED, stop=STOP)

    # ---- the Runtime protocol -----------------------------------------------------------------

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        return [self.ask(**item) for item in inputs]

    def validate_input(self, item: Any) -> dict[str, Any]:
        return parse_question(item)

    def signature(self) -> dict[str, Any]:
        return {"inputs": [{**io_spec("question", "object", [-1]),
                            "example": {"question": "How do I reset my password?", "k": 3}}],
                "outputs": [io_spec("answer", "string", [-1]), io_spec("citations", "object", [-1, -1]),
                            io_spec("abstained", "bool", [-1])],
                "llm": self.llm, "k": self.k, "abstain_threshold": self.threshold,
                "passages": self.retriever.index.size}

    def close(self) -> None:
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def parse_question(item: Any) -> dict[str, Any]:
    """``{"question": non-empty text, "k": 1..10 (optional)}`` or a bare question string."""
    if isinstance(item, str):
        item = {"question": item}
    if not isinstance(item, dict):
        raise ValidationFailed("expected {\"question\": text, \"k\": int}", details={"field": "question"})
    unknown = sorted(set(item) - {"question", "k", "stream"})
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    question = item.get("question")
    if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION_CHARS:
        raise ValidationFailed(f"question must be a non-empty text of at most {MAX_QUESTION_CHARS} characters",
                               details={"field": "question"})
    k = item.get("k")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K):
        raise ValidationFailed(f"k must be an integer in 1..{MAX_K}", details={"field": "k"})
    return {"question": question.strip(), "k": k}


def _end_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {"citations": body["citations"], "abstained": body["abstained"], "confidence": body["confidence"]}


def _settings(params: dict[str, Any]) -> dict[str, Any]:
    threshold = params.get("abstain_threshold")
    threshold = DEFAULT_ABSTAIN_THRESHOLD if threshold is None else threshold
    weight = params.get("semantic_weight", DEFAULT_SEMANTIC_WEIGHT)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise InvalidParams("params.abstain_threshold must be a number in 0..1",
                            details={"field": "params.abstain_threshold"})
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise InvalidParams("params.semantic_weight must be a number in 0..1", details={"field": "params.semantic_weight"})
    if params.get("llm", BUNDLED_LLM) != BUNDLED_LLM:
        raise InvalidParams(f"params.llm must be {BUNDLED_LLM!r}", details={"field": "params.llm"})
    return {"k": int_param(params, "k", 3, 1, MAX_K), "abstain_threshold": float(threshold),
            "max_tokens": int_param(params, "max_tokens", 128, 1, 1024), "llm": BUNDLED_LLM,
            "semantic_weight": float(weight)}


def _generation_pool(settings: dict[str, Any], params: dict[str, Any], context: LoadContext) -> Any:
    from limelight.config import GenerationSettings
    from limelight.generation.gguf_file import bundled_model_path
    from limelight.generation.pool import GenerationPool
    from limelight.generation.runtime import SETTINGS_SERVICE

    defaults = context.services.get(SETTINGS_SERVICE) or GenerationSettings()
    return GenerationPool(
        bundled_model_path(), n_ctx=int_param(params, "n_ctx", min(defaults.n_ctx, N_CTX), 512, 8192),
        n_threads=int_param(params, "n_threads", defaults.n_threads, 1, 256),
        concurrency=int_param(params, "concurrency", defaults.concurrency, 1, 16),
        max_queue=int_param(params, "max_queue", defaults.max_queue, 0, 10_000),
        default_timeout_s=float(int_param(params, "request_timeout_s", round(defaults.request_timeout_s), 1, 3600)))
