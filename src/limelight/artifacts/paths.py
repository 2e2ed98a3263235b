"""Canonicalise-then-contain: the one path check every named file in limelight goes through.

MLflow's artifact handlers were broken again and again (CVE-2023-1177, -2780, -6909, -6977,
CVE-2024-1483, -1560, -1593, -3573, -0520) by payloads its validator did not cover: encoded and
double-encoded dots, backslashes, ``//proc``, ``#`` fragments, ``;`` parameters, ``file:`` URIs,
``Content-Disposition`` names. So the rules here are an allowlist of shapes, not a list of bad inputs:

1. decode percent-escapes repeatedly (bounded) and NFKC-normalise (fullwidth ``．．`` becomes ``..``);
2. refuse, in the raw *and* the canonical form: NUL and other control or invisible characters,
   ``\\``, ``%``, ``#``, ``;``, ``?``, ``:``, ``*``, ``"``, ``<``, ``>``, ``|``;
3. refuse absolute paths, drive letters, empty, ``.`` and ``..`` segments, hidden (dot-first)
   segments, Windows device names, trailing dots or spaces, over-long names and over-deep paths;
4. join under the resolved root, resolve (following any symlink already there) and require that the
   result is still inside the root.

Everything refused raises :class:`limelight.errors.InvalidPath` (400).
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

from limelight.errors import InvalidPath

__all__ = ["MAX_NAME_BYTES", "MAX_PATH_CHARS", "MAX_PATH_DEPTH", "contained_path", "safe_name"]

MAX_NAME_BYTES = 255  # the common file-system limit for one component
MAX_PATH_CHARS = 1024
MAX_PATH_DEPTH = 32
_MAX_DECODE_ROUNDS = 4

_FORBIDDEN_CHARS = frozenset('\\%#;?:*"<>|\x00')
# Unicode categories that have no business in a file name: control, format (zero-width, bidi
# overrides used to disguise extensions), surrogates, private use, unassigned, line/paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)


def _refuse(reason: str, value: str) -> InvalidPath:
    # repr() keeps control characters visible in logs without echoing them raw.
    return InvalidPath(f"Unsafe path: {reason}.", details={"reason": reason, "path": repr(value)[:200]})


def _canonical(raw: str) -> str:
    """Decode percent-escapes until stable, then NFKC-normalise; refuse what never settles."""
    text = raw
    for _ in range(_MAX_DECODE_ROUNDS):
        try:
            decoded = unquote(text, errors="strict")
        except UnicodeDecodeError:  # overlong UTF-8 such as %c0%af is an attack, not a name
            raise _refuse("invalid percent-encoded UTF-8", raw) from None
        if decoded == text:
            return unicodedata.normalize("NFKC", text)
        text = decoded
    raise _refuse("too many levels of percent-encoding", raw)


def _check_characters(value: str, original: str) -> None:
    for char in value:
        if char in _FORBIDDEN_CHARS:
            raise _refuse(f"forbidden character {char!r}", original)
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise _refuse(f"forbidden character U+{ord(char):04X}", original)


def _check_segment(segment: str, original: str) -> None:
    if segment in ("", ".", ".."):
        raise _refuse("empty, '.' or '..' segment", original)
    if segment.startswith(".") or segment.startswith("~"):
        raise _refuse("segment starts with '.' or '~'", original)
    if segment != segment.strip() or segment.endswith("."):
        raise _refuse("segment has leading/trailing space or a trailing dot", original)
    if len(segment.encode("utf-8")) > MAX_NAME_BYTES:
        raise _refuse(f"segment longer than {MAX_NAME_BYTES} bytes", original)
    if _WINDOWS_DEVICES.match(segment):
        raise _refuse("reserved device name", original)


def _canonical_checked(raw: str) -> str:
    if not isinstance(raw, str):
        raise InvalidPath("Unsafe path: not a string.", details={"reason": "not a string"})
    if not raw or len(raw) > MAX_PATH_CHARS:
        raise _refuse(f"empty or longer than {MAX_PATH_CHARS} characters", raw)
    _check_characters(raw, raw)
    canonical = _canonical(raw)
    _check_characters(canonical, raw)
    if len(canonical) > MAX_PATH_CHARS:
        raise _refuse(f"longer than {MAX_PATH_CHARS} characters", raw)
    return canonical


def safe_name(name: str) -> str:
    """Return the canonical form of one safe file-name component, or raise ``InvalidPath``.

    For names that come from outside (a multipart ``filename``, a dataset file name): no separators,
    no traversal, nothing a shell, URL parser or Windows would read specially.
    """
    canonical = _canonical_checked(name)
    if "/" in canonical:
        raise _refuse("a name may not contain '/'", name)
    _check_segment(canonical, name)
    return canonical


def contained_path(root: Path, relative: str) -> Path:
    """Resolve ``relative`` under ``root`` and return it, or raise ``InvalidPath``.

    The result is absolute, resolved (symlinks followed) and inside ``root.resolve()``; the file
    itself need not exist yet.
    """
    canonical = _canonical_checked(relative)
    if canonical.startswith("/"):
        raise _refuse("absolute path", relative)
    segments = canonical.split("/")
    if len(segments) > MAX_PATH_DEPTH:
        raise _refuse(f"deeper than {MAX_PATH_DEPTH} segments", relative)
    for segment in segments:
        _check_segment(segment, relative)
    base = root.resolve()
    candidate = base.joinpath(*segments).resolve()
    # commonpath on the resolved forms is the containment check; it also catches a symlink
    # inside the root that points out of it.
    if os.path.commonpath([base, candidate]) != str(base) or candidate == base:
        raise _refuse("escapes the root", relative)
    return candidate
