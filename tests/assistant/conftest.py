"""The shipped knowledge base indexed once per session with the real MiniLM encoder."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def encoder_cache(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return tmp_path_factory.mktemp("assistant-encoder-cache")


@pytest.fixture(scope="session")
def encoder(encoder_cache):  # type: ignore[no-untyped-def]
    from limelight.assistant.indexing import passage_encoder

    runtime = passage_encoder(encoder_cache)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def kb_index(encoder):  # type: ignore[no-untyped-def]
    from limelight.assistant.indexing import build_index
    from limelight.assistant.shipped import articles
    from limelight.recipes.assistant_rag import AssistantParams

    return build_index(articles(), AssistantParams().model_dump(mode="json"), encoder)


@pytest.fixture(scope="session")
def retriever(kb_index, encoder):  # type: ignore[no-untyped-def]
    from limelight.assistant.retrieval import Retriever
    from limelight.search.building import encode_with

    return Retriever(kb_index, encode_with(encoder))


@pytest.fixture(scope="module")
def assistant_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A SQLite-backed server whose requests may wait for an LLM answer on a busy CPU."""
    from tests.support.live_server import start_live_server

    home = tmp_path_factory.mktemp("assistant-server")
    live = start_live_server(home=home, database_url=f"sqlite:///{home / 'meta.db'}",
                             LIMELIGHT_SERVING__REQUEST_TIMEOUT_S="300")
    try:
        yield live
    finally:
        live.stop()
