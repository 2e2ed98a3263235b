"""Registry, marketplace and deployments through the SDK."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from limelight.client import Client
from limelight.errors import AlreadyExists, NotFound, UnsafeArtifactFormat, ValidationFailed
from limelight.schemas import DeploymentSpec, ModelRead, Route, Task, VersionMeta, Visibility
from tests.client.tenants import SdkTenant, new_sdk_tenant
from tests.support.factories import lightgbm_model_bytes, unique
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("artifacts") / "model.txt"
    path.write_bytes(lightgbm_model_bytes())
    return path


@pytest.fixture
def model(client: Client, tenant: SdkTenant) -> ModelRead:
    return client.models.create(tenant.org, unique("churn"), Task.classify, description="who leaves",
                                tags=["churn", "tabular"])


def test_create_get_update_delete(client: Client, tenant: SdkTenant, model: ModelRead) -> None:
    assert (model.org, model.task, model.tags, model.visibility) == (tenant.org, Task.classify, ["churn", "tabular"],
                                                                     Visibility.private)
    assert client.models.get(tenant.org, model.name).id == model.id
    with pytest.raises(AlreadyExists):
        client.models.create(tenant.org, model.name, "classify")
    updated = client.models.update(tenant.org, model.name, description="churn v2", card="# Churn\nIt predicts.")
    assert (updated.description, updated.card, updated.tags) == ("churn v2", "# Churn\nIt predicts.", model.tags)
    client.models.delete(tenant.org, model.name)
    with pytest.raises(NotFound):
        client.models.get(tenant.org, model.name)


def test_invalid_task_is_validation_failed(client: Client, tenant: SdkTenant) -> None:
    with pytest.raises(ValidationFailed) as info:
        client.models.create(tenant.org, unique("m"), "telepathy")
    assert info.value.details["fields"][0]["field"] == "task"


def test_versions_upload_list_get_and_aliases(client: Client, tenant: SdkTenant, model: ModelRead,
                                              artifact: Path) -> None:
    progress: list[int] = []
    meta = VersionMeta(runtime="lightgbm", metrics={"auc": 0.91}, params={"C": 1.0}, description="first")
    v1 = client.models.upload_version(tenant.org, model.name, artifact, meta,
                                      on_progress=lambda sent, total: progress.append(sent))
    v2 = client.models.upload_version(tenant.org, model.name, artifact, {"runtime": "lightgbm", "format": "lightgbm"})
    assert (v1.version, v1.format, v1.runtime, v1.metrics) == (1, "lightgbm", "lightgbm", {"auc": 0.91})
    assert v1.sha256 == hashlib.sha256(artifact.read_bytes()).hexdigest() == v2.sha256
    assert progress[-1] == artifact.stat().st_size

    assert [v.version for v in client.models.list_versions(tenant.org, model.name).items] == [2, 1]
    assert [v.version for v in client.models.iter_versions(tenant.org, model.name, limit=1)] == [2, 1]
    assert client.models.get_version(tenant.org, model.name, 1).description == "first"

    assert client.models.set_alias(tenant.org, model.name, "production", 1).aliases == {"production": 1}
    moved = client.models.set_alias(tenant.org, model.name, "production", 2)
    assert moved.aliases == {"production": 2}
    assert client.models.get_version(tenant.org, model.name, 2).aliases == ["production"]
    assert client.models.delete_alias(tenant.org, model.name, "production").aliases == {}
    with pytest.raises(NotFound):
        client.models.delete_alias(tenant.org, model.name, "production")
    client.models.delete_version(tenant.org, model.name, 1)
    with pytest.raises(NotFound):
        client.models.get_version(tenant.org, model.name, 1)


def test_unsafe_artifact_is_refused(client: Client, tenant: SdkTenant, model: ModelRead, tmp_path: Path) -> None:
    bad = tmp_path / "model.pkl"
    bad.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(UnsafeArtifactFormat) as info:
        client.models.upload_version(tenant.org, model.name, bad, VersionMeta(runtime="sklearn"))
    assert info.value.http_status == 415 and info.value.details["detected"]  # type: ignore[attr-defined]
    assert client.models.get(tenant.org, model.name).latest_version == 0


def test_org_models_page_by_name(client: Client, tenant: SdkTenant) -> None:
    names = sorted(client.models.create(tenant.org, unique("paged"), "other").name for _ in range(3))
    page = client.models.list(tenant.org, limit=2)
    assert len(page.items) == 2 and page.next_cursor
    every = [m.name for m in client.models.iter(tenant.org, limit=2)]
    assert set(names) <= set(every) and every == sorted(every) and len(every) == len(set(every))


def test_publish_search_and_fork_into_another_org(client: Client, tenant: SdkTenant, model: ModelRead,
                                                 sqlite_server: LiveServer, artifact: Path) -> None:
    client.models.upload_version(tenant.org, model.name, artifact, VersionMeta(runtime="lightgbm"))
    tag = unique("tag")
    client.models.update(tenant.org, model.name, visibility=Visibility.public, tags=[tag])

    other = new_sdk_tenant(sqlite_server, prefix="forker")
    with other.client() as theirs:
        found = theirs.models.search(tag=tag)
        assert [(m.org, m.name) for m in found.items] == [(tenant.org, model.name)]
        assert [m.name for m in theirs.models.iter_search("who leaves", task=Task.classify, tag=tag)] == [model.name]
        fork = theirs.models.fork(tenant.org, model.name, other.org, new_name="my-churn")
        assert (fork.org, fork.name, fork.latest_version, fork.aliases) == (other.org, "my-churn", 1, {"production": 1})
        assert fork.forked_from == f"{tenant.org}/{model.name}@1"
        assert fork.visibility == Visibility.private
    client.models.update(tenant.org, model.name, visibility="private")
    with other.client() as theirs:  # only their own fork (tags are copied) is left to see
        assert [(m.org, m.name) for m in theirs.models.search(tag=tag).items] == [(other.org, "my-churn")]


def test_deployment_put_and_get(client: Client, tenant: SdkTenant, model: ModelRead, artifact: Path) -> None:
    for _ in range(2):
        client.models.upload_version(tenant.org, model.name, artifact, VersionMeta(runtime="lightgbm"))
    spec = DeploymentSpec(routes=[Route(version=1, weight=90), Route(version=2, weight=10)], max_batch_size=16,
                          max_wait_ms=4)
    put = client.deployments.put(tenant.org, model.name, spec)
    assert [(r.version, r.weight) for r in put.routes] == [(1, 90), (2, 10)]
    assert (put.max_batch_size, put.max_wait_ms, put.model, put.org) == (16, 4, model.name, tenant.org)
    again = client.deployments.put(tenant.org, model.name, {"routes": [{"version": 2, "weight": 1}]})
    assert client.deployments.get(tenant.org, model.name).routes == again.routes
    with pytest.raises(NotFound):
        client.deployments.get(tenant.org, unique("undeployed"))
