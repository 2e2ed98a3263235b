"""Validate an artifact in a separate, resource-limited process before any serving process loads it.

Native model libraries (LightGBM, onnxruntime, NumPy, torch, skops' compiled types) abort, hang or
exhaust memory on crafted files, and a native abort cannot be caught: in the API process it ends
every model and request with it. So the first process that parses a user's bytes with such a
library is a throw-away child (``limelight.runtimes.sandbox_child``) with memory and CPU rlimits, a
wall-clock timeout and no network. It runs the real load and a few predictions. A crash, timeout or
error there is a refusal (``422 artifact_invalid``, or the loader's own 4xx), and the verdict, with
the versions of the libraries that passed it, is kept on the version: a serving process loads a
version only under a verdict made with the libraries it has itself (:func:`verdict_is_current`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from limelight.artifacts.formats import identify
from limelight.domains import RUNTIMES
from limelight.errors import ArtifactInvalid, LimelightError, error_class_for_code

__all__ = [
    "ArtifactValidator",
    "SandboxLimits",
    "Verdict",
    "library_versions",
    "parse_reply",
    "run_confined",
    "validate_in_sandbox",
    "verdict_is_current",
]

_STDERR_TAIL_BYTES = 2000
# The distributions whose native code parses a runtime's artifacts: a change of any of them
# invalidates a verdict. Versions are read from package metadata, so the libraries stay unimported.
_LIBRARIES: Mapping[str, tuple[str, ...]] = {name: r.libraries for name, r in RUNTIMES.items()}
_COMMON_LIBRARIES = ("limelight",)


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """What one validation may use (address space, CPU seconds, wall seconds), and how many run at
    once: each is a process with a core's worth of work, so uploads cannot fork without bound."""

    memory_bytes: int = 4 << 30
    cpu_s: int = 120
    timeout_s: float = 180.0
    max_concurrent: int = 2


@dataclass(frozen=True, slots=True)
class Verdict:
    """A passed validation: what the file is, what the runtime reports, and who passed it."""

    format: str
    media_type: str
    details: dict[str, Any]
    signature: dict[str, Any]
    libraries: dict[str, str]
    network_isolated: bool
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    duration_s: float = 0.0

    def record(self, runtime: str) -> dict[str, Any]:
        """The JSON kept on the model version."""
        return {"status": "passed", "runtime": runtime, "libraries": self.libraries,
                "checked_at": self.checked_at, "duration_s": round(self.duration_s, 3),
                "network_isolated": self.network_isolated, "format": self.format}


def library_versions(runtime: str) -> dict[str, str]:
    """The installed versions of the libraries that load ``runtime`` artifacts."""
    return dict(_installed_versions(runtime))


@functools.cache  # a process loads its libraries once: an upgrade shows after a restart, when it counts
def _installed_versions(runtime: str) -> dict[str, str]:
    versions = {}
    for name in (*_COMMON_LIBRARIES, *_LIBRARIES.get(runtime, ())):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def verdict_is_current(record: Mapping[str, Any] | None, runtime: str) -> bool:
    """True if ``record`` is a pass for ``runtime`` made with the libraries installed here."""
    if not record:
        return False
    return record.get("status") == "passed" and record.get("runtime") == runtime \
        and record.get("libraries") == library_versions(runtime)


def validate_in_sandbox(
    path: Path, *, runtime: str, params: Mapping[str, Any], declared_format: str | None = None,
    limits: SandboxLimits = SandboxLimits(), cache_dir: Path | None = None, org: str | None = None,
) -> Verdict:
    """Check ``path`` in a confined child; the verdict, else the refusal as a ``LimelightError``."""
    request = {"path": str(Path(path).resolve()), "runtime": runtime, "params": dict(params),
               "declared_format": declared_format, "cache_dir": str(cache_dir) if cache_dir else None,
               "org": org, "memory_bytes": limits.memory_bytes, "cpu_s": limits.cpu_s}
    started = time.monotonic()
    returncode, out, err_tail = _run_child(request, limits.timeout_s)
    reply = parse_reply(out)
    if reply is None or "error" in reply:
        raise _refusal(reply, returncode, err_tail, limits)
    ok = reply["ok"]
    return Verdict(format=ok["format"], media_type=ok["media_type"], details=ok["details"],
                   signature=ok["signature"], libraries=library_versions(runtime),
                   network_isolated=bool(reply.get("network_isolated")),
                   duration_s=time.monotonic() - started)


def _run_child(request: dict[str, Any], timeout_s: float) -> tuple[int | None, bytes, str]:
    return run_confined("limelight.runtimes.sandbox_child", request, timeout_s)


