"""The README's tabular section runs as written: train with its curl command, then predict with
named features (only the address, org and key are this test's)."""

from __future__ import annotations

import io

import pyarrow.csv as pacsv

from tests.recommend_api.test_readme_examples import TABULAR_SECTION, readme_curl_commands, run_curl
from tests.runtimes.test_tabular_features import churn_table
from tests.support.factories import new_tenant, ok, wait_for_job


def test_the_tabular_section_runs_as_written(sqlite_server):
    commands = readme_curl_commands(TABULAR_SECTION)
    assert len(commands) == 2 and ":predict" in commands[1]
    tenant = new_tenant(sqlite_server)
    csv = io.BytesIO()
    pacsv.write_csv(churn_table(), csv)
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": ("customers.csv", csv.getvalue())},
                       data={"name": "customers", "kind": "tabular"}))
        status, job = run_curl(commands[0], sqlite_server.url, tenant.org, tenant.key)
        assert status == 201, job
        done = wait_for_job(client, tenant.org, job["id"], timeout_s=120)
        assert done["state"] == "succeeded", done
    status, answer = run_curl(commands[1], sqlite_server.url, tenant.org, tenant.key)
    assert status == 200, answer
    family, basic = answer["outputs"]
    assert basic > family and answer["model"] == f"{tenant.org}/plan-churn"
