"""Whether any job worker is alive: each worker touches a file of its own per poll (``beat``), and
readiness, the collector and ``limelight gc`` judge workers by those files' age."""

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


def readiness_window_s(heartbeat_s: float) -> float:
    """How old a beat may be while its worker still counts as alive."""
    return 3 * heartbeat_s + 5


def any_alive(home: Path, max_age_s: float) -> bool:
    now = time.time()
    return any(now - p.stat().st_mtime <= max_age_s for p in beat_dir(home).glob("worker-*.beat"))


def stale_beats(home: Path, *, older_than_s: float) -> list[Path]:
    """Beat files no live worker will touch again: their process is gone (killed workers never
    ``forget``), or they went untouched for longer than ``older_than_s``. A live worker whose file
    is taken just writes it again at its next poll.

    Beat files name a pid of this machine: the home directory is local to one host.
    """
    directory = home / "run"
    if not directory.is_dir():
        return []
    now, stale = time.time(), []
    for path in sorted(directory.glob("worker-*.beat")):
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue  # its worker stopped and forgot it meanwhile
        pid = path.name.removeprefix("worker-").removesuffix(".beat")
        if age > older_than_s or not (pid.isdigit() and _running(int(pid))):
            stale.append(path)
    return stale


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that can still run (a zombie, killed but not reaped, cannot)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc here: the signal check has to do
    return state not in ("Z", "X")
