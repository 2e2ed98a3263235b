"""Everything outside the allowlist is refused with 415 naming what it is, whatever its name."""

from __future__ import annotations

import bz2
import fractions
import gzip
import io
import json
import os
import pickle
import shutil
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from limelight.artifacts import detect_format
from limelight.errors import UnsafeArtifactFormat

from .samples import make_safetensors

BENIGN = {"weights": [0.5, 1.5], "name": "model"}


def refusal_of(path: Path, declared: str | None = None) -> UnsafeArtifactFormat:
    with pytest.raises(UnsafeArtifactFormat) as caught:
        detect_format(path, declared=declared)
    assert caught.value.status == 415
    assert "Allowed formats: safetensors, onnx, lightgbm, skops, npy, npz, json" in caught.value.message
    return caught.value


def _zip(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _joblib(path: Path, **kwargs: object) -> None:
    import joblib

    joblib.dump({"coef": np.arange(3.0)}, path, **kwargs)


def _tar_with_pickle(path: Path) -> None:
    data = pickle.dumps(BENIGN)
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("model.pkl")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))


def _parquet(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"user_id": [1, 2]}), path)


def _object_npz(path: Path) -> None:
    with path.open("wb") as handle:
        np.savez(handle, ok=np.ones(2), bad=np.array([{"a": 1}], dtype=object))


def _npz_with_stranger(path: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.ones(2))
    _zip(path, {"a.npy": buffer.getvalue(), "notes.txt": b"hi"})


def _skops_dump(obj: object) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import skops.io as sio

        sio.dump(obj, path)

    return write


# (id, writer, fragment expected in the message)
HOSTILE: list[tuple[str, Callable[[Path], object], str]] = [
    *[
        (f"pickle-p{p}", lambda path, p=p: path.write_bytes(pickle.dumps(BENIGN, protocol=p)), "pickle")
        for p in range(6)
    ],
    ("joblib", lambda path: _joblib(path), "joblib pickle"),
    ("joblib-zlib", lambda path: _joblib(path, compress=3), "zlib"),
    ("joblib-gzip", lambda path: _joblib(path, compress=("gzip", 3)), "gzip"),
    ("joblib-bz2", lambda path: _joblib(path, compress=("bz2", 3)), "bzip2"),
    ("joblib-xz", lambda path: _joblib(path, compress=("xz", 3)), "xz"),
    ("7z-like", lambda path: path.write_bytes(b"7z\xbc\xaf\x27\x1c\x00\x04" + pickle.dumps(BENIGN)), "7z"),
    ("gzip-pickle", lambda path: path.write_bytes(gzip.compress(pickle.dumps(BENIGN))), "gzip"),
    ("bz2-pickle", lambda path: path.write_bytes(bz2.compress(pickle.dumps(BENIGN))), "bzip2"),
    ("tar-pickle", _tar_with_pickle, "tar archive"),
    ("torch-like-zip", lambda path: _zip(path, {"archive/data.pkl": pickle.dumps(BENIGN)}), "PyTorch"),
    ("zip-pickle", lambda path: _zip(path, {"model.pkl": pickle.dumps(BENIGN)}), "zip containing pickle"),
    (
        "keras-zip",
        lambda path: _zip(path, {"config.json": b"{}", "metadata.json": b"{}", "model.weights.h5": b""}),
        "Keras",
    ),
    ("plain-zip", lambda path: _zip(path, {"readme.txt": b"hello"}), "zip archive"),
    ("empty-zip", lambda path: _zip(path, {}), "zip archive"),
    ("npz-object", _object_npz, "object dtype"),
    ("npz-stranger", _npz_with_stranger, "zip archive"),
    ("npy-object", lambda path: np.save(path.open("wb"), np.array([{}], dtype=object)), "object dtype"),
    ("hdf5", lambda path: path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 512), "HDF5"),
    ("parquet", _parquet, "parquet"),
    ("gguf", lambda path: path.write_bytes(b"GGUF" + b"\0" * 64), "gguf"),
    ("elf", lambda path: path.write_bytes(Path(sys.executable).resolve().read_bytes()[:4096]), "ELF"),
    ("script", lambda path: path.write_bytes(b"#!/bin/sh\nrm -rf /\n"), "script"),
    ("empty", lambda path: path.write_bytes(b""), "empty file"),
    ("random", lambda path: path.write_bytes(np.random.default_rng(3).bytes(4096)), "unknown binary"),
    ("prose", lambda path: path.write_text("Just some words, not a model.\n"), "text"),
    ("skops-os-system", _skops_dump({"f": os.system}), "posix.system"),
    ("skops-fraction", _skops_dump({"x": fractions.Fraction(1, 3)}), "outside the trusted allowlist"),
]


@pytest.mark.parametrize(("writer", "fragment"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_or_unknown_files_are_refused(
    tmp_path: Path, writer: Callable[[Path], object], fragment: str
) -> None:
    path = tmp_path / "upload"
    writer(path)
    error = refusal_of(path)
    assert fragment in error.message or fragment in json.dumps(error.details)


def test_skops_refusal_names_the_untrusted_types(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    _skops_dump({"f": os.system})(path)
    assert refusal_of(path).details["untrusted_types"] == ["posix.system"]


def test_torch_save_is_refused_in_both_serialisations(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    modern, legacy = tmp_path / "model.safetensors", tmp_path / "model.onnx"  # names lie on purpose
    torch.save({"w": torch.zeros(2)}, modern)
    torch.save({"w": torch.zeros(2)}, legacy, _use_new_zipfile_serialization=False)
    assert "PyTorch" in refusal_of(modern).message
    assert "pickle" in refusal_of(legacy).message


@pytest.mark.parametrize("name", ["model.safetensors", "model.onnx", "weights.npy", "config.json", "m.skops"])
def test_a_pickle_is_refused_whatever_its_name_or_declared_format(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(pickle.dumps(BENIGN, protocol=4))
    declared = name.rsplit(".", 1)[1]
    assert "pickle (protocol 4)" in refusal_of(path, declared=declared).message


def test_a_real_safetensors_file_named_like_a_pickle_is_accepted(tmp_path: Path) -> None:
    path = make_safetensors(tmp_path / "weights.pkl")
    assert detect_format(path).name == "safetensors"


def test_zip_limits(tmp_path: Path) -> None:
    from limelight.artifacts import FormatPolicy

    buffer = io.BytesIO()
    np.save(buffer, np.zeros(1000))
    path = tmp_path / "many.npz"
    _zip(path, {f"a{i}.npy": buffer.getvalue() for i in range(20)})
    assert detect_format(path).name == "npz"
    with pytest.raises(UnsafeArtifactFormat, match="more than 10 members"):
        detect_format(path, policy=FormatPolicy(max_zip_members=10))
    with pytest.raises(UnsafeArtifactFormat, match="unpacks to more than"):
        detect_format(path, policy=FormatPolicy(max_unpacked_bytes=10_000))


def test_a_corrupt_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    assert "unreadable" in refusal_of(path).message


def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in refusal_of(fifo).message
    directory = tmp_path / "dir"
    directory.mkdir()
    with pytest.raises((UnsafeArtifactFormat, IsADirectoryError)):
        detect_format(directory)
    shutil.rmtree(directory)
