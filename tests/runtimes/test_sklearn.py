from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from limelight.errors import UnsafeArtifactFormat, ValidationFailed
from limelight.runtimes import load_runtime


def _reverse_columns(x: np.ndarray) -> np.ndarray:
    return x[:, ::-1]


def test_logistic_regression_round_trip(tmp_path: Path, rows: tuple) -> None:
    x, y = rows
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    skops.io.dump(clf, tmp_path / "m.skops")
    rt = load_runtime("sklearn", tmp_path / "m.skops", {})
    batch = [rt.validate_input(r) for r in x[:5].tolist()]
    out = rt.predict_batch(batch)
    np.testing.assert_allclose(out, clf.predict_proba(x[:5]))
    assert rt.signature()["inputs"][0]["shape"] == [-1, 6]
    assert rt.signature()["outputs"][0] == {"name": "probabilities", "dtype": "float64", "shape": [-1, 2]}
    assert rt.memory_bytes > 0


def test_regressor_uses_predict(tmp_path: Path, rows: tuple) -> None:
    x, _ = rows
    reg = LinearRegression().fit(x, x[:, 0] * 2)
    skops.io.dump(reg, tmp_path / "r.skops")
    rt = load_runtime("sklearn", tmp_path / "r.skops", {})
    np.testing.assert_allclose(rt.predict_batch(x[:3].tolist()), reg.predict(x[:3]))


def test_wrong_row_names_the_field(tmp_path: Path, rows: tuple) -> None:
    x, y = rows
    skops.io.dump(LogisticRegression().fit(x, y), tmp_path / "m.skops")
    rt = load_runtime("sklearn", tmp_path / "m.skops", {})
    with pytest.raises(ValidationFailed) as info:
        rt.validate_input([1.0] * 5)
    assert info.value.details["field"] == "features"
    with pytest.raises(ValidationFailed) as info:
        rt.validate_input([1.0] * 5 + ["x"])
    assert info.value.details["field"] == "features[5]"


def test_untrusted_types_are_refused(tmp_path: Path, rows: tuple) -> None:
    x, y = rows
    clf = make_pipeline(FunctionTransformer(_reverse_columns), LogisticRegression()).fit(x, y)
    skops.io.dump(clf, tmp_path / "f.skops")
    assert skops.io.get_untrusted_types(file=tmp_path / "f.skops")  # the premise of this test
    with pytest.raises(UnsafeArtifactFormat) as info:
        load_runtime("sklearn", tmp_path / "f.skops", {})
    assert any("_reverse_columns" in t for t in info.value.details["untrusted_types"])


def test_non_skops_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.skops").write_text("not a zip")
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime("sklearn", tmp_path / "m.skops", {})
