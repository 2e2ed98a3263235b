"""Model cards generated from the run: facts from the job (recipe, data, metrics, candidates, latency,
schema, limitations), prose the owners edit, and snippets that run as printed against a live server."""

from __future__ import annotations

import pytest

from tests.support.factories import interactions_csv, new_tenant, ok, skops_model_bytes, tabular_csv
from tests.support.job_events import follow_job
from tests.support.snippets import run_snippets
from tests.text.synthetic import csv_bytes, labeled_rows


@pytest.fixture(scope="module")
def trained(server):  # type: ignore[no-untyped-def]
    """A LightGBM classifier and an auto recommender, both trained by jobs, and an uploaded model."""
    tenant = new_tenant(server)
    with tenant.client() as client:
        for name, kind, data in (("churn", "tabular", tabular_csv(seed=3)),
                                 ("views", "interactions", interactions_csv(users=40, items=30)),
                                 ("reviews", "labeled_text", csv_bytes(labeled_rows(200)))):
            ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": (f"{name}.csv", data)},
                           data={"name": name, "kind": kind}))
        jobs = [ok(client.post(f"/api/v1/orgs/{tenant.org}/jobs", json=body)) for body in (
            {"recipe": "classify/lightgbm", "dataset": "churn", "model": "churn-card", "params": {"num_boost_round": 30}},
            {"recipe": "recommend/auto", "dataset": "views", "model": "recs-card"},
            {"recipe": "classify-text/tfidf", "dataset": "reviews", "model": "text-card"})]
        for job in jobs:
            assert follow_job(client, tenant.org, job["id"], timeout_s=300)["state"] == "succeeded"
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": "uploaded", "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models/uploaded/versions",
                       files={"file": ("m.skops", skops_model_bytes())}, data={"meta": '{"runtime": "sklearn"}'}))
    return tenant


def _card(tenant, name: str, **params) -> dict:  # type: ignore[no-untyped-def, type-arg]
    with tenant.client() as client:
        return ok(client.get(f"/api/v1/orgs/{tenant.org}/models/{name}/card", params=params))


def test_facts_come_from_the_run(trained):
    card = _card(trained, "churn-card")
    facts = card["facts"]
    assert card["version"] == 1 and card["model"] == f"{trained.org}/churn-card"
    assert "`classify/lightgbm`" in facts and "`num_boost_round=30`" in facts
    assert "dataset `churn` v1 (400 rows, tabular)" in facts
    assert "| accuracy |" in facts and "| roc_auc |" in facts
    assert "p50 " in facts and "over 50 calls of the example" in facts
    assert "`tenure`" in facts and "### Limitations" in facts and "extrapolated" in facts
    assert card["example"]["verb"] == "predict" and set(card["example"]["body"]["inputs"][0]) == \
        {"tenure", "spend", "visits", "age"}
    assert len(card["example_answer"]["outputs"]) == 1  # what the example returned at registration

    text = _card(trained, "text-card")
    assert "`classify-text/tfidf`" in text["facts"] and "p50 " in text["facts"] and "Knows only the labels" in text["facts"]

    recs = _card(trained, "recs-card")
    assert "### Candidates compared" in recs["facts"] and "`recommend/auto`" in recs["facts"]
    assert recs["example"]["verb"] == "recommend" and "fallback: popularity" in recs["facts"]


def test_owners_edit_the_prose_never_the_facts(trained):
    before = _card(trained, "churn-card")
    with trained.client() as client:
        ok(client.patch(f"/api/v1/orgs/{trained.org}/models/churn-card", json={"card": "# Churn\n\nOur words."}))
    after = _card(trained, "churn-card")
    assert after["prose"] == "# Churn\n\nOur words." and after["facts"] == before["facts"]


def test_an_uploaded_version_says_it_has_no_run_facts(trained):
    card = _card(trained, "uploaded")
    assert "no run facts recorded" in card["facts"] and card["snippets"] == [] and card["example"] is None
    with trained.client() as client:
        assert client.get(f"/api/v1/orgs/{trained.org}/models/uploaded/card", params={"version": 9}).status_code == 404


@pytest.mark.parametrize(("model", "key"), [("churn-card", "outputs"), ("recs-card", "items"),
                                            ("text-card", "predictions")])
def test_every_snippet_runs_as_printed_against_the_server(trained, server, model, key):
    card = _card(trained, model)
    assert {s["kind"] for s in card["snippets"]} == {"curl", "python", "cli"}
    assert all(server.url in s["code"] for s in card["snippets"])  # the server as the caller reached it
    for kind, answer in run_snippets(card, trained.key, timeout_s=120).items():
        assert answer[key] and answer["version"] == 1, (kind, str(answer)[:300])
