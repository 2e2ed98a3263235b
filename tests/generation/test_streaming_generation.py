"""Streams against a one-process SmolLM2 with no queue: a client that leaves frees the process at
once, a second caller meanwhile is refused 503, a timeout after the first byte is a last error event."""

# ruff: noqa: F811 - fixtures imported from openai_support are parameters of the tests below

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import orjson
import pytest

from tests.generation.openai_support import LLM_PARAMS, client_for, gen_tenant, ref, upload_llm  # noqa: F401
from tests.serving.conftest import Served
from tests.support.factories import Tenant

openai = pytest.importorskip("openai")

COUNTING = "1, 2, 3, 4, 5, 6, 7, 8,"  # greedy SmolLM2 keeps counting: it never stops on its own early
LONG_TOKENS = 120


@pytest.fixture(scope="module")
def solo(gen_tenant: Tenant) -> Served:
    """One generating process and no queue: busy means 503."""
    return upload_llm(gen_tenant, {**LLM_PARAMS, "max_queue": 0})


@pytest.fixture(scope="module")
def hasty(gen_tenant: Tenant) -> Served:
    """Generations are stopped after one second."""
    return upload_llm(gen_tenant, {**LLM_PARAMS, "request_timeout_s": 1})


def body(model: Served, **extra: object) -> dict[str, object]:
    return {"model": ref(model), "prompt": COUNTING, "max_tokens": LONG_TOKENS, "temperature": 0, **extra}


@contextmanager
def streaming(model: Served) -> Iterator[Iterator[str]]:
    """A long completion stream, its ``data:`` lines; leaving the block disconnects."""
    with httpx.Client(base_url=model.tenant.server.url, timeout=60,
                      headers={"Authorization": f"Bearer {model.tenant.key}"}) as http, \
            http.stream("POST", "/v1/completions", json=body(model, stream=True)) as response:
        assert response.status_code == 200
        yield (line for line in response.iter_lines() if line.startswith("data: "))


def first_accepted_after(model: Served, timeout_s: float) -> float:
    """Seconds until a one-token request is served (a busy process answers 503 at once)."""
    client, started = client_for(model.tenant), time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            client.completions.create(model=ref(model), prompt="Hi", max_tokens=1)
            return time.monotonic() - started
        except openai.InternalServerError as exc:
            assert exc.status_code == 503
            time.sleep(0.02)
    raise AssertionError(f"still busy after {timeout_s} s")


def test_a_client_leaving_mid_stream_stops_the_generation(solo: Served) -> None:
    started = time.monotonic()
    whole = client_for(solo.tenant).completions.create(**body(solo))  # type: ignore[call-overload]
    full_s = time.monotonic() - started
    assert whole.choices[0].finish_reason == "length" and whole.usage.completion_tokens == LONG_TOKENS
    with streaming(solo) as lines:
        received = [next(lines) for _ in range(4)]  # a few tokens, then the client goes away
    assert len(received) == 4
    freed_s = first_accepted_after(solo, timeout_s=full_s)
    # Had the generation gone on, the process would stay busy for most of full_s (200 tokens).
    assert freed_s < full_s / 4, (freed_s, full_s)
    scraped = solo.tenant.server.scrape()
    left = [line for line in scraped.splitlines() if line.startswith("limelight_requests_total{")
            and f'model="{ref(solo)}"' in line and 'route="openai:completions"' in line and 'status="499"' in line]
    assert left and float(left[0].rsplit(" ", 1)[1]) >= 1


def test_a_second_caller_while_the_only_process_is_busy_gets_503_retry_after(solo: Served) -> None:
    with streaming(solo) as lines:
        next(lines)
        with pytest.raises(openai.InternalServerError) as caught:
            client_for(solo.tenant).chat.completions.create(
                model=ref(solo), messages=[{"role": "user", "content": "Hi"}], max_tokens=2, stream=True)
    assert caught.value.status_code == 503 and caught.value.code == "overloaded"
    assert caught.value.type == "server_error" and int(caught.value.response.headers["retry-after"]) >= 1


def test_a_timeout_after_the_first_byte_is_a_last_error_event(hasty: Served) -> None:
    with streaming(hasty) as lines:
        events = list(lines)
    last = orjson.loads(events[-1].removeprefix("data: "))
    assert last["error"]["code"] == "deadline_exceeded" and last["error"]["type"] == "server_error"
    assert "data: [DONE]" not in events and len(events) > 2  # tokens came before the timeout
    with pytest.raises(openai.APIStatusError) as whole:
        client_for(hasty.tenant).completions.create(**body(hasty))  # type: ignore[call-overload]
    assert whole.value.status_code == 504 and whole.value.code == "deadline_exceeded"


def test_a_client_giving_up_on_a_whole_answer_stops_the_generation(solo: Served) -> None:
    started = time.monotonic()
    client_for(solo.tenant).completions.create(**body(solo))  # type: ignore[call-overload]
    full_s = time.monotonic() - started
    with httpx.Client(base_url=solo.tenant.server.url, timeout=full_s / 8,
                      headers={"Authorization": f"Bearer {solo.tenant.key}"}) as http, \
            pytest.raises(httpx.ReadTimeout):
        http.post("/v1/completions", json=body(solo))  # not streamed: nothing comes before the end
    assert first_accepted_after(solo, timeout_s=full_s) < full_s / 4
