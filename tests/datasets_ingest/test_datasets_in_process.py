"""The rules of datasets (kinds, versions, deletion, tenancy), through the whole app in process on
SQLite and PostgreSQL: a rejected upload leaves nothing, a name keeps its kind, versions count up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import error_code, interactions_csv, tabular_csv
from tests.support.in_process import InProcessApp, add_tenant, in_process_app


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[InProcessApp]:
    with in_process_app(tmp_path, db_url) as app:
        yield app


def _upload(app: InProcessApp, name: str, kind: str, data: bytes, filename: str = "data.csv"):  # type: ignore[no-untyped-def]
    return app.client.post(f"/api/v1/orgs/{app.org}/datasets", files={"file": (filename, data)},
                           data={"name": name, "kind": kind})


def test_versions_count_up_and_a_name_keeps_its_kind(app: InProcessApp) -> None:
    first = _upload(app, "views", "interactions", interactions_csv(seed=1))
    second = _upload(app, "views", "interactions", interactions_csv(seed=2))
    other_kind = _upload(app, "views", "tabular", tabular_csv(40))
    unknown_kind = _upload(app, "misc", "spreadsheet", tabular_csv(40))
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert other_kind.status_code == 409 and other_kind.json()["error"]["details"]["kind"] == "interactions"
    assert unknown_kind.status_code == 400 and error_code(unknown_kind) == "invalid_params"
    dataset = app.client.get(f"/api/v1/orgs/{app.org}/datasets/views").json()
    assert dataset["versions"] == [1, 2] and dataset["latest"]["version"] == 2


def test_a_rejected_upload_leaves_no_dataset_and_no_blob(app: InProcessApp) -> None:
    bad = _upload(app, "broken", "interactions", b"user_id,item_id\n,\n,\n")
    assert bad.status_code == 422 and error_code(bad) == "dataset_invalid"
    assert app.client.get(f"/api/v1/orgs/{app.org}/datasets/broken").status_code == 404
    blobs = [p for p in (Path(app.settings.home) / "artifacts").rglob("*") if p.is_file()]
    assert blobs == []


def test_another_orgs_dataset_is_not_found_and_cannot_be_deleted(app: InProcessApp) -> None:
    assert _upload(app, "views", "interactions", interactions_csv()).status_code == 201
    client = app.as_key(add_tenant(app, "rival", "rival-owner"))
    assert client.get(f"/api/v1/orgs/{app.org}/datasets/views").status_code == 404
    assert client.delete(f"/api/v1/orgs/{app.org}/datasets/views").status_code == 404
    assert client.get("/api/v1/orgs/rival/datasets/views").status_code == 404
    assert client.get("/api/v1/orgs/rival/datasets").json()["items"] == []


def test_deleting_a_dataset_removes_it_from_the_list(app: InProcessApp) -> None:
    for name in ("a", "b", "c"):
        assert _upload(app, name, "tabular", tabular_csv(40)).status_code == 201
    assert app.client.delete(f"/api/v1/orgs/{app.org}/datasets/b").status_code == 204
    names, cursor = [], None
    while True:
        page = app.client.get(f"/api/v1/orgs/{app.org}/datasets",
                              params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        names += [d["name"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == ["a", "c"]
