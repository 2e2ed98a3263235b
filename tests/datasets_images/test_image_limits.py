"""The limits of an image upload come from Settings and are enforced by the real confined reader."""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path

import pytest

from limelight.config import ImageDatasetSettings, Settings
from limelight.datasets.ingest.images import ImageArchiveOptions, ingest_images
from limelight.errors import ArchiveTooLarge, DatasetInvalid
from tests.datasets_images.archives import labelled, picture, zip_of


def _ingest(tmp_path: Path, files: dict[str, bytes], settings: ImageDatasetSettings):  # type: ignore[no-untyped-def]
    archive = tmp_path / "pictures.zip"
    archive.write_bytes(zip_of(files))
    dest = tmp_path / "out.parquet"
    options = ImageArchiveOptions.from_settings(settings, skip_invalid=False)
    return ingest_images(archive, filename="pictures.zip", dest=dest, options=options), dest


def test_settings_read_image_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIMELIGHT_IMAGE_DATASETS__MAX_IMAGES", "7")
    monkeypatch.setenv("LIMELIGHT_IMAGE_DATASETS__MAX_PIXELS", "1000")
    limits = Settings().image_datasets
    options = ImageArchiveOptions.from_settings(limits, skip_invalid=True)
    assert (options.archive.max_files, options.image.max_pixels, options.skip_invalid) == (7, 1000, True)


def test_more_images_than_allowed_is_413_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ArchiveTooLarge):
        _ingest(tmp_path, labelled(3), ImageDatasetSettings(max_images=5))
    assert not (tmp_path / "out.parquet").exists()


def test_a_picture_over_the_pixel_limit_is_refused_by_name(tmp_path: Path) -> None:
    files = labelled(2) | {"bees/big.png": picture((1, 2, 3), "PNG", size=(40, 40))}
    with pytest.raises(DatasetInvalid) as refused:
        _ingest(tmp_path, files, ImageDatasetSettings(max_pixels=48 * 32))
    assert [(f["path"], f["reason"]) for f in refused.value.details["files"]] == [("bees/big.png", "too_many_pixels")]
    result, dest = _ingest(tmp_path, labelled(2), ImageDatasetSettings(max_pixels=48 * 32))
    assert result.rows == 4 and dest.exists()


def test_an_archive_unpacking_past_the_total_limit_is_413_and_writes_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "pictures.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as packed:  # stored: the ratio stays 1
        for name, data in labelled(2).items():
            packed.writestr(name, data)
        packed.writestr("ants/noise.jpg", os.urandom(3 << 19))
    options = ImageArchiveOptions.from_settings(ImageDatasetSettings(max_total_bytes=1 << 20), skip_invalid=True)
    with pytest.raises(ArchiveTooLarge) as refused:
        ingest_images(archive, filename="pictures.zip", dest=tmp_path / "out.parquet", options=options)
    assert refused.value.details["max_total_bytes"] == 1 << 20
    assert not (tmp_path / "out.parquet").exists()


def _options(**confinement: float) -> ImageArchiveOptions:
    base = ImageArchiveOptions.from_settings(ImageDatasetSettings(), skip_invalid=False)
    return dataclasses.replace(base, **confinement)


def test_a_reader_killed_for_overrunning_its_time_is_422_and_writes_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "pictures.zip"
    archive.write_bytes(zip_of(labelled(2)))
    dest = tmp_path / "out.parquet"
    # Far less than an interpreter needs to start and import pyarrow: the child is always killed.
    with pytest.raises(DatasetInvalid) as refused:
        ingest_images(archive, filename="pictures.zip", dest=dest, options=_options(timeout_s=0.001))
    assert refused.value.details == {"reason": "reader_failed"}  # no stderr, no traceback for the client
    assert "did not finish in time" in str(refused.value)
    assert not dest.exists()


def test_a_reader_out_of_memory_is_422_and_writes_nothing(tmp_path: Path) -> None:
    archive = tmp_path / "pictures.zip"
    archive.write_bytes(zip_of(labelled(2)))
    dest = tmp_path / "out.parquet"
    with pytest.raises(DatasetInvalid) as refused:
        ingest_images(archive, filename="pictures.zip", dest=dest, options=_options(memory_bytes=96 << 20))
    assert "Traceback" not in str(refused.value) and "stderr_tail" not in refused.value.details
    assert not dest.exists()
