"""The generating process: the only code that loads llama.cpp (``llama_cpp.Llama``).

Run as ``python -m limelight.generation.child '<config JSON>'`` by :mod:`limelight.generation.pool`.
It loads one GGUF model, then answers one JSON request per stdin line (``generate`` or ``count``)
with JSON events on a private descriptor; stdout is pointed at stderr so nothing llama.cpp prints can
forge an event. A native crash ends this process only: the pool fails the request it was running and
starts another. Cancellation needs no message: the parent writes the id of the request to stop into
a shared 8-byte flag, read between tokens, so a generation stops within one token of a cancel.
"""

from __future__ import annotations

import json
import mmap
import os
import random
import resource
import struct
import sys
from collections.abc import Callable
from typing import Any

from limelight.generation.text_assembly import TextAssembler

_FLAG = struct.Struct("<q")
Send = Callable[[dict[str, Any]], None]


class _Refused(Exception):
    """A request this model cannot run; becomes an ``error`` event with a limelight error code."""

    def __init__(self, code: str, status: int, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.event = {"e": "error", "code": code, "status": status, "message": message, "details": details or {}}


class Generator:
    """One loaded model and the chat template from its GGUF metadata."""

    def __init__(self, config: dict[str, Any], flag: mmap.mmap) -> None:
        from llama_cpp import Llama

        self.llm = Llama(model_path=config["model_path"], n_ctx=int(config["n_ctx"]),
                         n_threads=int(config["n_threads"]), n_threads_batch=int(config["n_threads"]),
                         vocab_only=bool(config.get("vocab_only")), verbose=False)
        self.flag = flag
        self._formatter = _chat_formatter(self.llm)

    def count(self, request: dict[str, Any], send: Send) -> None:
        counts = [len(self.llm.tokenize(str(text).encode("utf-8"), add_bos=False, special=False))
                  for text in request["texts"]]
        send({"e": "counts", "counts": counts})

    def generate(self, request: dict[str, Any], send: Send) -> None:
        tokens, stops = self._prompt(request)
        limit = self.llm.n_ctx()
        if len(tokens) >= limit:
            raise _Refused("context_length_exceeded", 400,
                           f"The prompt is {len(tokens)} tokens; this model's context holds {limit} "
                           "(prompt and completion together).",
                           {"limit": limit, "prompt_tokens": len(tokens), "max_tokens": request["max_tokens"]})
        grammar = self._grammar(request.get("grammar"))
        send({"e": "started", "prompt_tokens": len(tokens)})
        budget = min(int(request["max_tokens"]), limit - len(tokens))
        reason, produced = self._sample(request, tokens, stops, budget, grammar, send)
        send({"e": "finished", "finish_reason": reason, "prompt_tokens": len(tokens), "completion_tokens": produced})

    def _sample(self, request: dict[str, Any], tokens: list[int], stops: list[str], budget: int,
                grammar: Any, send: Send) -> tuple[str, int]:
        import llama_cpp

        seed = request.get("seed")
        self.llm.set_seed(int(seed) if seed is not None else random.SystemRandom().randrange(1, 2**31))
        self.llm.reset()  # no prefix reuse: a seeded request then gives the same text every time
        text, vocab = TextAssembler(stops), self.llm._model.vocab
        completion: list[int] = []
        for token in self.llm.generate(tokens, temp=float(request["temperature"]), top_p=float(request["top_p"]),
                                       grammar=grammar):
            if self._cancelled(request["id"]):
                return "cancelled", len(completion)
            if llama_cpp.llama_token_is_eog(vocab, token):
                _send_rest(text, send)
                return "stop", len(completion)
            completion.append(token)
            piece, stopped = text.feed(self.llm.detokenize([token], prev_tokens=tokens + completion[:-1]))
            if stopped or len(completion) >= budget:
                send({"e": "token", "text": piece + ("" if stopped else text.flush())})
                return ("stop" if stopped else "length"), len(completion)
            send({"e": "token", "text": piece})
        return "length", len(completion)

    def _cancelled(self, request_id: int) -> bool:
        return bool(_FLAG.unpack_from(self.flag, 0)[0] == request_id)

    def _prompt(self, request: dict[str, Any]) -> tuple[list[int], list[str]]:
        """The prompt's tokens (the chat template applied to messages) and every stop sequence."""
        stops = list(request.get("stop") or [])
        if request.get("prompt") is not None:
            return self.llm.tokenize(request["prompt"].encode("utf-8"), add_bos=True, special=False), stops
        try:
            formatted = self._formatter(messages=request["messages"])
        except Exception as exc:  # noqa: BLE001 - a template's raise_exception() or a Jinja error
            raise _Refused("validation_failed", 422, f"The model's chat template refused the messages: {exc}",
                           {"field": "messages"}) from None
        template_stops = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop or ""]
        tokens = self.llm.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special,
                                   special=True)
        return tokens, stops + [stop for stop in template_stops if stop]

    def _grammar(self, gbnf: str | None) -> Any:
        """A grammar llama.cpp parsed; it returns NULL for one it cannot, which must not reach sampling."""
        if not gbnf:
            return None
        import llama_cpp
        from llama_cpp.llama_grammar import LlamaGrammar

        parsed = llama_cpp.llama_sampler_init_grammar(self.llm._model.vocab, gbnf.encode("utf-8"), b"root")
        if not parsed:
            raise _Refused("grammar_invalid", 400, "llama.cpp cannot parse the grammar (GBNF with a `root` rule)",
                           {"field": "grammar"})
        llama_cpp.llama_sampler_free(parsed)
        return LlamaGrammar.from_string(gbnf, verbose=False)


