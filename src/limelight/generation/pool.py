"""Run a GGUF model in child processes, so a crash inside llama.cpp never ends the API process.

``concurrency`` children each load the model once and run one generation at a time; one
dispatcher thread per child feeds it from a bounded queue. What can go wrong stays with one request:

* queue full -> ``Overloaded`` (503 + Retry-After) from :meth:`GenerationPool.submit`, at once;
* past its timeout -> ``DeadlineExceeded`` (504); the child is told to stop (killed if it does not);
* the child dies (native crash, OOM kill) -> ``GenerationFailed`` (502) for the request it ran,
  and a new child is started; queued requests wait for it and are not failed.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from limelight.errors import (
    ArtifactInvalid,
    DeadlineExceeded,
    GenerationFailed,
    LimelightError,
    ModelUnavailable,
    Overloaded,
    error_class_for_code,
)
from limelight.generation.child_process import ChildDied, ChildProcess
from limelight.generation.gguf_file import GGUFInfo, read_gguf_info
from limelight.generation.requests import Finished, GenerationRequest, Started, Token
from limelight.generation.stream import GenerationStream

__all__ = ["GenerationPool", "GenerationStream"]

log = logging.getLogger(__name__)

_LOAD_TIMEOUT_S = 120.0
_STOP_GRACE_S = 5.0  # a child told to stop answers within a token; past this it is stuck and killed


class _Slot:
    """One child and the stream it is running (so ``cancel`` finds the right child)."""

    def __init__(self, child: ChildProcess | None) -> None:
        self.child = child
        self.running: GenerationStream | None = None


class GenerationPool:
    """Child processes running one GGUF model; see the module docstring for what fails how."""

    def __init__(self, model_path: Path, *, n_ctx: int, n_threads: int, concurrency: int,
                 max_queue: int, default_timeout_s: float) -> None:
        self.info: GGUFInfo = read_gguf_info(model_path)
        self.n_ctx = min(n_ctx, self.info.context_length)
        self.max_queue = max_queue
        self.default_timeout_s = default_timeout_s
        self._config = {"model_path": str(model_path), "n_ctx": self.n_ctx, "n_threads": n_threads}
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._pending: deque[GenerationStream] = deque()
        self._idle = 0
        self._closed = False
        self._ids = itertools.count(1)
        self._slots = [_Slot(child) for child in self._start_children(concurrency)]
        self._counter: _Slot | None = None  # a vocabulary-only child for count_tokens, started on demand
        self._counter_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._dispatch, args=(slot,), daemon=True,
                                          name=f"generation-{i}") for i, slot in enumerate(self._slots)]
        for thread in self._threads:
            thread.start()

    # -- public ---------------------------------------------------------------------------------
    def submit(self, request: GenerationRequest) -> GenerationStream:
        """Queue ``request``; ``Overloaded`` at once when the queue is full."""
        timeout_s = request.timeout_s or self.default_timeout_s
        stream = GenerationStream(request, next(self._ids), timeout_s, self._cancel)
        with self._lock:
            if self._closed:
                raise ModelUnavailable("This model is being unloaded; retry the request.")
            if len(self._pending) >= self.max_queue + self._idle:
                raise Overloaded("Every generation slot is busy and the queue is full; retry shortly.",
                                 retry_after_s=1.0, details={"max_queue": self.max_queue})
            self._pending.append(stream)
            self._work.notify()
        return stream

    def count_tokens(self, text: str) -> int:
        """The number of model tokens of ``text`` alone (no template, no begin-of-text token)."""
        return self.count_tokens_many([text])[0]

    def count_tokens_many(self, texts: list[str]) -> list[int]:
        """:meth:`count_tokens` for several texts in one round trip."""
        with self._counter_lock:
            if self._closed:
                raise ModelUnavailable("This model is being unloaded; retry the request.")
            for attempt in range(2):
                if self._counter is None:
                    self._counter = _Slot(self._start_children(1, vocab_only=True)[0])
                try:
                    return self._count_once(self._counter, texts)
                except ChildDied as exc:
                    self._discard(self._counter)
                    self._counter = None
                    if attempt:
                        raise GenerationFailed(f"counting tokens failed: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def child_pids(self) -> list[int]:
        """The process ids of the generating children (for operators and tests)."""
        return [slot.child.pid for slot in self._slots if slot.child is not None]

    def close(self) -> None:
        """Fail what waits or runs, kill the children, end the dispatcher threads."""
        with self._lock:
            self._closed = True
            waiting, self._pending = list(self._pending), deque()
            self._work.notify_all()
        for stream in waiting:
            stream.fail(ModelUnavailable("The model was unloaded before this request ran; retry it."))
        slots = [*self._slots, *([self._counter] if self._counter else [])]
        for slot in slots:
            if slot.running is not None:
                slot.running.fail(ModelUnavailable("The model was unloaded while generating; retry it."))
            if slot.child is not None:
                slot.child.kill()  # its dispatcher sees the end of its events and stops
        for thread in self._threads:
            thread.join(timeout=10)
        for slot in slots:
            self._discard(slot)

    # -- children -------------------------------------------------------------------------------
    def _start_children(self, count: int, *, vocab_only: bool = False) -> list[ChildProcess]:
        """Start ``count`` children at once and wait until each has loaded the model."""
        children = [ChildProcess({**self._config, "vocab_only": vocab_only}) for _ in range(count)]
        try:
            for child in children:
                child.wait_ready(_LOAD_TIMEOUT_S)
        except ChildDied as exc:
            for child in children:
                child.kill()
                child.release()
            raise ArtifactInvalid(f"llama.cpp could not load the model: {exc}",
                                  details={"field": "artifact", "format": "gguf"}) from None
        return children

    def _discard(self, slot: _Slot) -> None:
        child, slot.child = slot.child, None
        if child is not None:
            child.kill()
            child.release()

    def _restart(self, slot: _Slot) -> bool:
        self._discard(slot)
        if self._closed:
            return False
        try:
            slot.child = self._start_children(1)[0]
            return True
        except LimelightError as exc:
            log.warning("could not restart a generating process of %s: %s", self.info.name, exc)
            return False

    def _count_once(self, slot: _Slot, texts: list[str]) -> list[int]:
        assert slot.child is not None
        slot.child.send({"op": "count", "id": next(self._ids), "texts": texts})
        event = slot.child.read_event(time.monotonic() + _LOAD_TIMEOUT_S)
        if event is None or event.get("e") != "counts":
            raise ChildDied(f"unexpected answer {event!r}")
        return [int(n) for n in event["counts"]]

    # -- dispatching ----------------------------------------------------------------------------
    def _next(self) -> GenerationStream | None:
        with self._lock:
            self._idle += 1
            try:
                while not self._pending and not self._closed:
                    self._work.wait()
                return None if self._closed else self._pending.popleft()
            finally:
                self._idle -= 1

    def _dispatch(self, slot: _Slot) -> None:
        while (stream := self._next()) is not None:
            if stream.closed:
                continue
            if time.monotonic() >= stream.deadline:
                stream.fail(DeadlineExceeded(f"The request waited {stream.timeout_s:g} s for a free "
                                             "generation slot.", details={"timeout_s": stream.timeout_s}))
                continue
            idle_death = slot.child is not None and slot.child.process.poll() is not None  # e.g. the OOM killer
            if (slot.child is None or idle_death) and not self._restart(slot):
                stream.fail(GenerationFailed("The generating process could not be restarted."))
                continue
            slot.running = stream
            try:
                self._run(slot, stream)
            except Exception as exc:  # noqa: BLE001 - the child died or spoke garbage: this thread must live on
                if not self._closed:
                    log.warning("a generating process of %s failed: %s", self.info.name, exc)
                stream.fail(GenerationFailed(f"The generating process stopped unexpectedly ({exc}); "
                                             "retry the request.", details={"reason": str(exc)}))
                slot.running = None
                self._restart(slot)
            finally:
                slot.running = None

    def _run(self, slot: _Slot, stream: GenerationStream) -> None:
        child = slot.child
        assert child is not None
        child.send({"op": "generate", "id": stream.id, **stream.request.wire()})
        if stream.cancel_requested:
            child.cancel(stream.id)
        stop_by: float | None = None
        while True:
            event = child.read_event(stop_by if stop_by is not None else stream.deadline)
            if event is None and stop_by is not None:  # told to stop and still running: stuck
                raise ChildDied(f"it did not stop within {_STOP_GRACE_S:g} s of its timeout")
            if event is None:
                child.cancel(stream.id)
                stream.fail(DeadlineExceeded(f"The generation did not finish within {stream.timeout_s:g} s.",
                                             details={"timeout_s": stream.timeout_s}))
                stop_by = time.monotonic() + _STOP_GRACE_S
                continue
            if self._deliver(stream, event):
                return

    def _deliver(self, stream: GenerationStream, event: dict[str, Any]) -> bool:
        """Pass one child event to the stream; True when the request is over."""
        if event.get("id") != stream.id:
            raise ValueError(f"an event of request {event.get('id')!r} while running {stream.id}")
        kind = event.get("e")
        if kind == "token":
            stream.push(Token(str(event["text"])))
        elif kind == "started":
            stream.push(Started(int(event["prompt_tokens"])))
        elif kind == "finished":
            stream.push(Finished(str(event["finish_reason"]), int(event["prompt_tokens"]),
                                 int(event["completion_tokens"])))
            return True
        elif kind == "error":
            cls = error_class_for_code(str(event.get("code")), int(event.get("status", 500)))
            stream.fail(cls(str(event.get("message")), details=dict(event.get("details") or {})))
            return True
        return False

    def _cancel(self, stream: GenerationStream) -> None:
        """A caller's cancel: drop it from the queue, or flag its child to stop."""
        with self._lock:
            if stream in self._pending:
                self._pending.remove(stream)
                queued = True
            else:
                queued = False
        if queued:
            stream.push(Finished("cancelled", 0, 0))
            return
        for slot in self._slots:
            child = slot.child
            if slot.running is stream and child is not None:
                with contextlib.suppress(ValueError):  # the child was just replaced: nothing left to stop
                    child.cancel(stream.id)
