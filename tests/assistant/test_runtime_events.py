"""The assistant runtime in-process on the real SmolLM2: the answer as verb events, and the verbs."""

from __future__ import annotations

import asyncio

import pytest

from limelight.assistant.answering import ABSTAIN_ANSWER
from limelight.assistant.verbs import parse_chat, register_verbs
from limelight.errors import ValidationFailed
from limelight.verbs import VerbRegistry


@pytest.fixture(scope="module")
def runtime(kb_index, encoder_cache, tmp_path_factory):  # type: ignore[no-untyped-def]
    from limelight.assistant.artifact import save_index
    from limelight.runtimes.base import LoadContext, load_runtime

    path = tmp_path_factory.mktemp("assistant") / "kb.npz"
    save_index(path, kb_index)
    loaded = load_runtime("assistant", path, {"max_tokens": 8}, LoadContext(cache_dir=encoder_cache))
    yield loaded
    loaded.close()


def _events(runtime, question: str) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    async def collect() -> list[dict]:  # type: ignore[type-arg]
        return [event async for event in runtime.ask_events(question)]
    return asyncio.run(collect())


def test_an_answer_streams_start_deltas_and_an_end_with_citations(runtime):
    events = _events(runtime, "How long do downloaded titles last before they expire?")
    assert events[0]["event"] == "start" and events[0]["prompt_tokens"] > 50
    assert events[-1]["event"] == "end" and events[-1]["abstained"] is False
    assert 1 <= events[-1]["completion_tokens"] <= 8 and events[-1]["finish_reason"] in ("stop", "length")
    assert events[-1]["citations"][0]["doc_id"] == "downloads-overview"
    assert all(e["event"] == "delta" and e["text"] for e in events[1:-1])
    text = "".join(e["text"] for e in events[1:-1])
    assert text.strip() and runtime.ask("How long do downloaded titles last before they expire?")["answer"] == text.strip()


def test_an_abstention_streams_the_fixed_answer_without_generating(runtime):
    events = _events(runtime, "Who is the CEO of Reelwave?")
    assert [e["event"] for e in events] == ["start", "delta", "end"]
    assert events[1]["text"] == ABSTAIN_ANSWER
    assert events[-1]["abstained"] is True and events[-1]["completion_tokens"] == 0 and events[-1]["citations"]


def test_chat_bodies_become_the_last_user_question():
    body = {"messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "first"},
                         {"role": "assistant", "content": "ok"},
                         {"role": "user", "content": [{"type": "text", "text": "Can I pay with PayPal?"}]}]}
    assert parse_chat(body) == [{"question": "Can I pay with PayPal?", "k": None}]
    with pytest.raises(ValidationFailed):
        parse_chat({"messages": [{"role": "system", "content": "no question"}]})


def test_verbs_register_ask_and_a_streaming_chat_for_the_openai_routes():

    registry = VerbRegistry()
    register_verbs(registry)
    assert registry.lookup("ask", "assistant").call is not None
    assert registry.lookup("chat", "assistant").stream is not None
    assert registry.lookup("ask", "assistant").stream is not None
