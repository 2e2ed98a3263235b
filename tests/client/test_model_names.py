"""The SDK names a model ``"org/name"``, as the CLI (``ORG/NAME``) and the URL (``/v1/models/{org}/{name}``) do.

The old ``(org, name, …)`` form still works for one release and warns; a malformed name fails
before anything is sent. No server: the requests are caught by an ``httpx.MockTransport``.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from limelight.client import AsyncClient, Client

# method: (the arguments after the model, keyword arguments, the verb in the URL)
CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any], str]] = {
    "predict": (([[1.0]],), {"alias": "canary"}, "predict"),
    "recommend": (("u1",), {"k": 5}, "recommend"),
    "similar": (("i1",), {"k": 3}, "similar"),
    "explain": (({"user_id": "u1", "item_id": "i1"},), {}, "explain"),
    "score_users": ((), {"limit": 5}, "score"),
    "embed": ((["a heist"],), {}, "embed"),
    "classify": ((["great film"],), {"top_k": 2}, "classify"),
    "search": (("heist",), {"mode": "lexical"}, "search"),
    "generate": (({"genre": "noir"},), {"seed": 1}, "generate"),
    "invoke": (("ask", {"question": "why?"}), {}, "ask"),
}
MALFORMED = ["demo", "a/b/c", "/x", "x/", ""]
STREAM_BODY = b'data: {"event": "start"}\n\ndata: {"event": "end", "finish_reason": "stop"}\n\n'


def _answer(seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("accept") == "text/event-stream":
            return httpx.Response(200, content=STREAM_BODY, headers={"Content-Type": "text/event-stream"})
        return httpx.Response(200, json={"model": "studio/recs", "version": 1})

    return httpx.MockTransport(answer)


def _refuse(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"a request was sent for a malformed model: {request.method} {request.url}")


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(seen: list[httpx.Request]) -> Iterator[Client]:
    with Client("http://server.test", "ll_key", transport=_answer(seen)) as sdk:
        yield sdk


@pytest.mark.parametrize("method", CALLS)
def test_every_inference_call_takes_the_model_as_org_slash_name(client: Client, seen: list[httpx.Request],
                                                                method: str) -> None:
    args, kwargs, verb = CALLS[method]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        getattr(client, method)("studio/recs", *args, **kwargs)
    assert [r.url.path for r in seen] == [f"/v1/models/studio/recs:{verb}"]


def test_generate_stream_takes_the_model_as_org_slash_name(client: Client, seen: list[httpx.Request]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        events = list(client.generate_stream("studio/recs", {"genre": "noir"}))
    assert [e["event"] for e in events] == ["start", "end"]
    assert [(r.url.path, r.headers["accept"]) for r in seen] == [("/v1/models/studio/recs:generate",
                                                                  "text/event-stream")]


@pytest.mark.parametrize("method", CALLS)
def test_the_old_org_and_name_form_still_works_and_warns(client: Client, seen: list[httpx.Request],
                                                         method: str) -> None:
    args, kwargs, verb = CALLS[method]
    with pytest.warns(DeprecationWarning, match=rf"Client\.{method}\(org, name, …\) is deprecated: pass the model "
                                                rf"as 'org/name', client\.{method}\('studio/recs', …\)") as caught:
        getattr(client, method)("studio", "recs", *args, **kwargs)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    getattr(client, method)("studio/recs", *args, **kwargs)
    old, new = seen
    assert (old.url, old.content) == (new.url, new.content)
    assert old.url.path == f"/v1/models/studio/recs:{verb}"


def test_the_old_form_of_generate_stream_warns_when_called(client: Client, seen: list[httpx.Request]) -> None:
    with pytest.warns(DeprecationWarning, match=r"client\.generate_stream\('studio/recs', …\)"):
        events = client.generate_stream("studio", "recs", {"genre": "noir"})
    assert [e["event"] for e in events] == ["start", "end"]
    assert [r.url.path for r in seen] == ["/v1/models/studio/recs:generate"]


@pytest.mark.parametrize("model", MALFORMED)
def test_a_malformed_model_raises_value_error_before_any_request(model: str) -> None:
    with Client("http://server.test", "ll_key", transport=httpx.MockTransport(_refuse)) as client:
        for method, (args, kwargs, _) in CALLS.items():
            with pytest.raises(ValueError, match=r"model must be 'org/name'") as raised:
                getattr(client, method)(model, *args, **kwargs)
            assert repr(model) in str(raised.value), method
        with pytest.raises(ValueError, match=r"model must be 'org/name'"):
            client.generate_stream(model, {"genre": "noir"})  # at the call, not at the first event


@pytest.mark.parametrize("model", MALFORMED)
def test_the_async_client_checks_the_model_the_same_way(model: str) -> None:
    async def scenario() -> None:
        async with AsyncClient("http://server.test", "ll_key", transport=httpx.MockTransport(_refuse)) as client:
            for method, (args, kwargs, _) in CALLS.items():
                with pytest.raises(ValueError, match=r"model must be 'org/name'"):
                    await getattr(client, method)(model, *args, **kwargs)
            with pytest.raises(ValueError, match=r"model must be 'org/name'"):
                client.generate_stream(model, {"genre": "noir"})

    asyncio.run(scenario())


def test_the_async_client_takes_both_forms(seen: list[httpx.Request]) -> None:
    async def scenario() -> list[str]:
        async with AsyncClient("http://server.test", "ll_key", transport=_answer(seen)) as client:
            await client.recommend("studio/recs", "u1", k=5)
            with pytest.warns(DeprecationWarning, match=r"AsyncClient\.recommend\(org, name, …\) is deprecated"):
                await client.recommend("studio", "recs", "u1", k=5)
            with pytest.warns(DeprecationWarning, match=r"AsyncClient\.generate_stream\(org, name, …\)"):
                stream = client.generate_stream("studio", "recs", {"genre": "noir"})
            return [event["event"] async for event in stream]

    assert asyncio.run(scenario()) == ["start", "end"]
    first, second, streamed = seen
    assert (first.url, first.content) == (second.url, second.content)
    assert first.url.path == "/v1/models/studio/recs:recommend" and streamed.url.path.endswith(":generate")


def test_a_model_name_without_its_org_is_not_taken_for_the_old_form(client: Client) -> None:
    """``recommend("recs", "u1")`` forgot the org: joining it into ``recs/u1`` would leave no user id."""
    with pytest.raises(ValueError, match=r"got 'recs'"):
        client.recommend("recs", "u1")
    with pytest.raises(ValueError, match=r"got 'recs'"):
        client.invoke("recs", "ask", {"question": "why?"})