def run_confined(module: str, request: dict[str, Any], timeout_s: float) -> tuple[int | None, bytes, str]:
    """Runs ``python -m module`` in its own session with ``request`` as JSON on stdin, no proxy
    settings and one thread per native library; (exit status or None on timeout, its stdout, the
    tail of its stderr). The module applies its own rlimits before it reads any user bytes."""
    if not module.startswith("limelight."):
        raise ValueError(f"only limelight's own modules run confined, not {module!r}")
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_PROXY", "_proxy"))}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(  # noqa: S603 - one of limelight's own modules, checked above
            [sys.executable, "-m", module], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=stderr, env=env, start_new_session=True, close_fds=True)
        try:
            out, _ = process.communicate(json.dumps(request).encode(), timeout=timeout_s)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            _kill_group(process)
            out, code = b"", None
        stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - _STDERR_TAIL_BYTES))
        return code, out, stderr.read().decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def parse_reply(out: bytes) -> dict[str, Any] | None:
    """A confined child's ``{"ok": ...}`` or ``{"error": ...}`` answer, or None for anything else."""
    try:
        reply = json.loads(out)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) and ("ok" in reply or "error" in reply) else None


def _refusal(reply: dict[str, Any] | None, returncode: int | None, err_tail: str,
             limits: SandboxLimits) -> LimelightError:
    if reply is not None:  # the child caught it and said what failed
        error = reply["error"]
        cls = error_class_for_code(str(error.get("code")), int(error.get("status", ArtifactInvalid.status)))
        if cls.status >= 500:
            cls = ArtifactInvalid
        return cls(str(error.get("message")), details=dict(error.get("details") or {}) | {"validator": "sandbox"})
    return ArtifactInvalid(_failure_text(returncode, limits),
                           details={"validator": "sandbox", "exit": _exit_name(returncode),
                                    "stderr_tail": err_tail[-500:].strip()})


def _failure_text(returncode: int | None, limits: SandboxLimits) -> str:
    if returncode is None:
        return f"Validating the artifact did not finish in {limits.timeout_s:g} s; it is refused."
    if returncode == -signal.SIGXCPU:
        return f"Validating the artifact used more than {limits.cpu_s} s of CPU; it is refused."
    if returncode < 0:
        return f"Loading the artifact crashed its library ({_exit_name(returncode)}); it is refused."
    return f"Validating the artifact failed (exit status {returncode}); it is refused."


def _exit_name(returncode: int | None) -> str:
    if returncode is None:
        return "timeout"
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"status {returncode}"


class ArtifactValidator:
    """:func:`validate_in_sandbox` with a memory of verdicts by content, runtime and params.

    The same bytes loaded the same way need one validation per process and library set: a hundred
    uploads of one file, or every API process loading one version, start one child each at most.
    Concurrent requests for one key wait for the first instead of starting children of their own.
    """

    def __init__(self, limits: SandboxLimits, *, max_remembered: int = 4096) -> None:
        self.limits = limits
        self._max_remembered = max_remembered
        self._verdicts: OrderedDict[str, Verdict] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._slots = threading.BoundedSemaphore(limits.max_concurrent)

    def validate(self, path: Path, *, runtime: str, params: Mapping[str, Any], sha256: str | None = None,
                 declared_format: str | None = None, cache_dir: Path | None = None,
                 org: str | None = None) -> Verdict:
        """The verdict on ``path`` (a remembered one if the same content passed before)."""
        if not Path(path).is_dir():
            identify(path, declared_format, runtime=runtime)  # a pickle or an archive needs no validator to be refused
        key = _verdict_key(sha256 or _file_sha256(path), runtime, params, declared_format)
        try:
            with self._key_lock(key):
                remembered = self._remembered(key, runtime)
                if remembered is not None:
                    return remembered
                with self._slots:
                    verdict = validate_in_sandbox(path, runtime=runtime, params=params,
                                                  declared_format=declared_format, limits=self.limits,
                                                  cache_dir=cache_dir, org=org)
                self._remember(key, verdict)
                return verdict
        finally:
            with self._guard:
                if key not in self._verdicts:  # refused: nothing to share, nothing to keep
                    self._locks.pop(key, None)

    def _key_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _remembered(self, key: str, runtime: str) -> Verdict | None:
        with self._guard:
            verdict = self._verdicts.get(key)
            if verdict is None or verdict.libraries != library_versions(runtime):
                return None
            self._verdicts.move_to_end(key)
            return verdict

    def _remember(self, key: str, verdict: Verdict) -> None:
        with self._guard:
            self._verdicts[key] = verdict
            while len(self._verdicts) > self._max_remembered:
                oldest, _ = self._verdicts.popitem(last=False)
                self._locks.pop(oldest, None)


def _verdict_key(sha256: str, runtime: str, params: Mapping[str, Any], declared_format: str | None) -> str:
    return json.dumps([sha256, runtime, dict(params), declared_format], sort_keys=True, default=str)


def _file_sha256(path: Path) -> str:
    if Path(path).is_dir():
        return f"dir:{Path(path).resolve()}"
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
