"""``limelight predict`` / ``recommend`` against a model trained by a job (skips while the server lacks the routes)."""

from __future__ import annotations

import io

import httpx
import pytest

from limelight.schemas import JobState
from tests.cli.conftest import Cli
from tests.client.tenants import SdkTenant
from tests.support.factories import interactions_csv, tabular_csv, unique


def _require_route(url: str, verb: str) -> None:
    paths = httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"]
    # one route serves every verb (``…/{name}:{verb}``) or one route per verb (``…/{name}:predict``)
    if not any(path.startswith("/v1/models/") and path.endswith((":{verb}", f":{verb}")) for path in paths):
        pytest.skip(f"the server has no POST /v1/models/{{org}}/{{name}}:{verb} yet")


def _train(tenant: SdkTenant, recipe: str, kind: str, payload: bytes, params: dict[str, object]) -> str:
    with tenant.client() as client:
        dataset, model = unique("data"), unique("served")
        client.datasets.upload(tenant.org, io.BytesIO(payload), dataset, kind)
        job = client.jobs.submit(tenant.org, recipe, model, dataset=dataset, params=params, promote="production")
        assert client.jobs.wait(tenant.org, job.id, timeout_s=120, poll_interval_s=0.1).state == JobState.succeeded
    return model


def test_predict_prints_the_json_answer(cli: Cli) -> None:
    _require_route(cli.tenant.url, "predict")
    model = _train(cli.tenant, "classify/lightgbm", "tabular", tabular_csv(rows=300), {"num_boost_round": 10})
    answer = cli("predict", model, "[[0.5, -0.2, 0.1, 1.0]]", "--version", "1").json()
    assert answer["version"] == 1 and len(answer["outputs"]) == 1
    from_stdin = cli("predict", f"{cli.tenant.org}/{model}", "-", stdin="[[0.5, -0.2, 0.1, 1.0]]").json()
    assert from_stdin["outputs"] == answer["outputs"]


def test_recommend_prints_a_table_or_json(cli: Cli) -> None:
    _require_route(cli.tenant.url, "recommend")
    with cli.tenant.client() as client:
        recipes = sorted(r.name for r in client.recipes.list() if r.task == "recommend")
    if not recipes:
        pytest.skip("the server offers no recommend/* recipe yet")
    model = _train(cli.tenant, recipes[0], "interactions", interactions_csv(), {})
    answer = cli("recommend", model, "u1", "-k", "3", "--json").json()
    assert 0 < len(answer["items"]) <= 3
    table = cli("recommend", model, "u1", "-k", "3")
    assert "item_id" in table.out and answer["items"][0]["item_id"] in table.out and "version" in table.err


def test_classify_and_search_print_tables_or_json(cli: Cli) -> None:
    from tests.search import catalog_data
    from tests.text.synthetic import csv_bytes, labeled_rows

    classifier = _train(cli.tenant, "classify-text/tfidf", "labeled_text", csv_bytes(labeled_rows(240)), {})
    answer = cli("classify", classifier, "What a wonderful film!", "The hotel was dreadful.", "--json").json()
    assert [p["label"] for p in answer["predictions"]] == ["pos", "neg"]
    table = cli("classify", classifier, "Honestly a superb trip", "--top-k", "2")
    assert "pos" in table.out and "label" in table.out and "version 1" in table.err

    finder = _train(cli.tenant, "search/catalog", "items", catalog_data.items_csv(catalog_data.items(80)), {})
    found = cli("search", finder, catalog_data.RARE_QUERY, "--mode", "lexical", "--json").json()
    assert [i["item_id"] for i in found["items"]] == [catalog_data.RARE_ID]
    listed = cli("search", finder, "a ghost in an old house", "-k", "3", "--filters", '{"genres": ["Horror"]}')
    assert "item_id" in listed.out and "exact index" in listed.err


@pytest.mark.parametrize("ref", ["a/b/c", "demo/"])
def test_a_model_that_is_not_name_or_org_slash_name_is_a_usage_error(cli: Cli, ref: str) -> None:
    refused = cli("recommend", ref, "u1", expect=2)
    assert "is not NAME or ORG/NAME" in refused.err
