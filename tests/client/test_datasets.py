"""Datasets and events through the SDK: streamed upload with progress, versions, pagination, errors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from limelight.client import Client
from limelight.errors import DatasetInvalid, NotFound
from limelight.schemas import DatasetKind, DatasetVersionRead, EventIn, EventType
from tests.client.tenants import SdkTenant
from tests.support.factories import tabular_csv, unique


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "churn.csv"
    path.write_bytes(tabular_csv(rows=3000))  # > one 64 KiB chunk, so progress is reported several times
    return path


def test_upload_streams_the_file_with_progress_and_versions_it(client: Client, tenant: SdkTenant,
                                                               csv_path: Path) -> None:
    name = unique("churn")
    progress: list[tuple[int, int | None]] = []
    first = client.datasets.upload(tenant.org, csv_path, name, DatasetKind.tabular, description="who leaves",
                                   on_progress=lambda sent, total: progress.append((sent, total)))
    second = client.datasets.upload(tenant.org, io.BytesIO(tabular_csv(rows=50, seed=1)), name, "tabular")
    size = csv_path.stat().st_size
    assert len(progress) >= 2 and progress[-1] == (size, size)
    assert [sent for sent, _ in progress] == sorted(sent for sent, _ in progress)
    assert isinstance(first, DatasetVersionRead)
    assert (first.version, first.rows, first.kind, first.source_filename) == (1, 3000, DatasetKind.tabular, "churn.csv")
    assert {c.name for c in first.columns} == {"tenure", "spend", "visits", "age", "target"}
    assert (second.version, second.rows) == (2, 50)

    dataset = client.datasets.get(tenant.org, name)
    assert (dataset.description, dataset.latest_version, dataset.versions) == ("who leaves", 2, [1, 2])
    assert client.datasets.get_version(tenant.org, name, 1).sha256 == first.sha256


def test_target_names_the_label_column_of_a_tabular_file(client: Client, tenant: SdkTenant) -> None:
    renamed = tabular_csv(rows=30).replace(b",target\n", b",churned\n", 1)
    version = client.datasets.upload(tenant.org, io.BytesIO(renamed), unique("labelled"), "tabular", target="churned")
    assert "target" in {c.name for c in version.columns} and "churned" not in {c.name for c in version.columns}
    with pytest.raises(DatasetInvalid):
        client.datasets.upload(tenant.org, io.BytesIO(renamed), unique("unlabelled"), "tabular")


def test_list_pages_and_iterates(client: Client, tenant: SdkTenant) -> None:
    names = {unique("page") for _ in range(3)}
    for name in names:
        client.datasets.upload(tenant.org, io.BytesIO(tabular_csv(rows=20)), name, "tabular")
    first = client.datasets.list(tenant.org, limit=1)
    assert len(first.items) == 1 and first.next_cursor
    following = client.datasets.list(tenant.org, limit=1, cursor=first.next_cursor)
    assert following.items[0].name > first.items[0].name
    every = [d.name for d in client.datasets.iter(tenant.org, limit=2)]
    assert names <= set(every) and every == sorted(every) and len(every) == len(set(every))
    assert names <= {d.name for d in client.datasets.iter(tenant.org, kind=DatasetKind.tabular)}
    assert not names & {d.name for d in client.datasets.iter(tenant.org, kind=DatasetKind.items)}


def test_rejected_upload_raises_dataset_invalid_and_leaves_nothing(client: Client, tenant: SdkTenant) -> None:
    name = unique("bad")
    with pytest.raises(DatasetInvalid) as info:
        client.datasets.upload(tenant.org, io.BytesIO(b"colour,size\nred,3\n"), name, DatasetKind.interactions)
    assert info.value.http_status == 422 and info.value.request_id  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        client.datasets.get(tenant.org, name)


def test_delete_then_get_is_not_found_with_request_id(client: Client, tenant: SdkTenant) -> None:
    name = unique("gone")
    client.datasets.upload(tenant.org, io.BytesIO(tabular_csv(rows=20)), name, "tabular")
    client.datasets.delete(tenant.org, name)
    with pytest.raises(NotFound) as info:
        client.datasets.get(tenant.org, name)
    error = info.value
    assert error.http_status == 404 and error.wire_code == "not_found"  # type: ignore[attr-defined]
    assert len(error.request_id) >= 16  # type: ignore[attr-defined]
    assert name in error.message


def test_events_are_idempotent_and_an_end_user_can_be_forgotten(client: Client, tenant: SdkTenant) -> None:
    user = unique("viewer")
    events: list[EventIn | dict[str, Any]] = [
        EventIn(event_id=unique("e"), user_id=user, item_id="film-1", type=EventType.play, value=42.0),
        {"event_id": unique("e"), "user_id": user, "item_id": "film-2", "type": "rate", "value": 4},
    ]
    first = client.events.send(tenant.org, events)
    again = client.events.send(tenant.org, events)
    assert (first.accepted, first.duplicates) == (2, 0)
    assert (again.accepted, again.duplicates) == (0, 2)
    forgotten = client.events.forget(tenant.org, user)
    assert (forgotten.user_id, forgotten.events_deleted) == (user, 2)


def test_an_end_user_id_with_a_slash_can_be_forgotten(client: Client, tenant: SdkTenant) -> None:
    user = f"crm/{unique('viewer')}"
    client.events.send(tenant.org, [{"event_id": unique("e"), "user_id": user, "item_id": "film-1", "type": "view"}])
    assert client.events.forget(tenant.org, user).events_deleted == 1


def test_events_name_their_dataset_once_the_org_has_several(sqlite_server) -> None:  # type: ignore[no-untyped-def]
    from limelight.errors import Unprocessable
    from tests.client.tenants import new_sdk_tenant

    own = new_sdk_tenant(sqlite_server)
    rows = b"user_id,item_id,rating\nu1,i1,4\nu2,i2,5\n"
    event = {"event_id": unique("e"), "user_id": "u1", "item_id": "i2", "type": "play"}
    with own.client() as sdk:
        for name in ("plays", "ratings"):
            sdk.datasets.upload(own.org, io.BytesIO(rows), name, DatasetKind.interactions)
        with pytest.raises(Unprocessable) as unnamed:
            sdk.events.send(own.org, [event])
        assert "plays" in unnamed.value.message and "ratings" in unnamed.value.message
        stored = sdk.events.send(own.org, [event], dataset="ratings")
    assert (stored.accepted, stored.dataset) == (1, "ratings")
