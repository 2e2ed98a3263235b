"""A churn table with a text column, uploaded as CSV, trained by classify/lightgbm and called with
named features, all through the whole app in process (the job runs in the real worker loop)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from limelight.workers.loop import run_worker
from tests.runtimes.test_tabular_features import churn_table
from tests.support.factories import error_code
from tests.support.in_process import InProcessApp, in_process_app


@pytest.fixture
def trained(tmp_path: Path) -> Iterator[InProcessApp]:
    with in_process_app(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}") as app:
        csv = io.BytesIO()
        pacsv.write_csv(churn_table(), csv)
        org = app.org
        uploaded = app.client.post(f"/api/v1/orgs/{org}/datasets", files={"file": ("churn.csv", csv.getvalue())},
                                   data={"name": "churn", "kind": "tabular", "target": "target"})
        assert uploaded.status_code == 201, uploaded.text
        job = app.client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "classify/lightgbm", "dataset": "churn", "model": "churn", "promote": "production",
            "params": {"num_boost_round": 60}})
        assert job.status_code == 201, job.text
        run_worker(app.settings, max_jobs=1, install_signals=False)
        done = app.client.get(f"/api/v1/orgs/{org}/jobs/{job.json()['id']}").json()
        assert done["state"] == "succeeded", done
        yield app


def test_named_features_are_served_and_problems_answer_422_by_name(trained: InProcessApp) -> None:
    url = f"/v1/models/{trained.org}/churn:predict"
    answer = trained.client.post(url, json={"inputs": [{"tenure": 3, "plan": "basic"},
                                                        {"plan": "family", "tenure": 3},
                                                        {"plan": "student", "tenure": 3}]})
    assert answer.status_code == 200, answer.text
    basic, family, unseen = answer.json()["outputs"]
    assert basic > family and 0 < unseen < 1
    wrong = trained.client.post(url, json={"inputs": [{"plan": "basic", "age": 40}]})
    assert wrong.status_code == 422 and error_code(wrong) == "validation_failed"
    problems = wrong.json()["error"]["details"]["problems"]
    assert {p["field"] for p in problems} == {"age", "tenure"}
    version = trained.client.get(f"/api/v1/orgs/{trained.org}/models/churn/versions/1").json()
    assert version["signature"]["inputs"][0]["names"] == ["plan", "tenure"]
    assert version["metrics"]["feature_importance"]["plan"] > 0


def test_kserve_v2_takes_one_named_tensor_per_feature(trained: InProcessApp) -> None:
    url = f"/v2/models/{trained.org}.churn/infer"
    native = trained.client.post(f"/v1/models/{trained.org}/churn:predict",
                                 json={"inputs": [{"tenure": 3, "plan": "basic"}, {"tenure": 30, "plan": "family"}]})
    assert native.status_code == 200, native.text
    columns = trained.client.post(url, json={"inputs": [
        {"name": "plan", "datatype": "BYTES", "shape": [2], "data": ["basic", "family"]},
        {"name": "tenure", "datatype": "FP64", "shape": [2, 1], "data": [3, 30]}]})
    assert columns.status_code == 200, columns.text
    assert columns.json()["outputs"][0]["data"] == pytest.approx(native.json()["outputs"])
    missing = trained.client.post(url, json={"inputs": [
        {"name": "plan", "datatype": "BYTES", "shape": [1], "data": ["basic"]}]})
    assert missing.status_code == 422 and "tenure" in missing.text
    unknown = trained.client.post(url, json={"inputs": [
        {"name": "plan", "datatype": "BYTES", "shape": [1], "data": ["basic"]},
        {"name": "age", "datatype": "FP64", "shape": [1], "data": [40]}]})
    assert unknown.status_code == 422 and "age" in unknown.text
    wide = trained.client.post(url, json={"inputs": [
        {"name": "tenure", "datatype": "FP64", "shape": [1, 2], "data": [3, 4]},
        {"name": "plan", "datatype": "BYTES", "shape": [1], "data": ["basic"]}]})
    assert wide.status_code == 422 and "one value per row" in wide.text