def _chat_formatter(llm: Any) -> Callable[..., Any]:
    """The GGUF's own chat template, as llama-cpp-python applies it (its fallback without one)."""
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return llama_chat_format.format_llama2
    eos, bos = llm.token_eos(), llm.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template, eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llm._model.token_get_text(bos) if bos != -1 else "", stop_token_ids=[eos])


def _send_rest(text: TextAssembler, send: Send) -> None:
    rest = text.flush()
    if rest:
        send({"e": "token", "text": rest})


def _tagger(send: Send, request_id: int) -> Send:
    return lambda event: send({**event, "id": request_id})


def serve(generator: Generator, send: Send) -> None:
    """Answer requests until stdin closes (the pool closed it, or the parent died)."""
    for line in sys.stdin:
        request = json.loads(line)
        tagged = _tagger(send, request["id"])
        try:
            if request["op"] == "count":
                generator.count(request, tagged)
            else:
                generator.generate(request, tagged)
        except _Refused as refused:
            tagged(refused.event)
        except Exception as exc:  # noqa: BLE001 - a Python-level failure is this request's error, not a crash
            tagged({"e": "error", "code": "generation_failed", "status": 502,
                    "message": f"generation failed: {type(exc).__name__}: {str(exc)[:300]}", "details": {}})


def main() -> None:
    config = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a llama.cpp crash leaves no 100 MB core file
    events = os.fdopen(int(config["event_fd"]), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # whatever llama.cpp prints goes to stderr, never into the event stream

    def send(event: dict[str, Any]) -> None:
        events.write(json.dumps(event) + "\n")

    flag = mmap.mmap(int(config["flag_fd"]), _FLAG.size)
    try:
        generator = Generator(config, flag)
    except Exception as exc:  # noqa: BLE001 - llama.cpp refuses a file with a ValueError
        send({"e": "load_failed", "message": f"{type(exc).__name__}: {str(exc)[:300]}"})
        sys.exit(3)
    send({"e": "ready", "n_ctx": generator.llm.n_ctx()})
    serve(generator, send)


if __name__ == "__main__":
    main()
