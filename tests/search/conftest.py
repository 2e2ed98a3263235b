"""A search model built in-process with the real MiniLM encoder (shared by the unit tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.search import catalog_data


@pytest.fixture(scope="session")
def encoder(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from limelight.search.building import minilm_encoder

    runtime = minilm_encoder(tmp_path_factory.mktemp("encoder-cache"))
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def search_model(encoder):  # type: ignore[no-untyped-def]
    from limelight.recipes.search_catalog import SearchParams
    from limelight.search.building import build_model

    table = catalog_data.items_table(catalog_data.items(200))
    return build_model(table, SearchParams().model_dump(mode="json"), encoder)


@pytest.fixture(scope="session")
def engine_for(search_model, encoder):  # type: ignore[no-untyped-def]
    """engine_for(fusion=..., semantic_weight=...): an engine over the shared model."""
    import copy

    from limelight.recsys.catalog import Catalog
    from limelight.search.building import encode_with
    from limelight.search.dense import DenseIndex
    from limelight.search.engine import SearchEngine

    def build(**params):  # type: ignore[no-untyped-def]
        model = copy.copy(search_model)
        model.metadata = {**search_model.metadata, "params": {**search_model.metadata["params"], **params}}
        catalog = Catalog.from_metadata(model.item_ids, model.titles, model.metadata["catalog"])
        return SearchEngine(model, DenseIndex(model.embeddings, ann=False), catalog, encode_with(encoder))

    return build


@pytest.fixture
def artifact(search_model, tmp_path: Path) -> Path:
    from limelight.search.artifact import save_model

    path = tmp_path / "search.npz"
    save_model(path, search_model)
    return path
