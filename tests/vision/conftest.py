from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from limelight.runtimes.base import LoadContext, load_runtime
from limelight.vision.runtime import ImageClassifierRuntime
from tests.vision.models import colour_classifier


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return colour_classifier(tmp_path_factory.mktemp("vision") / "colours.onnx")


@pytest.fixture(scope="module")
def runtime(colour_model: Path) -> Iterator[ImageClassifierRuntime]:
    loaded = load_runtime("image-classifier", colour_model, {}, LoadContext())
    assert isinstance(loaded, ImageClassifierRuntime)
    yield loaded
    loaded.close()
