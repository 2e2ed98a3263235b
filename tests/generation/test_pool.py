"""GenerationPool on the real llama.cpp and SmolLM2-135M: determinism, stops, limits, cancels,
timeouts, a full queue, a crashed child, grammars. Completions are kept to a few tokens."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import jsonschema
import pytest

from limelight.errors import (
    ContextLengthExceeded,
    DeadlineExceeded,
    GenerationFailed,
    GrammarInvalid,
    ModelUnavailable,
    Overloaded,
)
from limelight.generation.grammar import json_schema_grammar
from limelight.generation.pool import GenerationPool
from limelight.generation.requests import Finished, GenerationRequest, Started, Token

STORY = "Once upon a time, in a small village by the sea,"


def _chat(text: str, **fields: object) -> GenerationRequest:
    return GenerationRequest(messages=[{"role": "user", "content": text}], **fields)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_text(pool: GenerationPool) -> None:
    request = _chat("Name a colour.", max_tokens=8, temperature=0.9, seed=42)
    first, second = pool.submit(request).collect(), pool.submit(request).collect()
    assert first == second and first.text
    others = {pool.submit(_chat("Name a colour.", max_tokens=8, temperature=0.9, seed=s)).collect().text
              for s in (1, 2)}
    assert len(others | {first.text}) > 1  # the seed does steer sampling


def test_the_chat_template_and_real_token_counts(pool: GenerationPool) -> None:
    stream = pool.submit(_chat("Hi", max_tokens=4, temperature=0.0))
    events = list(stream)
    assert isinstance(events[0], Started) and isinstance(events[-1], Finished)
    # SmolLM2's template adds a system turn and the <|im_start|> markers around one word
    assert events[0].prompt_tokens > 20
    assert events[-1].prompt_tokens == events[0].prompt_tokens
    assert sum(isinstance(e, Token) for e in events) == events[-1].completion_tokens == 4
    assert pool.count_tokens("Hi") == 1 and pool.count_tokens("") == 0


def test_max_tokens_ends_with_length(pool: GenerationPool) -> None:
    done = pool.submit(GenerationRequest(prompt=STORY, max_tokens=3, temperature=0.0)).collect()
    assert done.finish_reason == "length" and done.completion_tokens == 3


def test_a_stop_sequence_ends_the_text_before_it(pool: GenerationPool) -> None:
    free = pool.submit(GenerationRequest(prompt="1, 2, 3, 4,", max_tokens=12, temperature=0.0)).collect()
    assert " 6" in free.text  # without a stop the model counts on
    stopped = pool.submit(GenerationRequest(prompt="1, 2, 3, 4,", max_tokens=12, temperature=0.0,
                                            stop=(" 6",))).collect()
    assert stopped.finish_reason == "stop"
    assert " 6" not in stopped.text and free.text.startswith(stopped.text)
    assert stopped.completion_tokens < free.completion_tokens


def test_cancel_stops_generation_within_one_token(pool: GenerationPool) -> None:
    stream = pool.submit(GenerationRequest(prompt=STORY, max_tokens=200, temperature=0.8, seed=5))
    seen, after_cancel, finished = 0, 0, None
    for event in stream:
        if isinstance(event, Token):
            if stream.cancel_requested:
                after_cancel += 1
            else:
                seen += 1
                if seen == 3:
                    stream.cancel()
        elif isinstance(event, Finished):
            finished = event
    assert finished is not None and finished.finish_reason == "cancelled"
    assert after_cancel <= 1
    assert finished.completion_tokens - seen <= 1  # the child itself produced at most one more
    assert pool.submit(GenerationRequest(prompt="Hi", max_tokens=2)).collect().completion_tokens == 2


def test_a_prompt_over_the_context_is_a_400_with_the_limit(pool: GenerationPool) -> None:
    with pytest.raises(ContextLengthExceeded) as refused:
        pool.submit(GenerationRequest(prompt="word " * 700, max_tokens=5)).collect()
    assert refused.value.status == 400
    assert refused.value.details["limit"] == 512 and refused.value.details["prompt_tokens"] > 512
    assert refused.value.details["max_tokens"] == 5


def test_a_full_queue_is_refused_at_once_with_retry_after(pool: GenerationPool) -> None:
    running = pool.submit(GenerationRequest(prompt=STORY, max_tokens=400, temperature=0.8))
    assert isinstance(next(iter(running)), Started)  # the only child is busy
    queued = [pool.submit(GenerationRequest(prompt="Hi", max_tokens=2)) for _ in range(pool.max_queue)]
    started = time.monotonic()
    with pytest.raises(Overloaded) as refused:
        pool.submit(GenerationRequest(prompt="Hi", max_tokens=2))
    assert time.monotonic() - started < 0.5
    assert refused.value.status == 503 and int(refused.value.headers()["Retry-After"]) >= 1
    running.cancel()
    assert all(stream.collect().completion_tokens == 2 for stream in queued)  # the queue still runs


def test_a_timeout_is_a_504_and_frees_the_child(pool: GenerationPool) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as refused:
        pool.submit(GenerationRequest(prompt=STORY, max_tokens=450, temperature=0.8, timeout_s=0.5)).collect()
    assert refused.value.status == 504 and time.monotonic() - started < 3
    # 450 tokens take several seconds: a quick answer now means the child stopped that generation
    started = time.monotonic()
    assert pool.submit(GenerationRequest(prompt="Hi", max_tokens=2)).collect().completion_tokens == 2
    assert time.monotonic() - started < 2


def test_a_killed_child_fails_only_its_request_and_is_replaced(pool: GenerationPool) -> None:
    stream = pool.submit(GenerationRequest(prompt=STORY, max_tokens=300, temperature=0.8))
    queued = pool.submit(GenerationRequest(prompt="Hi", max_tokens=2))
    (victim,) = pool.child_pids()
    events = iter(stream)
    assert isinstance(next(events), Started)
    os.kill(victim, signal.SIGKILL)
    with pytest.raises(GenerationFailed) as failed:
        for _ in events:
            pass
    assert failed.value.status == 502 and failed.value.code == "generation_failed"
    assert "SIGKILL" in failed.value.message
    assert queued.collect().completion_tokens == 2  # waited for the new child, was not failed
    assert pool.child_pids() != [victim]


def test_a_json_schema_grammar_gives_json_that_validates(pool: GenerationPool) -> None:
    schema = {"type": "object", "properties": {"year": {"type": "integer", "minimum": 1900, "maximum": 2030}},
              "required": ["year"], "additionalProperties": False}
    done = pool.submit(_chat("In which year did a famous film come out? Answer as JSON.", max_tokens=30,
                             temperature=0.0,
                             grammar=json_schema_grammar(schema))).collect()
    assert done.finish_reason == "stop"
    jsonschema.validate(json.loads(done.text), schema)


def test_a_grammar_llama_cpp_cannot_parse_is_a_400(pool: GenerationPool) -> None:
    with pytest.raises(GrammarInvalid) as refused:
        pool.submit(GenerationRequest(prompt="Hi", max_tokens=2, grammar="root ::= undefined-rule")).collect()
    assert refused.value.status == 400
    assert pool.submit(GenerationRequest(prompt="Hi", max_tokens=2)).collect().completion_tokens == 2


def test_async_iteration_gives_the_same_events(pool: GenerationPool) -> None:
    request = GenerationRequest(prompt=STORY, max_tokens=5, temperature=0.7, seed=9)

    async def events() -> list[object]:
        return [event async for event in pool.submit(request)]

    assert asyncio.run(events()) == list(pool.submit(request))


def test_a_child_that_died_idle_is_replaced_before_the_next_request(pool: GenerationPool) -> None:
    (victim,) = pool.child_pids()
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.2)
    assert pool.submit(GenerationRequest(prompt="Hi", max_tokens=2)).collect().completion_tokens == 2
    assert pool.child_pids() != [victim]


def test_concurrency_is_the_number_of_children_running_at_once(model_path: Path) -> None:
    two = GenerationPool(model_path, n_ctx=256, n_threads=1, concurrency=2, max_queue=0, default_timeout_s=30)
    try:
        assert len(set(two.child_pids())) == 2
        first, second = (two.submit(GenerationRequest(prompt=STORY, max_tokens=40, seed=s)) for s in (1, 2))
        iterators = [iter(first), iter(second)]
        assert all(isinstance(next(events), Started) for events in iterators)  # both running, neither queued
        with pytest.raises(Overloaded):  # max_queue 0: no third while both children are busy
            two.submit(GenerationRequest(prompt="Hi", max_tokens=2))
    finally:
        children = two.child_pids()
        two.close()
    for events in iterators:  # unloading fails what was running, with a retryable 503
        with pytest.raises(ModelUnavailable):
            list(events)
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
