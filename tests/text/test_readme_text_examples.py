"""The README's text section runs as written: train a classifier and a catalog search with its curl
commands, then classify and search with them (only the address, org and key are this test's)."""

from __future__ import annotations

from tests.recommend_api.test_readme_examples import TEXT_SECTION, readme_curl_commands, run_curl
from tests.search import catalog_data
from tests.support.factories import new_tenant, ok, wait_for_job
from tests.text.synthetic import csv_bytes, labeled_rows


def test_the_text_section_runs_as_written(sqlite_server):
    commands = readme_curl_commands(TEXT_SECTION)
    assert any(":classify" in c for c in commands) and any(":search" in c for c in commands)
    tenant = new_tenant(sqlite_server)
    with tenant.client() as client:
        for name, kind, data in (("reviews", "labeled_text", csv_bytes(labeled_rows(300))),
                                 ("catalog", "items", catalog_data.items_csv(catalog_data.items(120)))):
            ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": (f"{name}.csv", data)},
                           data={"name": name, "kind": kind}))
        for command in commands:
            status, body = run_curl(command, sqlite_server.url, tenant.org, tenant.key)
            if "/jobs" in command:
                assert status == 201, body
                job = wait_for_job(client, tenant.org, body["id"], timeout_s=240)
                assert job["state"] == "succeeded", job
            else:
                assert status == 200, f"{command}\n-> {status} {body}"
                assert body["model"].startswith(f"{tenant.org}/")
