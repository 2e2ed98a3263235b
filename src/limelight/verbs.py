"""Task verbs, the serving extension point: the contract between task domains and the serving core.

``POST /v1/models/{org}/{name}:{verb}`` dispatches on ``(verb, runtime of the resolved version)``
to a :class:`VerbHandler`:

* ``parse(body) -> list[item]``: the request JSON to per-item payloads (raise
  ``ValidationFailed(details={"field": ...})`` for bad input);
* ``call``: ``None`` sends the items through the version's batcher (``runtime.predict_batch``);
  a function ``(runtime, items) -> outputs`` runs in a worker thread instead (another method);
* ``respond(outputs, body, served) -> dict``: the response JSON (``served.version``,
  ``served.model_ref`` name what answered).
* ``stream``: a function ``(runtime, item) -> AsyncIterator[event]`` for verbs that answer piece by
  piece (text generation). ``parse`` then returns one item. The events are plain dicts, the same for
  every domain::

      {"event": "start", "prompt_tokens": int}             # first: the input was accepted
      {"event": "delta", "text": str}                      # zero or more pieces of the answer
      {"event": "end", "finish_reason": "stop" | "length", "prompt_tokens": int,
       "completion_tokens": int, ...}                      # last; a domain may add fields ("citations")

  Raise input errors before the first event (they become normal 4xx replies); close the work when
  the iterator is closed (``aclose``: the client went away). The engine holds the runtime
  (``host.acquire``) for the stream's whole life and releases it when the stream ends, fails or is
  closed. A request with ``"stream": true`` is answered as Server-Sent Events, one event per
  ``data:`` line; otherwise the events are folded into one result (``fold_events``:
  ``{"text", "finish_reason", "prompt_tokens", "completion_tokens", ...}``) handed to
  ``respond([result], body, served)``, unless the handler also has a ``call``, which then answers
  non-streaming requests. Other protocols (OpenAI's ``/v1/chat/completions``) reach the same
  handlers through the verb names ``chat`` and ``complete``.

Usage metering counts each request's tokens from its ``end`` event; a verb whose ``call`` generates
(no stream) reports its answer's ``usage`` with ``count_tokens``.

To add verbs for a runtime, write one module with a ``register_verbs(registry: VerbRegistry)``
function and either name it in its domain's entry of ``limelight.domains`` or expose it under the
``limelight.verbs`` entry-point group. A provider's handler for ``(verb, runtime)`` replaces the
built-in one. Example::

    def register_verbs(registry: VerbRegistry) -> None:
        registry.register(VerbHandler(
            verb="similar", runtimes=frozenset({"recommender"}),
            parse=lambda body: [{"item_id": body["item_id"], "k": body.get("k", 10)}],
            call=lambda runtime, items: [runtime.similar(**i) for i in items],
            respond=lambda outs, body, served: {"items": outs[0], "version": served.version},
        ))
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from limelight.errors import NotFound

if TYPE_CHECKING:
    from limelight.runtimes.base import Runtime

__all__ = ["REQUEST_TOKENS", "Served", "TokenCount", "VerbHandler", "VerbRegistry", "VersionKey", "count_tokens",
           "fold_events"]


@dataclass(frozen=True, order=True)
class VersionKey:
    """One version of one model: what the model host loads, batches and evicts."""

    org: str
    model: str
    version: int

    def __str__(self) -> str:
        return f"{self.org}/{self.model}@{self.version}"

    @property
    def model_ref(self) -> str:
        """``org/name``: the model label of metrics and replies."""
        return f"{self.org}/{self.model}"


@dataclass(frozen=True)
class Served:
    """Which version answered a request."""

    key: VersionKey
    runtime: str

    @property
    def version(self) -> int:
        return self.key.version

    @property
    def model_ref(self) -> str:
        return self.key.model_ref


@dataclass(frozen=True)
class VerbHandler:
    """One task verb for some runtimes (see the module docstring)."""

    verb: str
    parse: Callable[[dict[str, Any]], list[Any]]
    respond: Callable[[list[Any], dict[str, Any], Served], dict[str, Any]]
    runtimes: frozenset[str] = frozenset()  # empty: every runtime
    call: Callable[[Runtime, list[Any]], list[Any]] | None = None  # None: the batcher (or ``stream``)
    stream: Callable[[Runtime, Any], AsyncIterator[dict[str, Any]]] | None = None  # see the module docstring
    # the item ids an answer showed the end user (recommendations), for catalog monitoring
    shown_items: Callable[[dict[str, Any]], list[str]] | None = None


def shown_item_ids(answer: dict[str, Any]) -> list[str]:
    """``VerbHandler.shown_items`` of answers that list ``items`` with an ``item_id`` each."""
    return [str(i["item_id"]) for i in answer.get("items") or () if isinstance(i, dict) and "item_id" in i]


@dataclass(slots=True)
class TokenCount:
    """The tokens one request read and generated, for usage metering."""

    prompt: int = 0
    completion: int = 0

    def add(self, counts: Mapping[str, Any]) -> None:
        """Add the ``prompt_tokens`` and ``completion_tokens`` of an ``end`` event or a ``usage`` object."""
        self.prompt += int(counts.get("prompt_tokens") or 0)
        self.completion += int(counts.get("completion_tokens") or 0)


# The count of the request being served: set by the serving core around its endpoint when usage is
# metered (a context variable, so each request's task sees its own).
REQUEST_TOKENS: ContextVar[TokenCount | None] = ContextVar("limelight_request_tokens", default=None)


def count_tokens(usage: Mapping[str, Any] | None) -> None:
    """Meter a non-streamed answer's ``usage`` to the request being served (for a verb whose ``call``
    generates; streamed verbs' ``end`` events are counted by the serving core)."""
    count = REQUEST_TOKENS.get()
    if count is not None and usage:
        count.add(usage)


def fold_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """A stream's events as one result: the deltas' text joined, plus the ``end`` event's fields."""
    text = "".join(e.get("text", "") for e in events if e.get("event") == "delta")
    end: dict[str, Any] = next((e for e in reversed(events) if e.get("event") == "end"), {})
    return {"text": text, **{k: v for k, v in end.items() if k != "event"}}


class VerbRegistry:
    """verb -> runtime -> handler; a handler for every runtime is filed under ``*``."""

    def __init__(self) -> None:
        self._handlers: dict[str, dict[str, VerbHandler]] = {}

    def register(self, handler: VerbHandler) -> None:
        by_runtime = self._handlers.setdefault(handler.verb, {})
        for runtime in handler.runtimes or frozenset({"*"}):
            by_runtime[runtime] = handler

    def known(self, verb: str) -> bool:
        return verb in self._handlers

    def lookup(self, verb: str, runtime: str) -> VerbHandler:
        by_runtime = self._handlers.get(verb, {})
        handler = by_runtime.get(runtime) or by_runtime.get("*")
        if handler is None:
            supported = sorted(v for v, h in self._handlers.items() if runtime in h or "*" in h)
            raise NotFound(
                f"Verb {verb!r} is not available for {runtime} models.",
                details={"verb": verb, "runtime": runtime, "supported": supported},
            )
        return handler
