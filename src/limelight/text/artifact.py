"""One ``.npz`` file per text classifier: numbers and unicode only, never a pickle.

Layout (``np.load(..., allow_pickle=False)`` reads every member):

=====================================  ==========================================================
``format``                             0-d unicode, ``limelight.text/1``
``metadata``                           0-d unicode JSON: ``kind`` (``tfidf`` | ``embedding-head`` |
                                       ``finetuned-onnx``), ``labels``, ``multi_label``,
                                       ``calibration`` {``temperature``, ``platt`` {a, b},
                                       ``thresholds``}, ``max_length``, ``recipe``, ``metrics``,
                                       ``pooling`` (embedding-head: ``layers`` or ``mean``)
``head.coef`` / ``head.intercept``     float64 (L, d) / (L,): the output layer (tfidf, embedding-head)
``head.hidden_coef`` / ``_intercept``  float64, only for an MLP head (ReLU hidden layer)
``tfidf.{word,char}.vocab``            unicode (V,): the n-gram at each column
``tfidf.{word,char}.idf``              float64 (V,)
``onnx``                               uint8 (B,): ONNX model bytes (finetuned-onnx; inputs
                                       input_ids / attention_mask / token_type_ids, output logits)
``tokenizer``                          0-d unicode: tokenizer.json text (finetuned-onnx)
=====================================  ==========================================================

Loading refuses pickled or object arrays (``UnsafeArtifactFormat``) and anything structurally
wrong, including another format string (``ValidationFailed``): artifact bytes are untrusted input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from limelight.artifacts.arrays import read_npz, write_npz
from limelight.errors import ValidationFailed
from limelight.text.model import Calibration, TextClassifier

FORMAT = "limelight.text/1"
KINDS = ("tfidf", "embedding-head", "finetuned-onnx")


def save_arrays(path: Path, metadata: dict[str, Any], members: dict[str, np.ndarray]) -> None:
    """Write atomically (temporary file, then rename); object arrays are refused."""
    arrays = {"format": np.array(FORMAT), "metadata": np.array(json.dumps(metadata, sort_keys=True, allow_nan=False)),
              **members}
    write_npz(path, arrays)


def require_array(arrays: dict[str, np.ndarray], key: str, kind: str, ndim: int) -> np.ndarray:
    """An artifact member of dtype kind ``kind`` ('f', 'u', 'U') and rank ``ndim``."""
    if key not in arrays:
        raise ValidationFailed(f"text classifier artifact lacks {key!r}", details={"field": "artifact"})
    array = np.asarray(arrays[key])
    if array.dtype.kind != kind or array.ndim != ndim:
        raise ValidationFailed(f"text classifier artifact member {key!r} has dtype {array.dtype} / rank {array.ndim}",
                               details={"field": "artifact"})
    return array


def read_arrays(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    arrays = read_npz(path, "text classifier artifact")
    if "format" not in arrays or str(require_array(arrays, "format", "U", 0)) != FORMAT:
        raise ValidationFailed(f"unsupported text classifier artifact (expected format {FORMAT})",
                               details={"field": "artifact"})
    try:
        metadata = json.loads(str(require_array(arrays, "metadata", "U", 0)))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"text classifier metadata is not JSON: {exc}") from None
    _check_metadata(metadata)
    return metadata, arrays


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict) or metadata.get("kind") not in KINDS:
        raise ValidationFailed(f"text classifier metadata needs a kind in {list(KINDS)}")
    labels = metadata.get("labels")
    if not isinstance(labels, list) or len(labels) < 2 or not all(isinstance(x, str) for x in labels):
        raise ValidationFailed("text classifier metadata needs two or more string labels")
    if not isinstance(metadata.get("multi_label"), bool) or not isinstance(metadata.get("max_length"), int):
        raise ValidationFailed("text classifier metadata needs multi_label (bool) and max_length (int)")


def calibration_from(metadata: dict[str, Any], n_labels: int) -> Calibration:
    raw = metadata.get("calibration") or {}
    try:
        temperature = float(raw.get("temperature", 1.0))
        platt = raw.get("platt")
        a = np.array(platt["a"], np.float64) if platt else None
        b = np.array(platt["b"], np.float64) if platt else None
        thresholds = np.array(raw["thresholds"], np.float64) if raw.get("thresholds") is not None else None
    except (TypeError, ValueError, KeyError) as exc:
        raise ValidationFailed(f"text classifier calibration is malformed: {exc}") from None
    for vector in (a, b, thresholds):
        if vector is not None and vector.shape != (n_labels,):
            raise ValidationFailed("text classifier calibration does not match the labels")
    if not 0 < temperature < 1e4:
        raise ValidationFailed("text classifier temperature out of range")
    return Calibration(temperature, a, b, thresholds)


def head_from(arrays: dict[str, np.ndarray], n_labels: int) -> dict[str, np.ndarray]:
    head = {key[len("head."):]: require_array(arrays, key, "f", 1 if key.endswith("intercept") else 2)
            for key in arrays if key.startswith("head.")}
    if "coef" not in head or "intercept" not in head or head["coef"].shape[0] != n_labels \
            or head["intercept"].shape != (n_labels,):
        raise ValidationFailed("text classifier head does not match its labels")
    if "hidden_coef" in head and head["coef"].shape[1] != head["hidden_coef"].shape[0]:
        raise ValidationFailed("text classifier MLP layers do not fit together")
    return {k: v.astype(np.float64) for k, v in head.items()}


def load_classifier(path: Path, *, cache_dir: Path | None = None, threads: int = 2) -> TextClassifier:
    """The classifier in ``path``; the scorer is rebuilt from arrays (the encoder for embedding-head)."""
    metadata, arrays = read_arrays(path)
    labels, kind = metadata["labels"], metadata["kind"]
    calibration = calibration_from(metadata, len(labels))
    if kind == "tfidf":
        from limelight.text.tfidf import TfidfScorer

        scorer: Any = TfidfScorer.from_arrays(arrays, head_from(arrays, len(labels)))
    elif kind == "embedding-head":
        from limelight.text.embedding_head import EmbeddingHeadScorer, load_encoder

        head = head_from(arrays, len(labels))
        pooling = metadata.get("pooling", "mean")  # versions from before ``layers`` hold sentence-embedding heads
        if pooling not in ("mean", "layers"):
            raise ValidationFailed(f"text classifier pooling {pooling!r} is unknown")
        scorer = EmbeddingHeadScorer(load_encoder(metadata["max_length"], cache_dir, threads, pooling), head,
                                     metadata["max_length"])
    else:
        scorer = _onnx_scorer(arrays, metadata["max_length"], threads)
    return TextClassifier(kind, labels, metadata["multi_label"], scorer, calibration, metadata["max_length"],
                          metadata)


def _onnx_scorer(arrays: dict[str, np.ndarray], max_length: int, threads: int) -> Any:
    try:
        from limelight.text.onnx_scorer import OnnxTextScorer
    except ImportError:
        raise ValidationFailed("this server cannot serve fine-tuned text models (onnx scorer missing)") from None
    onnx = require_array(arrays, "onnx", "u", 1)
    tokenizer = str(require_array(arrays, "tokenizer", "U", 0))
    return OnnxTextScorer.from_bytes(onnx.tobytes(), tokenizer, max_length, threads=threads)
