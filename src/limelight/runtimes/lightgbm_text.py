"""LightGBM boosters from LightGBM's own text model format (``Booster.save_model``).

A version trained by ``classify/lightgbm`` carries its features in its params (names, and the
category list of each text column): it then takes ``{"plan": "family", "tenure": 3}`` objects as
well as lists of values, and reports unknown, missing and mistyped features by name. A booster
without them (uploaded, or trained before text columns were encoded) takes lists of numbers as
before; if its text model names its features (LightGBM stores ``feature_names``), it takes them by
name too, all numeric.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from limelight.errors import InvalidParams, UnsafeArtifactFormat
from limelight.runtimes.base import LoadContext, check_float_row, int_param, io_spec, refuse_pickle
from limelight.runtimes.tabular_features import Feature, FeatureSpec


class LightGBMRuntime:
    """Raw scores/probabilities: a float per row (regression, binary) or a list (multiclass)."""

    def __init__(
        self, booster: Any, *, num_threads: int, memory_bytes: int, max_batch_size: int = 512,
        features: FeatureSpec | None = None, trained_features: bool = True,
    ) -> None:
        self._booster = booster
        self.features = features
        self._trained_features = trained_features
        self._num_threads = num_threads
        self.n_features = int(booster.num_feature())
        self.n_outputs = int(booster.num_model_per_iteration())
        self.memory_bytes = memory_bytes
        self.max_batch_size = max_batch_size

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> LightGBMRuntime:
        import lightgbm

        refuse_pickle(artifact_path)
        with artifact_path.open("rb") as fh:
            head = fh.read(5)
        if head != b"tree\n":  # every LightGBM text model starts with this line
            raise UnsafeArtifactFormat(
                "not a LightGBM text model (expected a file starting with 'tree')",
                details={"field": "artifact"},
            )
        try:
            booster = lightgbm.Booster(model_file=str(artifact_path))
        except lightgbm.basic.LightGBMError as exc:
            raise UnsafeArtifactFormat(
                "LightGBM could not parse the model", details={"field": "artifact", "error": str(exc)[:200]}
            ) from exc
        size_bytes = artifact_path.stat().st_size
        features = FeatureSpec.from_params(params["features"]) if params.get("features") is not None else None
        if features is not None and len(features.features) != booster.num_feature():
            raise InvalidParams(f"params.features names {len(features.features)} features; the model has "
                                f"{booster.num_feature()}", details={"field": "params.features"})
        return cls(
            booster,
            num_threads=int_param(params, "num_threads", 1, 1, 64),
            memory_bytes=3 * size_bytes + (1 << 20),
            features=features if features is not None else _named_in_model(booster),
            trained_features=features is not None,
        )

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        import numpy as np

        out = self._booster.predict(np.asarray(inputs, dtype=np.float64), num_threads=self._num_threads)
        result: list[Any] = out.tolist()
        return result

    def signature(self) -> dict[str, Any]:
        shape = [-1] if self.n_outputs == 1 else [-1, self.n_outputs]
        inputs = io_spec("features", "float64", [-1, self.n_features])
        if self.features is not None:
            inputs = {**inputs, "names": self.features.names,
                      "categories": {f.name: list(f.categories) for f in self.features.features if f.categories}}
        return {"inputs": [inputs], "outputs": [io_spec("prediction", "float64", shape)]}

    def validate_input(self, item: Any) -> list[float]:
        if self.features is not None and (self._trained_features or isinstance(item, dict)):
            return self.features.encode(item)
        # lists for a booster without params.features keep the checks (and messages) they always had
        return check_float_row(item, self.n_features, field="features")

    def close(self) -> None:
        self._booster = None


def _named_in_model(booster: Any) -> FeatureSpec | None:
    """Numeric features by the names the text model carries; None when LightGBM made them up
    (``Column_0``…), as it does for a matrix trained without names."""
    names = [str(n) for n in booster.feature_name()]
    if not names or names == [f"Column_{i}" for i in range(len(names))] or len(set(names)) != len(names):
        return None
    return FeatureSpec(tuple(Feature(name) for name in names))
