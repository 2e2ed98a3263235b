"""Jobs through the SDK: recipes, submit, live SSE logs, wait with progress, cancel, retry, pagination."""

from __future__ import annotations

import io

import pytest

from limelight.client import Client
from limelight.errors import DeadlineExceeded, InvalidParams, NotFound
from limelight.schemas import JobRead, JobState
from tests.client.tenants import SdkTenant
from tests.support.factories import tabular_csv, unique

RECIPE = "classify/lightgbm"
FAST = {"num_boost_round": 10}


@pytest.fixture(scope="module")
def dataset(tenant: SdkTenant) -> str:
    name = unique("churn")
    with tenant.client() as client:
        client.datasets.upload(tenant.org, io.BytesIO(tabular_csv(rows=300)), name, "tabular")
    return name


def test_recipes_describe_their_parameters(client: Client) -> None:
    recipes = {r.name: r for r in client.recipes.list()}
    assert RECIPE in recipes
    assert (recipes[RECIPE].task, recipes[RECIPE].dataset_kind) == ("classify", "tabular")
    assert "num_boost_round" in recipes[RECIPE].params_schema["properties"]


def test_logs_stream_live_until_the_job_ends_then_wait_returns(client: Client, tenant: SdkTenant,
                                                               dataset: str) -> None:
    model = unique("churn-model")
    job = client.jobs.submit(tenant.org, RECIPE, model, dataset=dataset, params=FAST)
    assert job.state == JobState.queued and job.params["num_boost_round"] == 10

    lines = list(client.jobs.logs(tenant.org, job.id))  # returns only once the server sends `end`
    assert [line.seq for line in lines] == sorted({line.seq for line in lines})
    assert any("registered" in line.message for line in lines), [line.message for line in lines]
    assert client.jobs.get(tenant.org, job.id).state == JobState.succeeded

    seen: list[JobRead] = []
    done = client.jobs.wait(tenant.org, job.id, timeout_s=30, poll_interval_s=0.1, on_progress=seen.append)
    assert done.state == JobState.succeeded and seen[-1] == done
    assert done.result["version"] == 1 and "accuracy" in done.result["metrics"]
    assert client.models.get(tenant.org, model).latest_version == 1

    after_first = list(client.jobs.logs(tenant.org, job.id, after_seq=lines[0].seq))
    assert [line.seq for line in after_first] == [line.seq for line in lines[1:]]


def test_wait_reports_progress_and_gives_up_at_its_deadline(client: Client, tenant: SdkTenant, dataset: str) -> None:
    job = client.jobs.submit(tenant.org, RECIPE, unique("m"), dataset=dataset, params=FAST)
    with pytest.raises(DeadlineExceeded) as info:
        client.jobs.wait(tenant.org, job.id, timeout_s=0.001)
    assert info.value.details["job_id"] == job.id
    seen: list[JobRead] = []
    done = client.jobs.wait(tenant.org, job.id, timeout_s=60, poll_interval_s=0.05, on_progress=seen.append)
    assert done.state == JobState.succeeded
    assert [j.progress for j in seen] == sorted(j.progress for j in seen)


def test_cancel_and_retry(client: Client, tenant: SdkTenant, dataset: str) -> None:
    job = client.jobs.submit(tenant.org, RECIPE, unique("m"), dataset=dataset, params={"num_boost_round": 5000})
    answer = client.jobs.cancel(tenant.org, job.id)
    final = client.jobs.wait(tenant.org, job.id, timeout_s=60, poll_interval_s=0.1)
    if answer.state == JobState.cancelled:  # still queued: cancelled at once
        assert final.state == JobState.cancelled
    else:  # a worker had claimed it: it stops at its next heartbeat unless it already finished
        assert final.state in (JobState.cancelled, JobState.succeeded)
    if final.state == JobState.cancelled:
        retried = client.jobs.retry(tenant.org, job.id)
        assert retried.state == JobState.queued
        client.jobs.cancel(tenant.org, job.id)
        assert client.jobs.wait(tenant.org, job.id, timeout_s=60, poll_interval_s=0.1).state in (
            JobState.cancelled, JobState.succeeded)


def test_list_filters_and_iterates_newest_first(client: Client, tenant: SdkTenant, dataset: str) -> None:
    model = unique("listed")
    ids = [client.jobs.submit(tenant.org, RECIPE, model, dataset=dataset, params=FAST).id for _ in range(3)]
    for job_id in ids:
        client.jobs.cancel(tenant.org, job_id)
    page = client.jobs.list(tenant.org, model=model, limit=2)
    assert len(page.items) == 2 and page.next_cursor
    assert [j.id for j in client.jobs.iter(tenant.org, model=model, limit=2)] == ids[::-1]
    assert all(j.model == model for j in page.items)
    for job_id in ids:
        client.jobs.wait(tenant.org, job_id, timeout_s=60, poll_interval_s=0.1)


def test_unknown_recipe_and_job_map_to_errors(client: Client, tenant: SdkTenant, dataset: str) -> None:
    with pytest.raises(InvalidParams) as info:
        client.jobs.submit(tenant.org, "no/such-recipe", unique("m"), dataset=dataset)
    assert info.value.details["field"] == "recipe"
    with pytest.raises(NotFound):
        client.jobs.get(tenant.org, "0" * 32)
    with pytest.raises(NotFound):
        list(client.jobs.logs(tenant.org, "0" * 32))
