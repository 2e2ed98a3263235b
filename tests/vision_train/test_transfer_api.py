"""From uploaded pictures to a served classifier, through the whole app in process: an images
dataset, a classify-image/transfer job in the real worker loop, then :classify on the version."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from limelight.workers.loop import run_worker
from tests.datasets_images.archives import zip_of
from tests.support.in_process import InProcessApp, in_process_app
from tests.vision_train.pictures import shape_picture


@pytest.fixture
def app(tmp_path: Path) -> Iterator[InProcessApp]:
    with in_process_app(tmp_path, f"sqlite:///{tmp_path / 'meta.db'}") as app:
        yield app


def test_a_trained_image_model_is_registered_and_classifies(app: InProcessApp) -> None:
    files = {f"{kind}/{i}.png": shape_picture(kind, i) for kind in ("circles", "squares") for i in range(8)}
    uploaded = app.client.post(f"/api/v1/orgs/{app.org}/datasets", files={"file": ("shapes.zip", zip_of(files))},
                               data={"name": "shapes", "kind": "images"})
    assert uploaded.status_code == 201, uploaded.text
    job = app.client.post(f"/api/v1/orgs/{app.org}/jobs", json={
        "recipe": "classify-image/transfer", "dataset": "shapes", "model": "shapes", "promote": "production",
        "params": {"image_size": 96, "time_budget_s": 60, "max_epochs": 1}})
    assert job.status_code == 201, job.text
    run_worker(app.settings, max_jobs=1, install_signals=False)
    done = app.client.get(f"/api/v1/orgs/{app.org}/jobs/{job.json()['id']}").json()
    assert done["state"] == "succeeded", done
    version = app.client.get(f"/api/v1/orgs/{app.org}/models/shapes/versions/1").json()
    assert version["runtime"] == "image-classifier" and version["format"] == "onnx"
    assert version["metrics"]["confusion_matrix"]["labels"] == ["circles", "squares"]
    sample = base64.b64encode(shape_picture("squares", 11)).decode()
    answer = app.client.post(f"/v1/models/{app.org}/shapes:classify", json={"images": [sample], "top_k": 2})
    assert answer.status_code == 200, answer.text
    prediction = answer.json()["predictions"][0]
    assert prediction["label"] == "squares" and {p["label"] for p in prediction["labels"]} == {"circles", "squares"}


def test_a_dataset_of_another_kind_is_refused_when_the_job_is_asked_for(app: InProcessApp) -> None:
    uploaded = app.client.post(f"/api/v1/orgs/{app.org}/datasets", files={"file": ("rows.csv", b"text,label\na,x\nb,y\n")},
                               data={"name": "rows", "kind": "labeled_text"})
    assert uploaded.status_code == 201, uploaded.text
    refused = app.client.post(f"/api/v1/orgs/{app.org}/jobs", json={
        "recipe": "classify-image/transfer", "dataset": "rows", "model": "other", "params": {}})
    assert 400 <= refused.status_code < 500, refused.text
    assert refused.json()["error"]["code"], refused.text
    assert app.client.get(f"/api/v1/orgs/{app.org}/jobs").json()["items"] == []  # nothing queued
