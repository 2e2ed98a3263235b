"""The parent's handle on one generating process (:mod:`limelight.generation.child`).

Requests go down the child's stdin; events come back on a pipe of their own; the cancel flag is
8 bytes of shared memory (a memfd both map), so a cancel reaches the child without a message and
without waiting for its loop to read one. The child runs in its own session, so a signal meant for
the API's process group does not reach it, and it exits when its stdin closes. It inherits no
secret: llama.cpp parses prompts and grammars from API callers, so the environment it gets has no
``LIMELIGHT_*`` settings (database URL, secret key) and nothing named like a credential.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["ChildDied", "ChildProcess", "child_environment"]

_FLAG = struct.Struct("<q")
_STDERR_TAIL_BYTES = 1500
_SECRET_MARKERS = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "KEY", "_PROXY", "DATABASE_URL")


class ChildDied(Exception):
    """The process ended (crash, kill, or exit); ``str()`` says how, with its last stderr lines."""


class ChildProcess:
    """One started child; :meth:`wait_ready` before sending it work."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._flag_fd = os.memfd_create("limelight-generation-cancel")
        os.ftruncate(self._flag_fd, _FLAG.size)
        self._flag = mmap.mmap(self._flag_fd, _FLAG.size)
        read_fd, write_fd = os.pipe()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed in release()
        body = json.dumps({**config, "event_fd": write_fd, "flag_fd": self._flag_fd})
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, arguments are JSON we built
                [sys.executable, "-m", "limelight.generation.child", body], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=self._stderr, pass_fds=(write_fd, self._flag_fd),
                close_fds=True, start_new_session=True, env=child_environment(os.environ))
        finally:
            os.close(write_fd)
        self._events_fd = read_fd
        self._buffer = b""
        self._released = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout_s: float) -> dict[str, Any]:
        """The child's ``ready`` event; ``ChildDied`` if it failed to load or died first."""
        event = self.read_event(time.monotonic() + timeout_s)
        if event is None:
            self.kill()
            raise ChildDied(f"the model did not load within {timeout_s:g} s")
        if event.get("e") != "ready":
            self.kill()
            raise ChildDied(str(event.get("message") or event))
        return event

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise ChildDied(self.describe_exit()) from None

    def cancel(self, request_id: int) -> None:
        """Ask the child to stop ``request_id`` after its current token (a no-op for any other)."""
        _FLAG.pack_into(self._flag, 0, request_id)

    def read_event(self, deadline: float) -> dict[str, Any] | None:
        """The next event, ``None`` at ``deadline`` (monotonic), ``ChildDied`` at end of stream."""
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([self._events_fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(self._events_fd, 1 << 16)
            if not chunk:
                raise ChildDied(self.describe_exit())
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        event: dict[str, Any] = json.loads(line)
        return event

    def describe_exit(self) -> str:
        """How the process ended (``killed by SIGSEGV``), with the tail of what it printed."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        how = f"killed by {_signal_name(-code)}" if code is not None and code < 0 else f"exit status {code}"
        tail = self._stderr_tail()
        return how + (f"; it printed: {tail}" if tail else "")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def close(self, grace_s: float = 2.0) -> None:
        """Close stdin (the child exits after its current request), then kill what is left."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
        self.release()

    def release(self) -> None:
        """Free the descriptors and the shared flag (after the process is gone); once only, since a
        closed descriptor number is soon reused by something else."""
        if self._released:
            return
        self._released = True
        for close in (self._flag.close, lambda: os.close(self._flag_fd), lambda: os.close(self._events_fd),
                      self._stderr.close):
            with contextlib.suppress(OSError, ValueError, BufferError):
                close()

    def _stderr_tail(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            end = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, end - _STDERR_TAIL_BYTES))
            return self._stderr.read().decode("utf-8", "replace").strip()[-500:]
        return ""


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without limelight's settings and without anything that looks like a credential."""
    return {name: value for name, value in environ.items()
            if not name.upper().startswith("LIMELIGHT_") and not any(m in name.upper() for m in _SECRET_MARKERS)}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
