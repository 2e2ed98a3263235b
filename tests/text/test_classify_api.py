"""Text classification end to end through a real server: upload a labelled CSV, train tfidf and
embeddings, classify through ``:classify``, ``:predict`` and KServe v2, and clear 4xx on bad input."""

from __future__ import annotations

import json

import pytest

from tests.support.factories import error_code, new_tenant, ok, wait_for_job
from tests.text.synthetic import csv_bytes, labeled_rows, multi_label_rows


def _upload(client, org: str, name: str, data: bytes) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return ok(client.post(f"/api/v1/orgs/{org}/datasets", files={"file": (f"{name}.csv", data)},
                          data={"name": name, "kind": "labeled_text"}))


def _train(client, org: str, recipe: str, dataset: str, model: str, params: dict | None = None) -> dict:  # type: ignore[no-untyped-def, type-arg]
    job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
        "recipe": recipe, "dataset": dataset, "model": model, "promote": "production", "params": params or {}}))
    return wait_for_job(client, org, job["id"], timeout_s=240)


@pytest.fixture(scope="module")
def text_tenant(sqlite_server):  # type: ignore[no-untyped-def]
    tenant = new_tenant(sqlite_server)
    with tenant.client() as client:
        _upload(client, tenant.org, "reviews", csv_bytes(labeled_rows(300)))
        tenant.tfidf = _train(client, tenant.org, "classify-text/tfidf", "reviews", "sentiment")  # type: ignore[attr-defined]
    assert tenant.tfidf["state"] == "succeeded", tenant.tfidf  # type: ignore[attr-defined]
    return tenant


def _classify(client, org: str, body: dict, model: str = "sentiment"):  # type: ignore[no-untyped-def, type-arg]
    return client.post(f"/v1/models/{org}/{model}:classify", json=body)


def test_tfidf_version_carries_metrics_and_metric_log_points(text_tenant):
    metrics = text_tenant.tfidf["result"]["metrics"]
    assert metrics["accuracy"] > 0.9 and metrics["macro_f1"] > 0.9
    assert set(metrics["per_class"]) == {"neg", "neu", "pos"}
    assert metrics["confusion_matrix"]["labels"] == ["neg", "neu", "pos"]
    assert len(metrics["calibration"]["bins"]) == 10 and 0 <= metrics["calibration"]["ece"] <= 1
    with text_tenant.client() as client:
        stream = client.get(f"/api/v1/orgs/{text_tenant.org}/jobs/{text_tenant.tfidf['id']}/logs")
    lines = [json.loads(line[len("data: "):]) for line in stream.text.splitlines() if line.startswith("data: ")]
    points = [json.loads(entry["message"]) for entry in lines if entry.get("level") == "metric"]
    assert points and points[0]["step"] == 1 and points[0]["macro_f1"] == metrics["macro_f1"]


def test_classify_one_and_many_texts(text_tenant):
    org = text_tenant.org
    with text_tenant.client() as client:
        one = ok(_classify(client, org, {"text": "What a wonderful concert!"}))
        many = ok(_classify(client, org, {"texts": ["The meal was awful.", "A plain book", "lovely trip " * 5000],
                                          "top_k": 3}))
    assert one["model"] == f"{org}/sentiment" and one["version"] == 1
    [p] = one["predictions"]
    assert p["label"] == "pos" and len(p["labels"]) == 1 and p["truncated"] is False and 0.33 < p["score"] <= 1
    assert [x["label"] for x in many["predictions"]] == ["neg", "neu", "pos"]
    assert all(len(x["labels"]) == 3 for x in many["predictions"])
    scores = [s["score"] for s in many["predictions"][0]["labels"]]
    assert scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1, abs=1e-4)
    assert [x["truncated"] for x in many["predictions"]] == [False, False, True]


def test_kserve_v2_bytes_in_label_and_probabilities_out(text_tenant):
    org = text_tenant.org
    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2],
                        "data": ["Honestly a dreadful hotel", "I found the game superb overall"]}]}
    with text_tenant.client() as client:
        answer = ok(client.post(f"/v2/models/{org}.sentiment/infer", json=body))
        predicted = ok(client.post(f"/v1/models/{org}/sentiment:predict", json={"inputs": ["A typical phone"]}))
    outputs = {o["name"]: o for o in answer["outputs"]}
    assert outputs["label"]["datatype"] == "BYTES" and outputs["label"]["data"] == ["neg", "pos"]
    assert outputs["probabilities"]["datatype"] == "FP32" and outputs["probabilities"]["shape"] == [2, 3]
    assert json.dumps(predicted).count('"neu"') >= 1


