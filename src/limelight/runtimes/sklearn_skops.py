"""scikit-learn estimators from skops files (never pickle).

skops stores an object tree as JSON plus .npy arrays and rebuilds only types it trusts. We accept
a file only if every type skops does not trust by default is on our own short allowlist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from limelight.artifacts.sniff import DEFAULT_SKOPS_TRUSTED_TYPES
from limelight.errors import InvalidParams, UnsafeArtifactFormat
from limelight.runtimes.base import LoadContext, check_float_row, io_spec, refuse_pickle

# One trust list for upload and serving (``artifacts.sniff``): if they differed, a file could be
# accepted at upload and refused at serve.
TRUSTED_TYPES = DEFAULT_SKOPS_TRUSTED_TYPES


class SklearnRuntime:
    """``predict_proba`` (classifiers) or ``predict`` on rows of floats."""

    def __init__(self, estimator: Any, *, method: str, memory_bytes: int, max_batch_size: int = 256) -> None:
        self._estimator = estimator
        self._method = method
        self._predict = getattr(estimator, method)
        self.n_features = int(estimator.n_features_in_)
        self.memory_bytes = memory_bytes
        self.max_batch_size = max_batch_size

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> SklearnRuntime:
        import skops.io

        refuse_pickle(artifact_path)
        try:
            untrusted = skops.io.get_untrusted_types(file=artifact_path)
        except Exception as exc:  # not a zip / not a skops schema
            raise UnsafeArtifactFormat(
                "not a skops file", details={"field": "artifact", "error": type(exc).__name__}
            ) from exc
        refused = sorted(set(untrusted) - TRUSTED_TYPES)
        if refused:
            raise UnsafeArtifactFormat(
                "the skops file holds types limelight does not trust", details={"untrusted_types": refused}
            )
        estimator = skops.io.load(artifact_path, trusted=list(untrusted))
        method = _choose_method(estimator, params.get("method", "auto"))
        size_bytes = artifact_path.stat().st_size
        return cls(estimator, method=method, memory_bytes=4 * size_bytes + (1 << 20))

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        import numpy as np

        out = self._predict(np.asarray(inputs, dtype=np.float64))
        result: list[Any] = out.tolist()
        return result

    def signature(self) -> dict[str, Any]:
        if self._method == "predict_proba":
            n_classes = len(self._estimator.classes_)
            output = io_spec("probabilities", "float64", [-1, n_classes])
        else:
            output = io_spec("prediction", "float64", [-1])
        return {"inputs": [io_spec("features", "float64", [-1, self.n_features])], "outputs": [output]}

    def validate_input(self, item: Any) -> list[float]:
        return check_float_row(item, self.n_features, field="features")

    def close(self) -> None:
        self._estimator = None


def _choose_method(estimator: Any, method: str) -> str:
    if method == "auto":
        return "predict_proba" if hasattr(estimator, "predict_proba") else "predict"
    if method not in ("predict", "predict_proba") or not hasattr(estimator, method):
        raise InvalidParams(f"estimator has no method {method!r}", details={"field": "params.method"})
    return method
