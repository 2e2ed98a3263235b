"""Canary: a live pickle payload, in every wrapper, goes through detect_format and never runs."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import limelight.artifacts
from limelight.artifacts import detect_format
from limelight.errors import UnsafeArtifactFormat


class Canary:
    """Unpickling this creates a directory: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (os.mkdir, (self.marker,))


def _npy_bytes(marker: Path) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([Canary(marker)], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def wrappers(marker: Path) -> dict[str, bytes]:
    payloads = {f"pickle-p{p}": pickle.dumps(Canary(marker), protocol=p) for p in range(6)}
    raw = payloads["pickle-p4"]
    return {
        **payloads,
        # nullifAI: the payload sits before a deliberate parse error, so a loader runs it and then fails
        "broken-pickle": raw[:-1] + b"\xff\xfe garbage",
        "torch-zip": _zip_bytes({"archive/data.pkl": raw, "archive/version": b"3\n"}),
        "7z-wrapped": b"7z\xbc\xaf\x27\x1c\x00\x04" + raw,
        "gzip-wrapped": gzip.compress(raw),
        "npy-object": _npy_bytes(marker),
        "npz-object": _zip_bytes({"w.npy": _npy_bytes(marker)}),
        "skops-shaped-zip": _zip_bytes({"schema.json": b'{"protocol": 2, "__loader__": "x"}', "a.pkl": raw}),
    }


def test_the_canary_is_live(tmp_path: Path) -> None:
    """Unpickled in a separate interpreter the payload does fire, so its silence below means something."""
    marker = tmp_path / "fired-in-subprocess"
    payload = pickle.dumps(Canary(marker), protocol=2)
    subprocess.run(  # noqa: S603 - our interpreter, our payload
        [sys.executable, "-c", "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"],
        input=payload,
        check=True,
        timeout=30,
    )
    assert marker.is_dir()


@pytest.mark.parametrize("declared", [None, "safetensors", "npy", "json"])
def test_detect_format_never_runs_the_payload(tmp_path: Path, declared: str | None) -> None:
    marker = tmp_path / "fired"
    for name, data in wrappers(marker).items():
        path = tmp_path / f"{name}.safetensors"  # a reassuring name changes nothing
        path.write_bytes(data)
        with pytest.raises(UnsafeArtifactFormat):
            detect_format(path, declared=declared)
        assert not marker.exists(), f"canary fired for {name}"


def test_no_unpickling_loader_in_the_artifacts_package() -> None:
    """Static guard: nothing in limelight.artifacts can deserialise pickle."""
    banned = re.compile(
        r"\bimport (c?pickle|cloudpickle|dill|joblib|torch)\b|\bfrom (c?pickle|cloudpickle|dill|joblib|torch)\b"
        r"|pickle\.loads?\(|joblib\.load\(|torch\.load\(|allow_pickle\s*=\s*True|skops\.io\.loads?\("
    )
    package = Path(limelight.artifacts.__file__).parent
    findings = [
        f"{source.name}:{number}: {line.strip()}"
        for source in sorted(package.glob("*.py"))
        for number, line in enumerate(source.read_text().splitlines(), 1)
        if banned.search(line)
    ]
    assert findings == []
