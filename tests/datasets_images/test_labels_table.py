"""A labels table names archive members the way the archive spells them, read by the real confined reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.config import ImageDatasetSettings
from limelight.datasets.ingest.images import ImageArchiveOptions, ingest_images
from limelight.errors import DatasetInvalid
from tests.datasets_images.archives import picture, zip_of

PICTURES = {"a.jpg": picture((1, 1, 1)), "b.jpg": picture((2, 2, 2), seed=1),
            "c.jpg": picture((3, 3, 3), seed=2), "d.jpg": picture((4, 4, 4), seed=3)}


def _ingest(tmp_path: Path, labels_csv: str):  # type: ignore[no-untyped-def]
    archive = tmp_path / "pictures.zip"
    archive.write_bytes(zip_of(PICTURES))
    options = ImageArchiveOptions.from_settings(ImageDatasetSettings(), skip_invalid=False)
    return ingest_images(archive, filename="pictures.zip", dest=tmp_path / "out.parquet", options=options,
                         labels_csv=labels_csv)


def test_dot_slash_and_backslash_paths_name_their_members(tmp_path: Path) -> None:
    result = _ingest(tmp_path, "path,label\n./a.jpg,x\n.\\b.jpg,x\nc.jpg,y\n./d.jpg,y\n")
    assert result.rows == 4 and result.profile["labels"] == {"x": 2, "y": 2}


def test_a_path_climbing_out_names_no_member_and_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetInvalid) as refused:
        _ingest(tmp_path, "path,label\n../a.jpg,x\nb.jpg,x\nc.jpg,y\nd.jpg,y\n")
    assert refused.value.details["rows_without_file"] == ["../a.jpg"]
    assert refused.value.details["files_without_row"] == ["a.jpg"]
    assert not (tmp_path / "out.parquet").exists()


def test_a_row_with_an_empty_label_refuses_that_picture_by_name(tmp_path: Path) -> None:
    with pytest.raises(DatasetInvalid) as refused:
        _ingest(tmp_path, "path,label\na.jpg,\nb.jpg,x\nc.jpg,y\nd.jpg,y\n")
    assert [(f["path"], f["reason"]) for f in refused.value.details["files"]] == [("a.jpg", "no_label")]
