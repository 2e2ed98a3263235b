"""``/v1/embeddings`` and ``/v1/models`` through a real server with the official ``openai`` client."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import numpy as np
import pytest

from tests.serving.conftest import Served, add_version, create_model, set_alias, skops_bytes
from tests.support.factories import MINILM_META, Tenant, minilm_weights, new_tenant, ok
from tests.support.live_server import LiveServer

openai = pytest.importorskip("openai")
pytest.importorskip("torch")

TEXTS = ["a quiet film about a lighthouse", "loud", "an epic space opera with far too many sequels"]


@pytest.fixture(scope="module")
def minilm(tenant: Tenant) -> Served:
    """Two versions of MiniLM; `production` points at version 1."""
    model = create_model(tenant, task="embed")
    assert add_version(model, minilm_weights(), MINILM_META) == 1
    assert add_version(model, minilm_weights(), MINILM_META) == 2
    set_alias(model, "production", 1)
    return model


@pytest.fixture(scope="module")
def foreign(sqlite_server: LiveServer) -> tuple[Served, Served]:
    """Another org's (private, public) models."""
    stranger = new_tenant(sqlite_server)  # an owner: publishing needs org:maintain
    private = create_model(stranger, task="embed")
    add_version(private, minilm_weights(), MINILM_META)
    public = create_model(stranger, task="classify", visibility="public")
    add_version(public, skops_bytes(), {"runtime": "sklearn"})
    return private, public


def client_for(tenant: Tenant, key: str | None = None) -> Any:
    return openai.OpenAI(base_url=f"{tenant.server.url}/v1", api_key=key or tenant.key, max_retries=0)


def ref(model: Served) -> str:
    return f"{model.org}/{model.name}"


def native_embed(model: Served, texts: list[str]) -> np.ndarray:
    with model.client() as client:
        return np.array(ok(client.post(f"{model.path}:embed", json={"inputs": texts}))["embeddings"])


def token_counts(texts: list[str]) -> list[int]:
    from limelight.runtimes.sentence_embedding import _tokenizer, bundled_minilm_dir

    tokenizer = _tokenizer(bundled_minilm_dir(), 256)
    return [len(tokenizer.encode(t).ids) for t in texts]


def test_float_and_base64_match_embed_in_order_with_token_usage(minilm: Served) -> None:
    client = client_for(minilm.tenant)
    floats = client.embeddings.create(model=ref(minilm), input=TEXTS, encoding_format="float")
    packed = client.embeddings.with_raw_response.create(model=ref(minilm), input=TEXTS, encoding_format="base64")
    expected = native_embed(minilm, TEXTS)
    assert [d.index for d in floats.data] == [0, 1, 2] and floats.model == ref(minilm)
    assert np.allclose(np.array([d.embedding for d in floats.data]), expected, atol=1e-5)
    assert packed.headers["limelight-model-version"] == "1"
    raw = packed.http_response.json()
    assert raw["object"] == "list" and raw["data"][0]["object"] == "embedding"
    decoded = np.array([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in raw["data"]])
    assert decoded.shape == (3, 384) and np.allclose(decoded, expected, atol=1e-5)
    assert sum(token_counts(TEXTS)) == floats.usage.prompt_tokens == floats.usage.total_tokens
    assert floats.usage.prompt_tokens > len(TEXTS) * 2  # [CLS] and [SEP] alone would be 6


def test_one_string_alias_and_version_suffixes(minilm: Served) -> None:
    client = client_for(minilm.tenant)
    one = client.embeddings.with_raw_response.create(model=f"{ref(minilm)}:2", input="loud", dimensions=384)
    assert one.headers["limelight-model-version"] == "2"
    parsed = one.parse()
    assert len(parsed.data) == 1 and parsed.usage.prompt_tokens == token_counts(["loud"])[0]
    assert np.allclose(parsed.data[0].embedding, native_embed(minilm, ["loud"])[0], atol=1e-5)
    aliased = client.embeddings.with_raw_response.create(model=f"{ref(minilm)}:production", input=["x"])
    assert aliased.headers["limelight-model-version"] == "1"
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model=f"{ref(minilm)}:no-such-alias", input="x")
    with pytest.raises(openai.BadRequestError) as wrong_dim:
        client.embeddings.create(model=ref(minilm), input="x", dimensions=128)
    assert wrong_dim.value.param == "dimensions"


def test_async_client(minilm: Served) -> None:
    async def run() -> Any:
        async with openai.AsyncOpenAI(base_url=f"{minilm.tenant.server.url}/v1", api_key=minilm.tenant.key,
                                      max_retries=0) as client:
            return await asyncio.gather(*(client.embeddings.create(model=ref(minilm), input=[t]) for t in TEXTS))

    results = asyncio.run(run())
    got = np.array([r.data[0].embedding for r in results])
    assert np.allclose(got, native_embed(minilm, TEXTS), atol=1e-5)


def test_tenancy_and_keys(minilm: Served, foreign: tuple[Served, Served]) -> None:
    private, public = foreign
    client = client_for(minilm.tenant)
    with pytest.raises(openai.NotFoundError) as hidden:
        client.embeddings.create(model=ref(private), input="x")
    assert hidden.value.code == "not_found" and hidden.value.type == "not_found_error"
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model=f"{minilm.org}/no-such-model", input="x")
    with pytest.raises(openai.AuthenticationError) as bad_key:
        client_for(minilm.tenant, key="ll_wrong").embeddings.create(model=ref(minilm), input="x")
    assert bad_key.value.type == "authentication_error"
    with pytest.raises(openai.BadRequestError) as not_embedding:  # visible, public, but a classifier
        client.embeddings.create(model=ref(public), input="x")
    assert not_embedding.value.code == "invalid_params" and not_embedding.value.param == "model"


@pytest.mark.parametrize(("extra", "error", "param"), [
    ({"input": []}, "UnprocessableEntityError", "input"),
    ({"input": ""}, "UnprocessableEntityError", "input"),
    ({"input": ["ok", 3]}, "UnprocessableEntityError", "input[1]"),
    ({"input": [[101, 2023, 102]]}, "BadRequestError", "input"),
    ({"input": [1, 2, 3]}, "BadRequestError", "input"),
    ({"input": "x", "extra_body_field": 1}, "BadRequestError", "extra_body_field"),
    ({"input": "x", "encoding_format": "int8"}, "UnprocessableEntityError", "encoding_format"),
    ({"input": ["x"] * 1025}, "UnprocessableEntityError", "input"),
])
def test_bad_input_is_a_clear_4xx(minilm: Served, extra: dict[str, Any], error: str, param: str) -> None:
    body = {"model": ref(minilm), **extra}
    with pytest.raises(getattr(openai, error)) as caught:
        client_for(minilm.tenant).post("/embeddings", body=body, cast_to=httpx.Response)
    assert caught.value.param == param
    assert set(caught.value.body) >= {"code", "message", "details", "request_id", "type", "param"}


def test_models_list_own_and_public_not_foreign_private(minilm: Served, foreign: tuple[Served, Served]) -> None:
    private, public = foreign
    client = client_for(minilm.tenant)
    ids = {m.id for m in client.models.list()}
    assert {ref(minilm), ref(public)} <= ids and ref(private) not in ids
    one = client.models.retrieve(ref(minilm))
    assert one.id == ref(minilm) and one.owned_by == minilm.org and one.object == "model" and one.created > 1e9
    assert client.models.retrieve(ref(public)).owned_by == public.org
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve(ref(private))
    with pytest.raises(openai.AuthenticationError):
        client_for(minilm.tenant, key="ll_wrong").models.list()
