"""The files of an uploaded zip or tar archive, read without trusting it.

Nothing is ever extracted to disk: members are read into memory one at a time, so a path cannot
land anywhere; still, an entry whose path is absolute or climbs out of the archive (``../``) marks
the archive as hostile and refuses it whole (``ArchiveUnsafe``, 422). Symbolic and hard links,
devices, encrypted entries and platform litter (``__MACOSX/``, dot files) are skipped and reported.
Limits are checked from the archive's directory before anything is decompressed, and again while
reading (a zip's declared sizes can lie): the number of entries, the total unpacked bytes and each
member's compression ratio (a zip bomb packs gigabytes into kilobytes) (``ArchiveTooLarge``, 413).
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from limelight.errors import ArchiveTooLarge, ArchiveUnsafe

ZIP, TAR = "zip", "tar"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int = 10_000
    max_total_bytes: int = 1 << 30
    max_ratio: float = 200.0  # unpacked / packed size of one member; text rarely passes 10
    ratio_floor_bytes: int = 1 << 20  # members smaller than this unpacked are never ratio-checked


@dataclass(frozen=True)
class Member:
    path: str  # normalised, relative, "/"-separated
    data: bytes


def archive_kind(head: bytes, filename: str | None) -> str | None:
    if head.startswith(ZIP_MAGICS):
        return ZIP
    name = (filename or "").lower()
    if len(head) > 262 and head[257:262] == b"ustar":
        return TAR
    if head.startswith(GZIP_MAGIC) and name.endswith(TAR_SUFFIXES):
        return TAR
    return None


def read_members(file: BinaryIO, kind: str, limits: ArchiveLimits, skipped: list[dict[str, str]]) -> Iterator[Member]:
    """Every regular file of the archive; what is skipped is appended to ``skipped``."""
    archive_bytes = file.seek(0, 2)
    file.seek(0)
    if kind == ZIP:
        yield from _zip_members(file, _Budget(limits, archive_bytes), skipped)
    else:
        yield from _tar_members(file, _Budget(limits, archive_bytes), skipped)


def safe_path(name: str) -> str:
    """``name`` as a relative POSIX path; ``ArchiveUnsafe`` when absolute or escaping."""
    cleaned = name.replace("\\", "/")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if cleaned.startswith("/") or (len(cleaned) > 1 and cleaned[1] == ":"):
        raise ArchiveUnsafe(f"The archive holds an absolute path: {name!r}.",
                            details={"path": name, "reason": "absolute path"})
    if ".." in parts:
        raise ArchiveUnsafe(f"The archive holds a path that leaves it: {name!r}.",
                            details={"path": name, "reason": "path escapes the archive"})
    return "/".join(parts)


def _litter(path: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(path).parts)


class _Budget:
    def __init__(self, limits: ArchiveLimits, archive_bytes: int) -> None:
        self.limits = limits
        self.archive_bytes = archive_bytes  # packed size of the whole archive: the ratio of a .tar.gz
        self.files = 0
        self.total_bytes = 0

    def count(self, path: str) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise ArchiveTooLarge(f"The archive holds more than {self.limits.max_files} entries.",
                                  details={"reason": "too many files", "max_files": self.limits.max_files})

    def take(self, path: str, size: int, packed: int | None) -> None:
        self.total_bytes += size
        if self.total_bytes > self.limits.max_total_bytes:
            raise ArchiveTooLarge(f"The archive unpacks to more than {self.limits.max_total_bytes} bytes.",
                                  details={"reason": "too large unpacked", "path": path,
                                           "max_total_bytes": self.limits.max_total_bytes})
        for unpacked, packed_bytes in ((size, packed), (self.total_bytes, self.archive_bytes)):
            if packed_bytes is not None and unpacked > self.limits.ratio_floor_bytes \
                    and unpacked > packed_bytes * self.limits.max_ratio:
                raise ArchiveTooLarge(f"{path!r} is compressed {unpacked // max(packed_bytes, 1)} to 1, as only "
                                      "a zip bomb is.", details={"reason": "compression ratio", "path": path,
                                                                 "max_ratio": self.limits.max_ratio})


def _zip_members(file: BinaryIO, budget: _Budget, skipped: list[dict[str, str]]) -> Iterator[Member]:
    with zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        for info in infos:  # the directory first: refuse before decompressing anything
            budget.count(info.filename)
            path = safe_path(info.filename)
            if not info.is_dir():
                budget.take(path, info.file_size, info.compress_size)
        for info in infos:
            path = safe_path(info.filename)
            if info.is_dir():
                continue
            reason = _zip_skip_reason(info, path)
            if reason:
                skipped.append({"path": path, "status": "skipped", "reason": reason})
                continue
            with archive.open(info) as member:
                data = member.read(info.file_size + 1)
            if len(data) > info.file_size:  # the directory under-declared it: a bomb in disguise
                raise ArchiveTooLarge(f"{path!r} unpacks to more than its declared size.",
                                      details={"reason": "size mismatch", "path": path})
            yield Member(path, data)


def _zip_skip_reason(info: zipfile.ZipInfo, path: str) -> str | None:
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    if info.flag_bits & 0x1:
        return "encrypted"
    if _litter(path):
        return "hidden or system file"
    return None


def _tar_members(file: BinaryIO, budget: _Budget, skipped: list[dict[str, str]]) -> Iterator[Member]:
    try:
        archive = tarfile.open(fileobj=file, mode="r:*")  # noqa: SIM115 - closed by the with below
    except tarfile.TarError as exc:
        raise ArchiveUnsafe(f"The tar archive cannot be read: {exc}.", details={"reason": "unreadable"}) from None
    with archive:
        for info in archive:
            budget.count(info.name)
            path = safe_path(info.name)
            if info.isdir():
                continue
            if not info.isfile():
                kind = "symbolic link" if info.issym() else "hard link" if info.islnk() else "not a regular file"
                skipped.append({"path": path, "status": "skipped", "reason": kind})
                continue
            budget.take(path, info.size, None)
            if _litter(path):
                skipped.append({"path": path, "status": "skipped", "reason": "hidden or system file"})
                continue
            extracted = archive.extractfile(info)
            yield Member(path, extracted.read(info.size) if extracted is not None else b"")
