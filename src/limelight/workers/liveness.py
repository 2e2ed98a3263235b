"""Worker liveness files: each worker touches one per poll; readiness checks their age."""

from __future__ import annotations

import os
import time
from pathlib import Path

from limelight.private_paths import make_private_dirs


def beat_dir(home: Path) -> Path:
    return make_private_dirs(home / "run")


def beat(home: Path) -> None:
    path = beat_dir(home) / f"worker-{os.getpid()}.beat"
    path.touch()


def forget(home: Path) -> None:
    (beat_dir(home) / f"worker-{os.getpid()}.beat").unlink(missing_ok=True)


def any_alive(home: Path, max_age_s: float) -> bool:
    now = time.time()
    return any(now - p.stat().st_mtime <= max_age_s for p in beat_dir(home).glob("worker-*.beat"))