def test_grpc_classifies_bytes_texts_like_classify(text_tenant, sqlite_server):
    grpcclient = pytest.importorskip("tritonclient.grpc")
    import numpy as np

    texts = ["Honestly a dreadful hotel", "I found the game superb overall", "A typical phone"]
    tensor = grpcclient.InferInput("text", [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=object))
    client = grpcclient.InferenceServerClient(f"127.0.0.1:{sqlite_server.grpc_port}")
    try:
        result = client.infer(f"{text_tenant.org}.sentiment", [tensor],
                              headers={"authorization": f"Bearer {text_tenant.key}"})
    finally:
        client.close()
    with text_tenant.client() as http:
        native = ok(_classify(http, text_tenant.org, {"texts": texts, "top_k": 3}))
    labels = [label.decode() for label in result.as_numpy("label")]
    assert labels == [p["label"] for p in native["predictions"]] == ["neg", "pos", "neu"]
    probabilities = result.as_numpy("probabilities")
    assert probabilities.shape == (3, 3) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("body, field", [
    ({"text": ""}, "texts"),
    ({"text": "   \n\t"}, "texts"),
    ({"texts": ["fine", 42]}, "texts"),
    ({"texts": ["x"] * 1025}, "texts"),
    ({"texts": []}, "texts"),
    ({"text": "fine", "mood": "happy"}, "mood"),
    ({"text": "fine", "top_k": 4}, "top_k"),
    ({"text": "fine", "threshold": 0.3}, "threshold"),
])
def test_bad_classify_requests_get_422_naming_the_field(text_tenant, body, field):
    with text_tenant.client() as client:
        response = _classify(client, text_tenant.org, body)
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_failed"
    assert response.json()["error"]["details"]["field"] == field


def test_empty_text_through_kserve_is_a_422(text_tenant):
    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [" "]}]}
    with text_tenant.client() as client:
        response = client.post(f"/v2/models/{text_tenant.org}.sentiment/infer", json=body)
    # KServe v2 errors are {"error": message} with limelight's code alongside
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"
    assert response.json()["details"]["field"] == "texts"


def test_another_orgs_model_is_404(text_tenant, sqlite_server):
    stranger = new_tenant(sqlite_server)
    with stranger.client() as client:
        response = _classify(client, text_tenant.org, {"text": "What a wonderful concert!"})
        v2 = client.post(f"/v2/models/{text_tenant.org}.sentiment/infer",
                         json={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["x"]}]})
    assert response.status_code == 404 and v2.status_code == 404


def test_single_class_dataset_fails_the_job_with_a_clear_error_and_no_version(text_tenant):
    org = text_tenant.org
    with text_tenant.client() as client:
        _upload(client, org, "onlyspam", csv_bytes([(f"buy cheap thing number {i}", "spam") for i in range(30)]))
        job = _train(client, org, "classify-text/tfidf", "onlyspam", "spam-filter")
        versions = client.get(f"/api/v1/orgs/{org}/models/spam-filter/versions")
    assert job["state"] == "failed" and job["error"].startswith("invalid_params") and "single class" in job["error"]
    assert versions.status_code == 404 or ok(versions).get("items") == []


def test_latin1_upload_is_decoded_and_trains(text_tenant):
    org = text_tenant.org
    rows = [(f"Le café était {'délicieux' if i % 2 else 'mauvais'} numéro {i}", "bon" if i % 2 else "mal")
            for i in range(60)]
    data = ("text,label\n" + "\n".join(f"{t},{lab}" for t, lab in rows) + "\n").encode("latin-1")
    with text_tenant.client() as client:
        _upload(client, org, "cafe", data)
        job = _train(client, org, "classify-text/tfidf", "cafe", "cafe")
        answer = ok(_classify(client, org, {"text": "Le café était délicieux"}, model="cafe"))
    assert job["state"] == "succeeded", job
    assert answer["predictions"][0]["label"] == "bon"


