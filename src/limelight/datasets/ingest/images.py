"""The ``images`` kind: an uploaded archive of labelled pictures, read in a confined child process.

The API process never parses a picture (Pillow's codecs are native code): it hands the staged
archive to ``python -m limelight.datasets.ingest.image_child`` with memory and CPU limits and a
wall-clock timeout, and reads back the child's answer. The child writes the normalised Parquet
(``image_archive.write_parquet``: ``image_id, label, labels, split, image, format, width, height,
sha256``); a refusal, a crash or a timeout there leaves nothing behind and answers 4xx.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from limelight.datasets.ingest.archive import ArchiveLimits
from limelight.datasets.ingest.options import ColumnInfo, IngestResult
from limelight.errors import DatasetInvalid, LimelightError, error_class_for_code
from limelight.imaging.decode import ImageLimits
from limelight.runtimes.sandbox import parse_reply, run_confined

CHILD = "limelight.datasets.ingest.image_child"
COLUMNS = [("image_id", "string"), ("label", "string"), ("labels", "list<item: string>"), ("split", "string"),
           ("image", "binary"), ("format", "string"), ("width", "int32"), ("height", "int32"),
           ("sha256", "string")]


@dataclass(frozen=True)
class ImageArchiveOptions:
    archive: ArchiveLimits = field(default_factory=lambda: ArchiveLimits(max_files=100_000, max_ratio=50.0))
    image: ImageLimits = field(default_factory=ImageLimits)
    skip_invalid: bool = False  # keep the valid images when some are not; else refuse the upload
    memory_bytes: int = 4 << 30
    cpu_s: int = 600
    timeout_s: float = 900.0


def ingest_images(archive: Path, *, filename: str | None, dest: Path, options: ImageArchiveOptions) -> IngestResult:
    request = {"archive": str(Path(archive).resolve()), "filename": filename, "dest": str(Path(dest).resolve()),
               "archive_limits": asdict(options.archive), "image_limits": asdict(options.image),
               "skip_invalid": options.skip_invalid, "memory_bytes": options.memory_bytes, "cpu_s": options.cpu_s}
    code, out, err_tail = run_confined(CHILD, request, options.timeout_s)
    reply = parse_reply(out)
    if reply is None or "error" in reply:
        Path(dest).unlink(missing_ok=True)
        raise _refusal(reply, code, err_tail)
    ok = reply["ok"]
    return IngestResult(rows=int(ok["rows"]), columns=[ColumnInfo(n, t, None, False) for n, t in COLUMNS],
                        profile=ok["profile"], format=str(ok["format"]), warnings=list(ok.get("warnings") or []))


def _refusal(reply: dict[str, Any] | None, code: int | None, err_tail: str) -> LimelightError:
    if reply is not None:
        error = reply["error"]
        cls = error_class_for_code(str(error.get("code")), int(error.get("status", DatasetInvalid.status)))
        if cls.status >= 500:
            cls = DatasetInvalid
        return cls(str(error.get("message")), details=dict(error.get("details") or {}))
    if code is None:
        how = "did not finish in time"
    elif code < 0:
        how = f"crashed ({signal.Signals(-code).name if -code in signal.valid_signals() else code})"
    else:
        how = f"failed (exit status {code})"
    return DatasetInvalid(f"Reading the image archive {how}; nothing was stored.",
                          details={"reason": "reader_failed", "stderr_tail": err_tail[-300:].strip()})
