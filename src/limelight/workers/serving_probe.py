"""The serving latency a model card states: the recipe's example call, timed in process on the
artifact just written, through the same runtime and verb handler the server uses.

A short closed loop (a few warm-up calls, then ``CALLS`` timed ones) on the worker's machine: it
says what one request costs the model itself, without HTTP, queueing or batching. The answer of the
last call is kept too, so the card shows what the example returns.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from limelight.runtimes import LoadContext, load_runtime
from limelight.serving.verb_registry import default_verbs
from limelight.verbs import Served, VersionKey

CALLS = 50
WARM_UP = 3
ANSWER_CHARS = 2_000  # the card shows the example's answer, cut to this many characters of JSON


def probe(runtime_name: str, artifact: Path, params: dict[str, Any], example: dict[str, Any], org: str) -> dict[str, Any]:
    """``{"p50_ms", "p99_ms", "calls", "answer"}`` of ``example`` on the artifact."""
    handler = default_verbs().lookup(example["verb"], runtime_name)
    with tempfile.TemporaryDirectory(prefix="limelight-probe-") as cache:
        runtime = load_runtime(runtime_name, artifact, params, LoadContext(cache_dir=Path(cache), org=org))
        try:
            # the server's two paths: a verb's own call, else the batcher's validate-then-predict_batch
            call = handler.call or (lambda rt, items: rt.predict_batch([rt.validate_input(i) for i in items]))
            body = example["body"]
            outputs: list[Any] = []
            timings: list[float] = []
            for i in range(WARM_UP + CALLS):
                started = time.perf_counter()
                outputs = call(runtime, handler.parse(body))
                if i >= WARM_UP:
                    timings.append((time.perf_counter() - started) * 1000)
            answer = handler.respond(outputs, body, Served(VersionKey(org, "card", 1), runtime_name))
        finally:
            runtime.close()
    timings.sort()
    text = json.dumps(answer, default=str)
    return {"p50_ms": round(statistics.median(timings), 3),
            "p99_ms": round(timings[min(len(timings) - 1, int(0.99 * len(timings)))], 3),
            "calls": CALLS, "answer": json.loads(text) if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS] + "…"}