def test_multi_label_model_returns_tags_over_their_thresholds(text_tenant):
    org = text_tenant.org
    with text_tenant.client() as client:
        _upload(client, org, "visits", csv_bytes(multi_label_rows()))
        job = _train(client, org, "classify-text/tfidf", "visits", "visit-tags", {"multi_label": True})
        assert job["state"] == "succeeded", (job["error"], job["message"])
        both = ok(_classify(client, org, {"text": "We had rude waiter and cheap bill tonight"}, model="visit-tags"))
        loose = ok(_classify(client, org, {"text": "We had tasty pasta tonight", "threshold": 0.0},
                             model="visit-tags"))
        strict = ok(_classify(client, org, {"text": "We had rude waiter and cheap bill tonight",
                                            "threshold": {"price": 1.0}}, model="visit-tags"))
        unknown = _classify(client, org, {"text": "We had tasty pasta", "threshold": {"parking": 0.2}},
                            model="visit-tags")
        out_of_range = _classify(client, org, {"text": "We had tasty pasta", "threshold": {"food": 2}},
                                 model="visit-tags")
    assert {x["label"] for x in both["predictions"][0]["labels"]} == {"service", "price"}
    assert len(loose["predictions"][0]["labels"]) == 3
    assert {x["label"] for x in strict["predictions"][0]["labels"]} == {"service"}  # price needs 1.0 now
    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["field"] == "threshold.parking"
    assert unknown.json()["error"]["details"]["reason"] == "unknown_label"
    assert out_of_range.status_code == 422 and out_of_range.json()["error"]["details"]["field"] == "threshold.food"
    assert job["result"]["metrics"]["macro_f1"] > 0.9


@pytest.mark.parametrize(("params", "features", "c"), [({}, "layers", 0.01),
                                                       ({"features": "sentence"}, "sentence", 1.0)])
def test_embeddings_recipe_trains_and_serves(text_tenant, params, features, c):
    org = text_tenant.org
    model = f"sentiment-emb-{features}"
    with text_tenant.client() as client:
        job = _train(client, org, "classify-text/embeddings", "reviews", model, params)
        assert job["state"] == "succeeded", (job["error"], job["message"])
        answer = ok(_classify(client, org, {"texts": ["The hotel was excellent.", "What a horrible trip!"]},
                              model=model))
    assert job["result"]["metrics"]["macro_f1"] > 0.8
    [row] = job["result"]["summary"]["candidates"]
    assert row["features"] == features and row["C"] == c
    assert [p["label"] for p in answer["predictions"]] == ["pos", "neg"]


def test_auto_compares_candidates_and_skips_finetune_when_the_budget_is_short(text_tenant):
    org = text_tenant.org
    with text_tenant.client() as client:
        job = _train(client, org, "classify-text/auto", "reviews", "sentiment-auto",
                     {"candidates": ["tfidf", "finetune"], "time_budget_minutes": 0.5})
    assert job["state"] == "succeeded", job
    table = job["result"]["summary"]["candidates"]
    assert table[0]["kind"] == "tfidf" and table[0]["macro_f1"] > 0.9
    assert table[1] == {"kind": "finetune", "skipped": "time budget"}
    assert job["result"]["summary"]["winner"] == "tfidf" and job["result"]["metrics"]["candidates"] == table


def test_finetune_recipe_trains_a_few_steps_exports_onnx_and_serves(text_tenant):
    org = text_tenant.org
    params = {"epochs": 1, "max_length": 16, "batch_size": 16, "eval_every_steps": 4, "threads": 1,
              "max_train_examples": 96, "time_budget_minutes": 5}
    with text_tenant.client() as client:
        job = _train(client, org, "classify-text/finetune", "reviews", "sentiment-ft", params)
        assert job["state"] == "succeeded", (job["error"], job["message"])
        long_text = "The concert was wonderful " + "and the band played on " * 20
        answer = ok(_classify(client, org, {"texts": ["The meal was superb.", long_text], "top_k": 3},
                              model="sentiment-ft"))
        version = ok(client.get(f"/api/v1/orgs/{org}/models/sentiment-ft/versions/1"))
        stream = client.get(f"/api/v1/orgs/{org}/jobs/{job['id']}/logs")
    assert version["runtime"] == "text-classifier" and version["validation"]["status"] == "passed"
    points = [json.loads(entry["message"]) for entry in
              (json.loads(line[len("data: "):]) for line in stream.text.splitlines() if line.startswith("data: "))
              if entry.get("level") == "metric"]
    assert any("loss" in p for p in points) and points[-1]["step"] >= 4
    first, second = answer["predictions"]
    assert {x["label"] for x in first["labels"]} == {"neg", "neu", "pos"}
    assert abs(sum(x["score"] for x in first["labels"]) - 1) < 1e-4
    assert not first["truncated"] and second["truncated"]
