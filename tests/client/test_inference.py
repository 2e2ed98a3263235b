"""Inference through the SDK: a model trained by a job is called by version and by alias.

The inference API (``/v1/models/{org}/{name}:verb``) and the recommender recipes are written in
parallel with this SDK; these tests skip, saying so, while the server lacks them.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from limelight.client import AsyncClient, Client
from limelight.errors import NotFound
from limelight.schemas import JobState
from tests.client.tenants import SdkTenant
from tests.support.factories import interactions_csv, tabular_csv, unique


def _require_route(tenant: SdkTenant, verb: str) -> None:
    paths = httpx.get(f"{tenant.url}/openapi.json", timeout=30).json()["paths"]
    # one route serves every verb (``…/{name}:{verb}``) or one route per verb (``…/{name}:predict``)
    if not any(path.startswith("/v1/models/") and path.endswith((":{verb}", f":{verb}")) for path in paths):
        pytest.skip(f"the server has no POST /v1/models/{{org}}/{{name}}:{verb} yet")


@dataclass(frozen=True)
class Trained:
    org: str
    name: str
    version: int

    @property
    def model(self) -> str:
        return f"{self.org}/{self.name}"


def _train(client: Client, org: str, recipe: str, kind: str, payload: bytes, params: dict[str, object]) -> Trained:
    dataset = unique("data")
    client.datasets.upload(org, io.BytesIO(payload), dataset, kind)
    model = unique("served")
    job = client.jobs.submit(org, recipe, model, dataset=dataset, params=params, promote="production")
    done = client.jobs.wait(org, job.id, timeout_s=120, poll_interval_s=0.1)
    assert done.state == JobState.succeeded, done.error
    return Trained(org, model, int(done.result["version"]))


@pytest.fixture(scope="module")
def classifier(tenant: SdkTenant) -> Trained:
    _require_route(tenant, "predict")
    with tenant.client() as client:
        return _train(client, tenant.org, "classify/lightgbm", "tabular", tabular_csv(rows=300),
                      {"num_boost_round": 10})


def test_predict_by_default_alias_and_by_version(client: Client, classifier: Trained) -> None:
    rows = [[0.5, -0.2, 0.1, 1.0], [-1.5, -1.0, 0.0, 0.3]]
    answer = client.predict(classifier.model, rows)
    assert answer["model"] == classifier.model
    assert answer["version"] == classifier.version and len(answer["outputs"]) == 2
    assert client.predict(classifier.model, rows, version=classifier.version)["outputs"] == answer["outputs"]
    assert client.predict(classifier.model, rows[:1], alias="production")["version"] == classifier.version


def test_the_old_org_and_name_form_still_answers_with_a_deprecation_warning(client: Client,
                                                                            classifier: Trained) -> None:
    rows = [[0.5, -0.2, 0.1, 1.0]]
    expected = client.predict(classifier.model, rows)["outputs"]
    with pytest.warns(DeprecationWarning, match=r"pass the model as 'org/name'"):
        assert client.predict(classifier.org, classifier.name, rows)["outputs"] == expected

    async def both_forms() -> tuple[dict[str, Any], dict[str, Any]]:
        async with AsyncClient(client.base_url, client.api_key, timeout=30) as sdk:
            new = await sdk.predict(classifier.model, rows)
            with pytest.warns(DeprecationWarning, match=r"AsyncClient\.predict\(org, name"):
                old = await sdk.predict(classifier.org, classifier.name, rows)
            return new, old

    new, old = asyncio.run(both_forms())
    assert new["outputs"] == old["outputs"] == expected and new["model"] == classifier.model


def test_predict_on_a_missing_model_is_not_found(client: Client, tenant: SdkTenant) -> None:
    _require_route(tenant, "predict")
    with pytest.raises(NotFound) as info:
        client.predict(f"{tenant.org}/{unique('absent')}", [[1.0]])
    assert info.value.request_id  # type: ignore[attr-defined]


def test_recommend_and_similar(client: Client, tenant: SdkTenant) -> None:
    _require_route(tenant, "recommend")
    recipes = sorted(r.name for r in client.recipes.list() if r.task == "recommend")
    if not recipes:
        pytest.skip("the server offers no recommend/* recipe yet")
    trained = _train(client, tenant.org, recipes[0], "interactions", interactions_csv(), {})
    answer = client.recommend(trained.model, "u1", k=5)
    items = answer["items"]
    assert 0 < len(items) <= 5 and all("item_id" in item and "score" in item for item in items)
    assert answer["version"] == trained.version
    seen_excluded = {item["item_id"] for item in items}
    with_seen = client.recommend(trained.model, "u1", k=5, exclude_seen=False)
    assert len(with_seen["items"]) == 5 and seen_excluded
    _require_route(tenant, "similar")
    similar = client.similar(trained.model, items[0]["item_id"], k=3)
    assert 0 < len(similar["items"]) <= 3


def test_classify_and_search_through_the_sdk(client: Client, tenant: SdkTenant) -> None:
    import io

    from limelight.schemas import JobState
    from tests.search import catalog_data
    from tests.text.synthetic import csv_bytes, labeled_rows

    def train(recipe: str, kind: str, payload: bytes, model: str) -> None:
        client.datasets.upload(tenant.org, io.BytesIO(payload), model + "-data", kind)
        job = client.jobs.submit(tenant.org, recipe, model, dataset=model + "-data", promote="production")
        assert client.jobs.wait(tenant.org, job.id, timeout_s=120, poll_interval_s=0.1).state == JobState.succeeded

    train("classify-text/tfidf", "labeled_text", csv_bytes(labeled_rows(240)), "sdk-sentiment")
    answer = client.classify(f"{tenant.org}/sdk-sentiment", ["What a wonderful film!"], top_k=3)
    assert answer["predictions"][0]["label"] == "pos" and len(answer["predictions"][0]["labels"]) == 3
    train("search/catalog", "items", catalog_data.items_csv(catalog_data.items(80)), "sdk-finder")
    found = client.search(f"{tenant.org}/sdk-finder", catalog_data.RARE_QUERY, 5, mode="lexical")
    assert [i["item_id"] for i in found["items"]] == [catalog_data.RARE_ID] and found["index"] == "exact"
