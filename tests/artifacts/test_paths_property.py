"""Property tests of the path validator, ~500 examples in all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")  # in the dev extra; see the report
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from limelight.artifacts import contained_path, safe_name  # noqa: E402
from limelight.errors import InvalidPath  # noqa: E402

# Pieces past bypasses were made of; joined at random they build payloads no list anticipates.
TOKENS = st.sampled_from(
    [
        "..", ".", "/", "\\", "//", "%", "%2e", "%2f", "%5c", "%25", "%c0%af", "%00", "\uff0e", "\uff0f",
        "\u2025", "\x00", "\n", "\u202e", "C:", "c:", "~", "#", ";", "?", ":", "file:", "http://", " ",
        "a", "b.txt", "model", "escape", "inner", "x" * 100, "\u00e9", "\ufb00", "CON",
    ]
)  # fmt: skip
PAYLOADS = st.one_of(
    st.text(max_size=60),
    st.lists(TOKENS, max_size=14).map("".join),
    st.lists(st.one_of(TOKENS, st.text(max_size=4)), max_size=10).map("/".join),
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("property")
    (base / "root" / "inner").mkdir(parents=True)
    (base / "outside").mkdir()
    (base / "root" / "escape").symlink_to(base / "outside")  # a trap: following it leaves the root
    return base / "root"


@settings(
    max_examples=350,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(relative=PAYLOADS)
def test_contained_path_is_inside_root_or_raises(root: Path, relative: str) -> None:
    try:
        result = contained_path(root, relative)
    except InvalidPath:
        return
    base = root.resolve()
    assert result.is_absolute() and result != base
    assert os.path.commonpath([base, result]) == str(base)
    assert result.resolve() == result and ".." not in result.parts
    assert not result.is_relative_to((root.parent / "outside").resolve())  # the symlink trap held


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=PAYLOADS)
def test_a_safe_name_is_one_plain_segment(tmp_path_factory: pytest.TempPathFactory, name: str) -> None:
    try:
        canonical = safe_name(name)
    except InvalidPath:
        return
    assert canonical == safe_name(canonical)  # canonical form is a fixed point
    assert not set(canonical) & set("/\\\x00%#;?:") and canonical not in (".", "..")
    plain_root = tmp_path_factory.getbasetemp() / "plain"
    plain_root.mkdir(exist_ok=True)
    assert contained_path(plain_root, canonical) == plain_root.resolve() / canonical
