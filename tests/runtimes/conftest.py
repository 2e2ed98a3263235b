from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def pickle_file(tmp_path: Path) -> Path:
    """A pickle a user might upload; written by the test, never loaded by limelight."""
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weights": np.arange(3.0)}, protocol=pickle.HIGHEST_PROTOCOL))
    return path


@pytest.fixture
def rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6))
    y = (x @ rng.normal(size=6) > 0).astype(int)
    return x, y
