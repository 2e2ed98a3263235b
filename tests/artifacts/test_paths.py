"""The traversal corpus against safe_name and contained_path (each payload a past bypass)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from limelight.artifacts import contained_path, safe_name
from limelight.errors import InvalidPath

TRAVERSAL = [
    # plain dot-dot, in every position
    "..", ".", "../x", "../../etc/passwd", "./../x", "a/../../b", "path/../to/file",
    "path/../../to/file", "a/b/../../../c", "a/..", "a/./b",
    # backslashes (CVE-2023-2780) and UNC
    "..\\x", "..\\..\\windows\\win.ini", "a\\..\\..\\b", "\\..\\x", "\\\\server\\share",
    "\\\\?\\C:\\x",
    # percent-encoded, double- and triple-encoded (CVE-2023-6909, CVE-2024-1560)
    "%2e%2e/x", "%2e%2e%2fx", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "..%2fx", "..%5cx", "%2fetc%2fpasswd",
    "%252e%252e%252fx", "%25252e%25252e%25252fx", "a%00b",
    # overlong UTF-8 and Unicode look-alikes
    "..%c0%af", "..%c1%9c", "%c0%ae%c0%ae/x", "\uff0e\uff0e/x", "\uff0e\uff0e\uff0fx", "..\uff0fx",
    "\u2025/x", "a/\uff0e\uff0e/\uff0e\uff0e/b", "\uff3c..\uff3cx",
    # absolute paths, drive letters, //proc (CVE-2023-6977)
    "/etc/passwd", "//etc/passwd", "//proc/self/root/etc/passwd", "/", "C:\\x", "C:/x", "c:x",
    "//server/share/x",
    # URIs, fragments, queries, path parameters (CVE-2024-1483, -3573, -1593, MLflow PR #10653)
    "file:///etc/passwd", "file:/etc/passwd", "file://localhost/etc/passwd", "http:///#/../../etc/",
    "http://foo/bar?a=../../..", "s3://bucket/../x", "a#/../../b", "x?x=../../y", ";/../x",
    "a;/../../b", "..;/x",
    # NUL, control and invisible characters
    "a\x00.txt", "\x00", "../x\x00.png", "a\nb", "a\rb", "a\tb", "\x1b[31m", "a\u202egnp.exe",
    "a\u200bb", "\ud800", "a\x7fb", "a\u2028b",
    # lengths and shapes
    "x" * 300, "\u00e9" * 200, "a/" * 40 + "b", "", " ", "a//b", "a/b/", " a", "a ", "name.",
    "dir./x", "a/ b",
    # hidden files, home expansion, Windows devices and special characters
    "~/x", "~root/.ssh", ".ssh/authorized_keys", ".git/config", ".env", "CON", "nul.txt", "aux/x",
    "COM1", "LPT9.log", "a:stream", "x*y", "x|y", 'x"y', "x<y", "x>y",
]  # fmt: skip


def test_the_corpus_is_large_enough() -> None:
    assert len(set(TRAVERSAL)) >= 60


@pytest.mark.parametrize("payload", TRAVERSAL, ids=[repr(p)[:40] for p in TRAVERSAL])
def test_contained_path_refuses(tmp_path: Path, payload: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        contained_path(tmp_path, payload)
    assert caught.value.status == 400 and caught.value.code == "invalid_path"


@pytest.mark.parametrize("payload", TRAVERSAL, ids=[repr(p)[:40] for p in TRAVERSAL])
def test_safe_name_refuses(payload: str) -> None:
    with pytest.raises(InvalidPath):
        safe_name(payload)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("model.onnx", "model.onnx"),
        ("My Data (1).csv", "My Data (1).csv"),
        ("donn\u00e9es.csv", "donn\u00e9es.csv"),
        ("\u6570\u636e.parquet", "\u6570\u636e.parquet"),
        ("\uff41\uff42\uff43.txt", "abc.txt"),  # fullwidth letters are stored in canonical form
        ("a-b_c.v2.json", "a-b_c.v2.json"),
        ("x" * 255, "x" * 255),
    ],
)
def test_safe_name_accepts_ordinary_names(name: str, canonical: str) -> None:
    assert safe_name(name) == canonical


@pytest.mark.parametrize("bad", [None, 42, b"bytes.txt", "a/b"])
def test_safe_name_refuses_non_strings_and_separators(bad: object) -> None:
    with pytest.raises(InvalidPath):
        safe_name(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("relative", "parts"),
    [
        ("model.onnx", ("model.onnx",)),
        ("a/b/c.txt", ("a", "b", "c.txt")),
        ("\uff44ir/f.txt", ("dir", "f.txt")),
    ],
)
def test_contained_path_accepts_ordinary_paths(tmp_path: Path, relative: str, parts: tuple[str, ...]) -> None:
    assert contained_path(tmp_path, relative) == tmp_path.resolve().joinpath(*parts)


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "inner").mkdir()
    (root / "alias").symlink_to(root / "inner")
    with pytest.raises(InvalidPath):
        contained_path(root, "escape/secret.txt")
    with pytest.raises(InvalidPath):
        contained_path(root, "escape")
    assert contained_path(root, "alias/ok.txt") == (root / "inner" / "ok.txt").resolve()


def test_a_symlinked_root_is_resolved(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    result = contained_path(tmp_path / "link", "x.bin")
    assert result == real.resolve() / "x.bin"
    assert os.path.commonpath([result, real.resolve()]) == str(real.resolve())
