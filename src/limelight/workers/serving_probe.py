"""The serving latency a model card states: the recipe's example call, timed in process on the
artifact just written, through the same runtime and verb handler the server uses.

A short closed loop (a few warm-up calls, then ``CALLS`` timed ones, or as many as fit in
``BUDGET_S`` but at least ``MIN_CALLS``: a generation takes a second where a ranking takes a
millisecond) on the worker's machine: it says what one request costs the model itself, without
HTTP, queueing or batching. The answer of the
last call is kept too, so the card shows what the example returns.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

from limelight.runtimes import LoadContext, load_runtime
from limelight.serving.verb_registry import default_verbs
from limelight.verbs import Served, VerbHandler, VersionKey, fold_events

CALLS = 50
MIN_CALLS = 5
BUDGET_S = 5.0  # of timed calls; only slow models (generations) stop before CALLS
WARM_UP = 3
ANSWER_CHARS = 2_000  # the card shows the example's answer, cut to this many characters of JSON


def probe(runtime_name: str, artifact: Path, params: dict[str, Any], example: dict[str, Any], org: str) -> dict[str, Any]:
    """``{"p50_ms", "p99_ms", "calls", "answer"}`` of ``example`` on the artifact."""
    handler = default_verbs().lookup(example["verb"], runtime_name)
    with tempfile.TemporaryDirectory(prefix="limelight-probe-") as cache:
        runtime = load_runtime(runtime_name, artifact, params, LoadContext(cache_dir=Path(cache), org=org))
        try:
            call = _call_of(handler)
            body = example["body"]
            outputs: list[Any] = []
            timings: list[float] = []
            for _ in range(WARM_UP):
                outputs = call(runtime, handler.parse(body))
            deadline = time.perf_counter() + BUDGET_S
            while len(timings) < CALLS and (len(timings) < MIN_CALLS or time.perf_counter() < deadline):
                started = time.perf_counter()
                outputs = call(runtime, handler.parse(body))
                timings.append((time.perf_counter() - started) * 1000)
            answer = handler.respond(outputs, body, Served(VersionKey(org, "card", 1), runtime_name))
        finally:
            runtime.close()
    timings.sort()
    text = json.dumps(answer, default=str)
    return {"p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(timings[min(len(timings) - 1, int(0.99 * len(timings)))], 3),
            "calls": len(timings), "answer": json.loads(text) if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS] + "…"}


def _call_of(handler: VerbHandler) -> Callable[[Any, list[Any]], list[Any]]:
    """The server's paths for an answer that is not streamed (``serving.protocols.v1``): a verb's own
    call, else its stream folded into one result (generations), else the batcher's
    validate-then-predict_batch."""
    if handler.call is not None:
        return handler.call
    stream = handler.stream
    if stream is not None:
        async def folded(runtime: Any, item: Any) -> dict[str, Any]:
            async with aclosing(stream(runtime, item)) as events:  # type: ignore[type-var]
                return fold_events([event async for event in events])

        return lambda runtime, items: [asyncio.run(folded(runtime, item)) for item in items]
    return lambda runtime, items: runtime.predict_batch([runtime.validate_input(i) for i in items])
