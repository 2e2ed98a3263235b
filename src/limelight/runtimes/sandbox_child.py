"""The validator process: confine itself, then check, load and try one artifact.

Run as ``python -m limelight.runtimes.sandbox_child`` by :mod:`limelight.runtimes.sandbox`, with a
JSON request on stdin. Before it reads the artifact it drops what a hostile file could abuse:
address space, CPU time, core dumps and open files are capped by rlimits, and the network is
unshared (a new, empty network namespace) where the kernel lets it. Then it runs the same code a
serving process would run (``detect_format``, the runtime's ``load``, a few predictions), so a file
that crashes, hangs or exhausts a native library does it here. The verdict goes to the parent on a
private descriptor; stdout is pointed at stderr so a library's chatter cannot forge it.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import resource
import sys
from pathlib import Path
from typing import Any

_CLONE_NEWNET = 0x40000000
_CLONE_NEWUSER = 0x10000000
_OPEN_FILES = 256


def confine(memory_bytes: int, cpu_s: int | None, open_files: int = _OPEN_FILES) -> bool:
    """Apply the rlimits and leave the network; True if the network is gone. ``cpu_s`` None leaves
    CPU time to the caller (a long-lived child that budgets it per task)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    if cpu_s is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))
    return _leave_network()


def _leave_network() -> bool:
    # Still single-threaded here, which a new user namespace requires. Root gets a network
    # namespace directly; an unprivileged user only through a user namespace, where allowed.
    libc = ctypes.CDLL(None, use_errno=True)
    return any(libc.unshare(flags) == 0 for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET))


def check(request: dict[str, Any]) -> dict[str, Any]:
    """Detect the format, load the runtime, predict on sample inputs; the verdict as JSON."""
    from limelight.artifacts.formats import detect_format
    from limelight.runtimes.base import LoadContext, load_runtime

    path = Path(request["path"])
    fmt = detect_format(path, request.get("declared_format"), runtime=request["runtime"])
    cache_dir = Path(request["cache_dir"]) if request.get("cache_dir") else None
    runtime = load_runtime(request["runtime"], path, request.get("params") or {},
                           LoadContext(cache_dir=cache_dir, org=request.get("org")))
    try:
        signature = runtime.signature()
        tried = _try_predictions(runtime, signature)
    finally:
        runtime.close()
    return {"format": fmt.name, "media_type": fmt.media_type, "details": fmt.details,
            "signature": signature, "predictions_tried": tried}


def _samples(signature: dict[str, Any], runtime: Any = None) -> list[Any]:
    """Inputs that walk different branches of a model: zeros, ones, negatives, a spread; or the
    runtime's own ``sample_inputs()`` where plain values make no sense (pictures)."""
    own = getattr(runtime, "sample_inputs", None)
    if callable(own):
        return list(own())
    spec = signature.get("inputs") or []
    if len(spec) != 1:
        return []
    dtype, shape = str(spec[0].get("dtype")), spec[0].get("shape") or []
    if dtype == "object" and isinstance(spec[0].get("example"), dict):  # a runtime's own sample request
        return [spec[0]["example"]]
    if dtype == "string":
        # non-empty: a text classifier rightly refuses empty texts; one long text walks truncation
        return ["a sample sentence to embed", "ok", "a longer sample text " * 400]
    if dtype.startswith(("float", "int")) and len(shape) == 2 and isinstance(shape[1], int) and shape[1] > 0:
        width = shape[1]
        return [[0.0] * width, [1.0] * width, [-1.0] * width, [float(i % 7) - 3.0 for i in range(width)],
                [1e6] * width]
    return []


def _try_predictions(runtime: Any, signature: dict[str, Any]) -> int:
    from limelight.errors import ArtifactInvalid

    samples = [runtime.validate_input(item) for item in _samples(signature, runtime)]
    if not samples:
        return 0
    outputs = runtime.predict_batch(samples)
    if len(outputs) != len(samples):
        raise ArtifactInvalid("the model answers a different number of outputs than inputs",
                                   details={"inputs": len(samples), "outputs": len(outputs)})
    refused = next((o for o in outputs if isinstance(o, Exception)), None)
    if refused is not None:  # a runtime answers an item it could not handle with its error
        raise ArtifactInvalid(f"the model failed on a sample input: {refused}", details={"field": "artifact"})
    if not all(_finite(output) for output in outputs):
        raise ArtifactInvalid("the model's predictions are not finite numbers (NaN or infinity)",
                                   details={"field": "artifact"})
    return len(samples)


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    return True


def _error_verdict(exc: BaseException) -> dict[str, Any]:
    from limelight.errors import LimelightError

    if isinstance(exc, LimelightError):
        return {"error": {"code": exc.code, "status": exc.status, "message": str(exc)[:500],
                          "details": _plain(getattr(exc, "details", {}) or {})}}
    if isinstance(exc, MemoryError):
        return {"error": {"code": "artifact_invalid", "message": "loading it needs more memory than allowed"}}
    return {"error": {"code": "artifact_invalid", "message": f"{type(exc).__name__}: {str(exc)[:300]}"}}


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(details, default=str))


def main() -> None:
    verdict_fd = os.dup(1)
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the verdict
    request = json.loads(sys.stdin.read())
    isolated = confine(int(request["memory_bytes"]), int(request["cpu_s"]))
    try:
        verdict: dict[str, Any] = {"ok": check(request)}
    except BaseException as exc:  # noqa: BLE001 - every failure is a verdict, never a traceback
        verdict = _error_verdict(exc)
    verdict["network_isolated"] = isolated
    with os.fdopen(verdict_fd, "w") as out:
        json.dump(verdict, out, default=str)


if __name__ == "__main__":
    main()
