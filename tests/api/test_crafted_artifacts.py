"""Crafted artifacts through a real server: each is refused with a 4xx or served correctly, the
server process stays up, ``/healthz`` answers after every one, and a refusal stores nothing.

The validator's limits are lowered here so the hanging case (a LightGBM tree whose child points
back up the tree) is cut off by its CPU limit within seconds instead of minutes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.artifacts.crafted import CORPUS, Crafted
from tests.support.factories import error_code, lightgbm_model_bytes, ok, register_unvalidated_version
from tests.support.live_server import LiveServer, start_live_server

REFUSAL_CODES = {"unsafe_artifact_format", "artifact_invalid", "validation_failed", "invalid_params"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("crafted")
    server = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_WORKER__PROCESSES="0",
                               # tight enough that an endless graph is cut quickly, loose enough for a
                               # valid skops file: importing scikit-learn alone costs 6-7 s of CPU on
                               # a slow 2-core machine, more while the suite loads it
                               LIMELIGHT_SANDBOX__CPU_S="30", LIMELIGHT_SANDBOX__TIMEOUT_S="60")
    try:
        yield server
    finally:
        server.stop()


def _blobs(live: LiveServer) -> set[str]:
    return {p.name for p in (live.home / "artifacts" / "blobs").rglob("*") if p.is_file()}


def _upload(live: LiveServer, model: str, case: Crafted):  # type: ignore[no-untyped-def]
    with live.client() as client:
        ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": model, "task": "other"}))
        return client.post(f"/api/v1/orgs/{live.org}/models/{model}/versions",
                           files={"file": (case.filename, case.build())},
                           data={"meta": json.dumps({"runtime": case.runtime, "params": case.params})})


def _assert_up(live: LiveServer) -> None:
    assert live.process.poll() is None, live.log_text()[-3000:]
    with live.anonymous() as anonymous:
        assert anonymous.get("/healthz").status_code == 200


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


@pytest.mark.slow
@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_crafted_artifact_is_refused_or_served_and_the_server_stays_up(live: LiveServer, case: Crafted) -> None:
    model = case.name
    before = _blobs(live)
    response = _upload(live, model, case)
    _assert_up(live)
    with live.client() as client:
        latest = ok(client.get(f"/api/v1/orgs/{live.org}/models/{model}"))["latest_version"]
        if case.expect == "refused":
            assert 400 <= response.status_code < 500, response.text
            assert error_code(response) in REFUSAL_CODES
            assert latest == 0 and _blobs(live) == before  # nothing registered, nothing stored
            return
        version = ok(response)
        assert version["validation"]["status"] == "passed" and version["validation"]["runtime"] == case.runtime
        answer = ok(client.post(f"/v1/models/{live.org}/{model}:predict", json={"inputs": [case.sample]}))
    assert len(answer["outputs"]) == 1 and _finite(answer["outputs"])
    _assert_up(live)


def test_a_version_never_validated_is_validated_before_its_first_load(live: LiveServer, tmp_path: Path) -> None:
    """A crafted file that reached the registry without validation (as a job's output or a row from
    before validation existed would) is checked in the sandbox at load: 503, the server stays up."""
    crafted = next(case for case in CORPUS if case.name == "lightgbm-negative-num-leaves")
    version = register_unvalidated_version(live, live.org, "unvalidated", crafted.build())
    with live.client() as client:
        ok(client.put(f"/api/v1/orgs/{live.org}/models/unvalidated/aliases/production", json={"version": version}))
        response = client.post(f"/v1/models/{live.org}/unvalidated:predict", json={"inputs": [[0.0, 0.0, 0.0]]})
    assert response.status_code == 503 and error_code(response) == "model_unavailable"
    assert "artifact" in json.dumps(response.json()["error"]["details"]).lower()
    _assert_up(live)


def test_a_verdict_from_other_library_versions_is_renewed_before_load(live: LiveServer) -> None:
    version = register_unvalidated_version(live, live.org, "upgraded", lightgbm_model_bytes(seed=5))
    stale = {"status": "passed", "runtime": "lightgbm", "libraries": {"lightgbm": "0.0.1"}, "format": "lightgbm",
             "checked_at": "2020-01-01T00:00:00+00:00", "duration_s": 1.0, "network_isolated": True}
    _set_validation(live, "upgraded", version, stale)
    with live.client() as client:
        answer = ok(client.post(f"/v1/models/{live.org}/upgraded:predict", json={"inputs": [[0.5, 0.5, 0.5]]}))
        renewed = ok(client.get(f"/api/v1/orgs/{live.org}/models/upgraded/versions/{version}"))["validation"]
    assert answer["version"] == version
    assert renewed["libraries"]["lightgbm"] != "0.0.1" and renewed["checked_at"] > stale["checked_at"]


def test_meta_runtime_and_format_are_checked_against_their_enums(live: LiveServer) -> None:
    case = CORPUS[0]
    with live.client() as client:
        ok(client.post(f"/api/v1/orgs/{live.org}/models", json={"name": "enums", "task": "other"}))
        for meta in ({"runtime": "numpy"}, {"runtime": "lightgbm", "format": "pickle"}, {"runtime": ""}):
            response = client.post(f"/api/v1/orgs/{live.org}/models/enums/versions",
                                   files={"file": (case.filename, case.build())}, data={"meta": json.dumps(meta)})
            assert response.status_code == 422 and error_code(response) == "validation_failed", (meta, response.text)
            assert response.json()["error"]["details"]["field"].startswith("meta.")
        declared = client.post(f"/api/v1/orgs/{live.org}/models/enums/versions",
                               files={"file": (case.filename, case.build())},
                               data={"meta": json.dumps({"runtime": "lightgbm", "format": "text/vnd.lightgbm"})})
    assert ok(declared)["format"] == "lightgbm"


def _set_validation(live: LiveServer, model: str, version: int, record: dict) -> None:  # type: ignore[type-arg]
    from limelight.db.session import open_database
    from limelight.registry import repository

    db = open_database(live.env["LIMELIGHT_DATABASE_URL"])
    try:
        with db.transaction() as session:
            found = repository.model_with_org(session, live.org, model)
            assert found is not None
            row = repository.version(session, found[0].id, version)
            assert row is not None
            repository.set_validation(session, row.id, record)
    finally:
        db.dispose()
