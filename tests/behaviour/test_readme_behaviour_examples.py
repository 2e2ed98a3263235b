"""The README's behaviour section runs as written: train churn with its curl command, predict and
score with the others, run the scoring job and download its list (only the address, org, key and the
downloaded file's folder are this test's)."""

from __future__ import annotations

import csv

from tests.behaviour.data import audience, profiles
from tests.recommend_api.test_readme_examples import BEHAVIOUR_SECTION, readme_curl_commands, run_curl
from tests.support.factories import new_tenant, ok, wait_for_job
from tests.support.local_context import parquet_bytes


def test_the_behaviour_section_runs_as_written(sqlite_server, tmp_path):
    commands = readme_curl_commands(BEHAVIOUR_SECTION)
    assert any(":predict" in c for c in commands) and any(":score" in c for c in commands)
    assert any("score-users" in c for c in commands) and any("/download" in c for c in commands)
    saved = tmp_path / "at-risk.csv"
    jobs = []
    catalog = audience()
    tenant = new_tenant(sqlite_server)
    with tenant.client() as client:
        for name, kind, rows in (("events", "interactions", catalog.interactions),
                                 ("people", "users", profiles(catalog))):
            ok(client.post(f"/api/v1/orgs/{tenant.org}/datasets", files={"file": (f"{name}.parquet",
                                                                                  parquet_bytes(rows))},
                           data={"name": name, "kind": kind}))
        answers = []
        for command in commands:
            status, body = run_curl(command.replace("-o at-risk.csv", f"-o {saved}"), sqlite_server.url,
                                    tenant.org, tenant.key)
            if "/jobs" in command:
                assert status == 201, body
                job = wait_for_job(client, tenant.org, body["id"], timeout_s=240)
                assert job["state"] == "succeeded", job
                jobs.append(job)
            elif "/download" in command:
                assert status == 200
            else:
                assert status == 200, (command, body)
                answers.append(body)
    one, many, scored = answers
    assert one["reasons"] and 0 <= one["probability"] <= 1
    assert [p["no_history"] for p in many["predictions"]] == [False, False, True]
    assert scored["users"][0]["rank"] == 1 and len(scored["users"]) == 100
    _, scoring = jobs
    rows = list(csv.DictReader(saved.open()))
    assert scoring["result"]["dataset"] == "at-risk" and scoring["result"]["dataset_version"] == 1
    assert len(rows) == scoring["result"]["rows"] == scored["total"]
    assert [r["user_id"] for r in rows[:100]] == [u["user_id"] for u in scored["users"]]
