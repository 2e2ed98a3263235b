"""open_store: backends by URI scheme, with S3 as a registered seam that this build does not fill."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.artifacts import ArtifactStore, LocalArtifactStore, open_store
from limelight.artifacts.registry import STORE_SCHEMES
from limelight.errors import InvalidParams


def test_file_uri_opens_a_local_store(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/artifacts")
    assert isinstance(store, LocalArtifactStore) and isinstance(store, ArtifactStore)
    assert store.root == (tmp_path / "artifacts").resolve()


def test_file_uri_with_localhost_and_escapes(tmp_path: Path) -> None:
    store = open_store(f"file://localhost{tmp_path}/with%20space")
    assert isinstance(store, LocalArtifactStore) and store.root.name == "with space"


def test_bare_paths_absolute_and_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert open_store(str(tmp_path / "abs")).root == (tmp_path / "abs").resolve()  # type: ignore[attr-defined]
    monkeypatch.chdir(tmp_path)
    assert open_store("rel/store").root == (tmp_path / "rel" / "store").resolve()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "uri",
    ["file://evil.example/x", "file:///tmp/x?y=1", "file:///tmp/x#frag", "file://relative/path", "file://"],
)
def test_bad_file_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParams):
        open_store(uri)


@pytest.mark.parametrize("uri", ["", "   ", "s3:bucket/x", "c:\\artifacts"])
def test_empty_or_ambiguous_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParams):
        open_store(uri)


def test_unknown_scheme_lists_the_registered_ones() -> None:
    with pytest.raises(InvalidParams) as caught:
        open_store("ftp://host/artifacts")
    assert "file" in caught.value.message and "s3" in caught.value.message
    assert caught.value.details["registered"] == ["file", "s3"]


def test_s3_opens_the_s3_module_which_refuses_a_store_it_cannot_reach() -> None:
    pytest.importorskip("boto3")
    with pytest.raises(InvalidParams) as caught:
        open_store("s3://bucket/prefix?endpoint_url=http://127.0.0.1:9&region=us-east-1")
    assert caught.value.details["setting"] == "artifacts_url" and "cannot be reached" in caught.value.message


def test_the_scheme_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        STORE_SCHEMES["evil"] = lambda uri: None  # type: ignore[index]
