"""Fixtures for the artifact tests: ``backend`` runs the contract suite on every store implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.artifacts import LocalArtifactStore

from .backends import BACKENDS, Backend


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "store")
