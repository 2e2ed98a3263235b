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
