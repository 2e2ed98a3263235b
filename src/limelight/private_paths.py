"""Folders and files only the server's own user may read: 0o700 and 0o600 whatever the umask.

The metadata database, artifacts, secrets and run files sit under one home folder; with the usual
umask 022 anything created there would be world-readable. Modes are set when a path is created
(and chmod'ed right after, since ``mkdir``/``open`` modes are masked by the umask); an existing
folder or file keeps the mode its operator gave it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "create_private_file", "make_private_dirs"]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dirs(path: Path) -> Path:
    """``mkdir -p`` where every folder created gets 0o700 (``parents=True`` would use the umask)."""
    missing, ancestor = [], Path(path)
    while not ancestor.exists():
        missing.append(ancestor)
        ancestor = ancestor.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # another process made it first; it made it the same way
            continue
        os.chmod(directory, PRIVATE_DIR_MODE)
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty 0o600 file (and its private parents) unless it exists; True if created."""
    make_private_dirs(Path(path).parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return True
