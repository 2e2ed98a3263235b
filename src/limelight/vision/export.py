"""The trained classifier as one ONNX file carrying its manifest (labels, decision rule and the
preprocessing serving must apply), checked like an uploaded artifact and against the torch model."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from limelight.errors import ArtifactInvalid
from limelight.vision.manifest import ImageClassifierManifest, attach
from limelight.vision.preprocess import Preprocessing

TOLERANCE = 1e-4  # largest difference in a probability allowed between torch and onnxruntime


def manifest(classes: list[str], multi_label: bool, prep: Preprocessing,
             thresholds: dict[str, float] | None = None) -> ImageClassifierManifest:
    return ImageClassifierManifest(labels=tuple(classes), multi_label=multi_label,
                                   thresholds=thresholds if multi_label else None, preprocessing=prep,
                                   architecture="efficientnet-lite0")


def export(model: torch.nn.Module, prep: Preprocessing, meta: ImageClassifierManifest, dest: Path,
           check_pixels: np.ndarray) -> float:
    """Writes ``dest`` and returns the largest probability difference torch vs onnxruntime on
    ``check_pixels`` (normalised inputs); refuses the export past ``TOLERANCE``."""
    import onnx
    import onnxruntime as ort

    from limelight.artifacts.formats import DEFAULT_POLICY
    from limelight.artifacts.modelfiles import check_onnx

    model = model.eval()
    sample = torch.zeros(1, 3, prep.size, prep.size)
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = Path(tmp) / "model.onnx"
        torch.onnx.export(model, (sample,), str(raw), input_names=["pixels"], output_names=["probabilities"],
                          dynamic_axes={"pixels": {0: "batch"}, "probabilities": {0: "batch"}},
                          opset_version=17, dynamo=False)
        proto = onnx.load_model(str(raw))
    onnx.save_model(attach(proto, meta), str(dest))
    check_onnx(dest, dest.stat().st_size, DEFAULT_POLICY)
    if len(check_pixels) == 0:
        return 0.0
    with torch.no_grad():
        expected = model(torch.from_numpy(check_pixels)).numpy()
    session = ort.InferenceSession(str(dest), providers=["CPUExecutionProvider"])
    got = session.run(["probabilities"], {"pixels": check_pixels})[0]
    difference = float(np.max(np.abs(got - expected)))
    if difference > TOLERANCE:
        raise ArtifactInvalid(f"the ONNX export differs from the trained model by {difference:.2e}",
                              details={"max_difference": difference, "tolerance": TOLERANCE})
    return difference
