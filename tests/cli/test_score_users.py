"""``limelight score-users``: a behaviour model's ranked list, printed, or ranked by a server job and
kept as a users dataset that ``--output`` and ``datasets download`` save as CSV or Parquet."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from limelight.schemas import JobState
from tests.behaviour.data import audience
from tests.cli.conftest import Cli
from tests.support.factories import unique
from tests.support.local_context import parquet_bytes


def test_score_users_stores_the_ranked_list_as_a_dataset(cli: Cli, tmp_path: Path) -> None:
    tenant = cli.tenant
    model = unique("churn")
    with tenant.client() as client:
        client.datasets.upload(tenant.org, io.BytesIO(parquet_bytes(audience(n_users=150).interactions)),
                               "events", "interactions")
        job = client.jobs.submit(tenant.org, "predict-behaviour/churn", model, dataset="events", promote="production",
                                 params={"horizon_days": 30, "num_boost_round": 10})
        assert client.jobs.wait(tenant.org, job.id, timeout_s=120, poll_interval_s=0.1).state == JobState.succeeded
    printed = cli("score-users", model, "--limit", "20", "--json").json()
    assert [u["rank"] for u in printed["users"]] == list(range(1, 21)) and printed["total"] >= 20

    saved = tmp_path / "at-risk.csv"
    answer = cli("score-users", model, "--dataset", "at-risk", "--limit", "20", "--output", str(saved),
                 "--json").json()
    stored = answer["dataset"]
    assert answer["job"]["recipe"] == "predict-behaviour/score-users" and answer["job"]["state"] == "succeeded"
    assert stored["dataset"] == "at-risk" and stored["kind"] == "users" and stored["rows"] == 20
    assert pacsv.read_csv(saved).column("user_id").to_pylist() == [u["user_id"] for u in printed["users"]]

    again = cli("score-users", model, "--dataset", "at-risk", "--limit", "5")
    assert "stored as dataset at-risk version 2" in again.err and printed["users"][0]["user_id"] in again.out
    downloaded = tmp_path / "v2.parquet"
    cli("datasets", "download", "at-risk", "--output", str(downloaded))
    assert pq.read_table(downloaded).column("rank").to_pylist() == [1, 2, 3, 4, 5]

    refused = cli("score-users", model, "--format", "xlsx", expect=2)
    assert "csv or parquet" in refused.err
    lonely = cli("score-users", model, "--output", str(tmp_path / "x.csv"), expect=2)
    assert "--dataset" in lonely.err
    missing = cli("score-users", "no-such-model", "--dataset", "at-risk", expect=1)
    assert "not found" in missing.err.lower() and not (tmp_path / "x.csv").exists()
