"""The public surface of limelight.artifacts is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import subprocess
import sys

import limelight.artifacts


def test_public_names_are_pinned() -> None:
    assert sorted(limelight.artifacts.__all__) == [
        "ALLOWED_FORMATS",
        "ArtifactFormat",
        "ArtifactStore",
        "BlobRef",
        "FormatPolicy",
        "GcReport",
        "LocalArtifactStore",
        "StagedBlob",
        "contained_path",
        "detect_format",
        "open_store",
        "safe_name",
        "validate_sha256",
    ]
    for name in limelight.artifacts.__all__:
        assert getattr(limelight.artifacts, name) is not None


def test_importing_the_package_loads_no_model_library() -> None:
    code = (
        "import sys, limelight.artifacts; "
        "print(sorted(m for m in ('onnx', 'skops', 'sklearn', 'lightgbm', 'torch', 'safetensors', 'joblib') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "[]"
