"""Dataset uploads through a real server: validation reports, versions, profiles, limits."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.factories import error_code, interactions_csv, new_tenant, ok
from tests.support.live_server import start_live_server


@pytest.fixture(scope="module")
def tenant(server):  # type: ignore[no-untyped-def]
    return new_tenant(server)


def _upload(client, org: str, name: str, kind: str, payload: bytes, filename: str = "data.csv"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/orgs/{org}/datasets", files={"file": (filename, payload)},
                       data={"name": name, "kind": kind})


def test_csv_upload_creates_versions_with_a_profile(tenant):
    with tenant.client() as client:
        v1 = ok(_upload(client, tenant.org, "views", "interactions", interactions_csv(users=10, per_user=5)))
        v2 = ok(_upload(client, tenant.org, "views", "interactions", interactions_csv(users=12, per_user=5)))
        dataset = ok(client.get(f"/api/v1/orgs/{tenant.org}/datasets/views"))
        first = ok(client.get(f"/api/v1/orgs/{tenant.org}/datasets/views/versions/1"))
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["rows"] == 50 and v2["rows"] == 60
    assert dataset["latest_version"] == 2 and dataset["versions"] == [1, 2]
    assert first["sha256"] == v1["sha256"] and first["rows"] == 50
    profile = json.dumps(v1["profile"])
    assert "user" in profile and "item" in profile
    assert {c["name"] for c in v1["columns"]} >= {"user_id", "item_id"}


def test_parquet_and_jsonl_are_accepted(tenant):
    table = pa.table({"text": ["great film", "dull plot", "loved it"], "label": ["pos", "neg", "pos"]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    jsonl = b'{"item_id": "i1", "title": "Dune", "genres": "sci-fi|drama", "year": 2021}\n' \
            b'{"item_id": "i2", "title": "Heat", "genres": "crime", "year": 1995}\n'
    with tenant.client() as client:
        parquet = ok(_upload(client, tenant.org, "reviews", "labeled_text", buffer.getvalue(), "r.parquet"))
        items = ok(_upload(client, tenant.org, "catalog", "items", jsonl, "items.jsonl"))
    assert parquet["rows"] == 3 and parquet["source_format"] == "parquet"
    assert items["rows"] == 2 and items["source_format"] in ("jsonl", "json_lines", "ndjson")


def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_stored(tenant, database_rows):
    bad = b"user_id,item_id,rating\nu1,i1,5\nu2,,4\nu3,i3,abc\nu4,i4,3\n"
    with tenant.client() as client:
        response = _upload(client, tenant.org, "broken", "interactions", bad)
        missing_column = _upload(client, tenant.org, "broken", "interactions", b"user,thing\nu1,i1\n")
        listed = ok(client.get(f"/api/v1/orgs/{tenant.org}/datasets"))["items"]
    assert response.status_code == 422 and error_code(response) == "dataset_invalid"
    errors = response.json()["error"]["details"]["errors"]
    assert {(e["line"], e["column"]) for e in errors} >= {(3, "item_id"), (4, "rating")}
    assert missing_column.status_code == 422
    assert all(d["name"] != "broken" for d in listed)


def test_wrong_kind_or_name_or_format_is_refused(tenant):
    with tenant.client() as client:
        ok(_upload(client, tenant.org, "kinded", "interactions", interactions_csv(users=2, per_user=2)))
        other_kind = _upload(client, tenant.org, "kinded", "items", b"item_id,title\ni1,A\n")
        bad_kind = _upload(client, tenant.org, "x", "spreadsheet", b"a,b\n1,2\n")
        bad_name = _upload(client, tenant.org, "../etc", "items", b"item_id\ni1\n")
        no_file = client.post(f"/api/v1/orgs/{tenant.org}/datasets", data={"name": "x", "kind": "items"},
                              files={"other": ("x", b"1")})
        json_body = client.post(f"/api/v1/orgs/{tenant.org}/datasets", json={"name": "x"})
        binary = _upload(client, tenant.org, "bin", "items", b"\x89PNG\r\n\x1a\n" + bytes(200), "x.png")
    assert other_kind.status_code == 409
    assert bad_kind.status_code == 400 and error_code(bad_kind) == "invalid_params"
    assert bad_name.status_code == 400 and error_code(bad_name) == "invalid_name"
    assert no_file.status_code == 400
    assert json_body.status_code == 415
    assert 400 <= binary.status_code < 500


def test_delete_removes_the_dataset(tenant):
    with tenant.client() as client:
        ok(_upload(client, tenant.org, "doomed", "interactions", interactions_csv(users=2, per_user=2)))
        assert client.delete(f"/api/v1/orgs/{tenant.org}/datasets/doomed").status_code == 204
        assert client.get(f"/api/v1/orgs/{tenant.org}/datasets/doomed").status_code == 404
        assert client.delete(f"/api/v1/orgs/{tenant.org}/datasets/doomed").status_code == 404


LIMIT = 2_000


@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("small-limit")
    live = start_live_server(home, f"sqlite:///{home / 'meta.db'}", LIMELIGHT_LIMITS__MAX_DATASET_BYTES=str(LIMIT))
    yield live
    live.stop()


def _items_file(size: int) -> bytes:
    head = b"item_id,title\ni1,"
    return head + b"x" * (size - len(head) - 1) + b"\n"


def _leftovers(home: Path) -> list[Path]:
    return [p for p in (home / "artifacts").rglob("*") if p.is_file()]


def test_upload_one_byte_over_the_limit_gets_413_and_leaves_nothing(small_limit_server, database_rows):
    live = small_limit_server
    with live.client() as client:
        before = _leftovers(live.home)
        over = _upload(client, live.org, "limited", "items", _items_file(LIMIT + 1))
        after_over = _leftovers(live.home)
        exact = _upload(client, live.org, "limited", "items", _items_file(LIMIT))
    assert over.status_code == 413 and error_code(over) == "payload_too_large"
    assert after_over == before
    assert database_rows(live, "SELECT count(*) FROM datasets WHERE name = 'limited'")[0][0] == 1
    assert ok(exact)["rows"] == 1
