from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from limelight.errors import UnsafeArtifactFormat, ValidationFailed
from limelight.runtimes import load_runtime

PARAMS = {"verbose": -1, "num_leaves": 7, "min_data_in_leaf": 5, "num_threads": 1}


def test_binary_booster_round_trip(tmp_path: Path, rows: tuple) -> None:
    x, y = rows
    booster = lgb.train({**PARAMS, "objective": "binary"}, lgb.Dataset(x, y), num_boost_round=10)
    booster.save_model(tmp_path / "m.txt")
    rt = load_runtime("lightgbm", tmp_path / "m.txt", {})
    out = rt.predict_batch([rt.validate_input(r) for r in x[:7].tolist()])
    np.testing.assert_allclose(out, booster.predict(x[:7]))
    assert rt.signature()["outputs"][0]["shape"] == [-1]
    with pytest.raises(ValidationFailed) as info:
        rt.validate_input([0.0] * 3)
    assert info.value.details["field"] == "features"


def test_multiclass_booster_gives_a_row_per_input(tmp_path: Path, rows: tuple) -> None:
    x, _ = rows
    y = (np.arange(len(x)) % 3).astype(int)
    booster = lgb.train(
        {**PARAMS, "objective": "multiclass", "num_class": 3}, lgb.Dataset(x, y), num_boost_round=5
    )
    booster.save_model(tmp_path / "m.txt")
    rt = load_runtime("lightgbm", tmp_path / "m.txt", {})
    out = rt.predict_batch(x[:4].tolist())
    assert len(out) == 4 and all(len(r) == 3 for r in out)
    assert rt.signature()["outputs"][0]["shape"] == [-1, 3]


def test_not_a_text_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("hello\nworld\n")
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime("lightgbm", tmp_path / "m.txt", {})
