"""``limelight score-users``: a behaviour model's ranked list, printed and kept as a users dataset."""

from __future__ import annotations

import io

from limelight.schemas import JobState
from tests.behaviour.data import audience
from tests.cli.conftest import Cli
from tests.support.factories import unique
from tests.support.local_context import parquet_bytes


def test_score_users_stores_the_ranked_list_as_a_dataset(cli: Cli) -> None:
    tenant = cli.tenant
    model = unique("churn")
    with tenant.client() as client:
        client.datasets.upload(tenant.org, io.BytesIO(parquet_bytes(audience(n_users=150).interactions)),
                               "events", "interactions")
        job = client.jobs.submit(tenant.org, "predict-behaviour/churn", model, dataset="events", promote="production",
                                 params={"horizon_days": 30, "num_boost_round": 10})
        assert client.jobs.wait(tenant.org, job.id, timeout_s=120, poll_interval_s=0.1).state == JobState.succeeded
    answer = cli("score-users", model, "--dataset", "at-risk", "--limit", "20", "--json").json()
    ranks = [u["rank"] for u in answer["users"]]
    assert ranks == list(range(1, 21)) and answer["total"] >= 20
    stored = answer["dataset"]
    assert stored["dataset"] == "at-risk" and stored["kind"] == "users" and stored["rows"] == 20
    assert {"user_id", "rank", "probability", "top_reason", "reasons"} <= {c["name"] for c in stored["columns"]}
    again = cli("score-users", model, "--dataset", "at-risk", "--limit", "5", "--format", "parquet", "--json").json()
    assert again["dataset"]["version"] == 2 and again["dataset"]["source_format"] == "parquet"
    shown = cli("score-users", model, "--limit", "3")
    assert answer["users"][0]["user_id"] in shown.out and "stored as" not in shown.err
    refused = cli("score-users", model, "--format", "xlsx", expect=2)
    assert "csv or parquet" in refused.err
