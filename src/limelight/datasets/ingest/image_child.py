"""The confined process that reads an uploaded image archive (``python -m`` this module).

It caps its own address space and CPU time and leaves the network before it opens the archive,
then decodes every picture (``image_archive``), writes the normalised Parquet where the parent
said, and answers on a private descriptor: ``{"ok": {...}}`` or ``{"error": {code, status, ...}}``.
A crash, an exhausted limit or a hang ends only this process; the parent refuses the upload.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from limelight.runtimes.sandbox_child import confine


def run(request: dict[str, Any]) -> dict[str, Any]:
    from limelight.datasets.ingest.archive import ArchiveLimits
    from limelight.datasets.ingest.image_archive import profile, read_image_archive, write_parquet
    from limelight.imaging.decode import ImageLimits

    with open(request["archive"], "rb") as file:
        result = read_image_archive(file, request.get("filename"), ArchiveLimits(**request["archive_limits"]),
                                    ImageLimits(**request["image_limits"]), bool(request.get("skip_invalid")),
                                    request.get("labels_csv"))
    write_parquet(result, Path(request["dest"]))
    warnings = [f"{len(result.files)} file(s) refused, skipped or duplicated; see profile.files."] if result.files else []
    return {"rows": len(result.rows), "profile": profile(result), "format": result.format, "warnings": warnings}


def _error(exc: BaseException) -> dict[str, Any]:
    from limelight.errors import LimelightError

    if isinstance(exc, LimelightError):
        details = json.loads(json.dumps(getattr(exc, "details", {}) or {}, default=str))
        return {"error": {"code": exc.code, "status": exc.status, "message": str(exc)[:500], "details": details}}
    if isinstance(exc, MemoryError):
        return {"error": {"code": "dataset_invalid", "status": 422,
                          "message": "Reading the archive needs more memory than allowed."}}
    return {"error": {"code": "dataset_invalid", "status": 422,
                      "message": f"The archive cannot be read: {type(exc).__name__}: {str(exc)[:300]}"}}


def main() -> None:
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # whatever a codec prints goes to stderr, not into the reply
    request = json.loads(sys.stdin.read())
    confine(int(request["memory_bytes"]), int(request["cpu_s"]))
    try:
        reply: dict[str, Any] = {"ok": run(request)}
    except BaseException as exc:  # noqa: BLE001 - every failure is an answer, never a traceback
        reply = _error(exc)
    with os.fdopen(reply_fd, "w") as out:
        json.dump(reply, out, default=str)


if __name__ == "__main__":
    main()
