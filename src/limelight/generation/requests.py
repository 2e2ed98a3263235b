"""What a caller asks a generation pool for, and what comes back: plain data, no llama.cpp.

A stream yields ``Started`` once the prompt is accepted (it fits the context), one ``Token`` per
generated token, then ``Finished``. A token's text may be empty: a piece of a multi-byte character
or text held back because it may begin a stop sequence (it is sent with a later token, or dropped
if the stop sequence completes). ``Finished.completion_tokens`` counts the model's real tokens.

A prompt that fills the context (``prompt_tokens >= n_ctx``) is refused with
``ContextLengthExceeded``; a shorter one whose ``max_tokens`` would overflow the context generates
until the context is full and ends with ``finish_reason="length"``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from limelight.errors import ValidationFailed

__all__ = [
    "FINISH_REASONS",
    "Completion",
    "Finished",
    "GenerationEvent",
    "GenerationRequest",
    "Started",
    "Token",
]

# "cancelled" only ends a stream whose caller called ``cancel()``.
FINISH_REASONS = ("stop", "length", "cancelled")
_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: a chat (``messages``) or a plain completion (``prompt``), exactly one of them."""

    messages: list[dict[str, str]] | None = None
    prompt: str | None = None
    max_tokens: int = 256
    temperature: float = 0.8
    top_p: float = 0.95
    stop: tuple[str, ...] = ()
    seed: int | None = None
    grammar: str | None = None
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValidationFailed("give exactly one of messages and prompt", details={"field": "messages"})
        if self.messages is not None:
            _check_messages(self.messages)
        if self.prompt is not None and not isinstance(self.prompt, str):
            raise ValidationFailed("prompt must be text", details={"field": "prompt"})
        if self.grammar is not None and not isinstance(self.grammar, str):
            raise ValidationFailed("grammar must be GBNF text", details={"field": "grammar"})
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ValidationFailed("max_tokens must be a positive integer", details={"field": "max_tokens"})
        if not 0.0 <= float(self.temperature) <= 5.0:
            raise ValidationFailed("temperature must be in 0..5", details={"field": "temperature"})
        if not 0.0 < float(self.top_p) <= 1.0:
            raise ValidationFailed("top_p must be in (0, 1]", details={"field": "top_p"})
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise ValidationFailed("stop sequences must be non-empty strings", details={"field": "stop"})
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed < 2**32):
            raise ValidationFailed("seed must be an integer in 0..2**32-1", details={"field": "seed"})
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ValidationFailed("timeout_s must be positive", details={"field": "timeout_s"})

    def wire(self) -> dict[str, Any]:
        """The JSON sent to the generating process (``timeout_s`` stays with the pool)."""
        body = asdict(self)
        body.pop("timeout_s")
        body["stop"] = list(self.stop)
        return body


def _check_messages(messages: list[dict[str, str]]) -> None:
    if not isinstance(messages, list) or not messages:
        raise ValidationFailed("messages must be a non-empty list", details={"field": "messages"})
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES \
                or not isinstance(message.get("content"), str):
            raise ValidationFailed(
                f"messages[{i}] must be {{'role': system|user|assistant, 'content': text}}",
                details={"field": f"messages[{i}]"})


@dataclass(frozen=True)
class Started:
    """The prompt was accepted: it fits the context with room for at least one token."""

    prompt_tokens: int


@dataclass(frozen=True)
class Token:
    """One generated token's text (may be empty, see the module docstring)."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The last event: why generation ended and how many tokens it took."""

    finish_reason: str
    prompt_tokens: int
    completion_tokens: int


GenerationEvent = Started | Token | Finished


@dataclass(frozen=True)
class Completion:
    """A whole generation, as :meth:`GenerationStream.collect` returns it."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
