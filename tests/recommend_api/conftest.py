"""A tenant with a synthetic catalog and audience, and a trained, promoted recommender."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from tests.support.factories import new_tenant, ok, wait_for_job


def parquet_bytes(table) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()




@pytest.fixture(scope="session")
def catalog():  # type: ignore[no-untyped-def]
    from limelight.recsys.synthetic import generate_catalog

    return generate_catalog(n_items=300, n_users=200, seed=3)


@pytest.fixture(scope="session")
def recsys_tenant(sqlite_server, catalog):  # type: ignore[no-untyped-def]
    tenant = new_tenant(sqlite_server)
    org = tenant.org
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/datasets",
                       files={"file": ("views.parquet", parquet_bytes(catalog.interactions_table()))},
                       data={"name": "views", "kind": "interactions"}))
        ok(client.post(f"/api/v1/orgs/{org}/datasets",
                       files={"file": ("titles.parquet", parquet_bytes(catalog.items_table()))},
                       data={"name": "titles", "kind": "items"}))
        job = ok(client.post(f"/api/v1/orgs/{org}/jobs", json={
            "recipe": "recommend/als", "dataset": "views", "items_dataset": "titles", "model": "movies",
            "promote": "production", "params": {"factors": 32, "iterations": 10}}))
        done = wait_for_job(client, org, job["id"])
        assert done["state"] == "succeeded", done
    tenant.job = done  # type: ignore[attr-defined]
    return tenant
