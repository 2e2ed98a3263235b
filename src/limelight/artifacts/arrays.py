"""Model artifacts stored as one ``.npz``: numbers and unicode arrays only, written atomically, read
without pickle. The task domains' own formats (``limelight.recsys/1``, ``limelight.text/1``,
``limelight.search/1``) are layouts on top of these two functions.

Artifact bytes are untrusted: ``read_npz`` decides from the first bytes before numpy sees them
(``np.load`` treats anything that is neither zip nor ``.npy`` as a pickle), loads with
``allow_pickle=False``, and turns every way a file can be wrong into ``UnsafeArtifactFormat`` (415:
pickles) or ``ValidationFailed`` (422: anything else), each naming ``what`` the file was meant to be.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np

from limelight.errors import InvalidParams, UnsafeArtifactFormat, ValidationFailed

_ZIP_MAGIC = b"PK\x03\x04"
_DETAILS = {"field": "artifact"}


def write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` through a temporary file and a rename; object arrays are refused."""
    for key, value in arrays.items():
        if np.asarray(value).dtype.kind == "O":
            raise InvalidParams(f"refusing to save object array {key!r}: it would need pickle")
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_npz(source: str | os.PathLike[str] | IO[bytes], what: str) -> dict[str, np.ndarray]:
    """Every member of the ``.npz`` at ``source`` (a path or a binary file object), never unpickled."""
    head = _head(source)
    if head[:1] == b"\x80":
        raise UnsafeArtifactFormat(f"{what} is a pickle, refused", details=_DETAILS)
    if head != _ZIP_MAGIC:
        raise ValidationFailed(f"not a {what}: expected an .npz (zip) archive", details=_DETAILS)
    try:
        loaded = np.load(source, allow_pickle=False)
    except ValueError as exc:  # numpy's refusal to unpickle
        raise UnsafeArtifactFormat(f"{what} needs pickle, refused: {exc}", details=_DETAILS) from None
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise ValidationFailed(f"not a {what} (.npz): {exc}", details=_DETAILS) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValidationFailed(f"not a {what}: expected an .npz archive", details=_DETAILS)
    with loaded:
        try:
            return {key: loaded[key] for key in loaded.files}
        except ValueError as exc:  # an object array inside the archive
            raise UnsafeArtifactFormat(f"{what} holds a pickled array, refused: {exc}", details=_DETAILS) from None
        except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
            raise ValidationFailed(f"corrupt {what}: {exc}", details=_DETAILS) from None


def _head(source: str | os.PathLike[str] | IO[bytes], size: int = 4) -> bytes:
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as f:
            return f.read(size)
    start = source.tell()
    head = source.read(size)
    source.seek(start)
    return head
