"""`AsyncClient` against the same server: same answers, same errors, async iteration and streaming."""

from __future__ import annotations

import asyncio
import io

import pytest

from limelight.client import AsyncClient
from limelight.errors import NotFound, Unauthenticated, ValidationFailed
from limelight.schemas import JobState, ModelRead, Role, VersionMeta
from tests.client.tenants import SdkTenant
from tests.support.factories import lightgbm_model_bytes, tabular_csv, unique
from tests.support.live_server import ADMIN_PASSWORD


def _client(tenant: SdkTenant, key: str | None = None) -> AsyncClient:
    return AsyncClient(tenant.url, tenant.key if key is None else key, timeout=30)


def test_tenancy_and_errors(tenant: SdkTenant) -> None:
    async def scenario() -> None:
        async with _client(tenant) as client:
            me = await client.whoami()
            assert (me.org, me.role) == (tenant.org, Role.owner)
            with pytest.warns(DeprecationWarning, match=r"use client\.whoami\(\)"):
                assert await client.auth.whoami() == me
            assert tenant.org in [org.name async for org in client.orgs.iter()]
            with pytest.raises(NotFound) as info:
                await client.models.get(tenant.org, unique("missing"))
            assert info.value.request_id and info.value.http_status == 404  # type: ignore[attr-defined]
            with pytest.raises(ValidationFailed):
                await client.models.create(tenant.org, "Bad Name", "other")
        async with _client(tenant, key="") as anonymous:
            with pytest.raises(Unauthenticated):
                await anonymous.whoami()
            session = await anonymous.auth.login("admin", ADMIN_PASSWORD, tenant.org)
            assert session.org == tenant.org
            key = await anonymous.keys.create(unique("async"), tenant.org, ["read"])  # a write: needs the CSRF token
            await anonymous.auth.logout()
        async with _client(tenant, key=key.key) as narrow:
            assert (await narrow.whoami()).scopes == ["read"]

    asyncio.run(scenario())


def test_registry_pagination_and_deployments(tenant: SdkTenant) -> None:
    async def scenario() -> None:
        async with _client(tenant) as client:
            names = sorted([(await client.models.create(tenant.org, unique("amodel"), "other")).name for _ in range(3)])
            every = [m.name async for m in client.models.iter(tenant.org, limit=2)]
            assert set(names) <= set(every) and every == sorted(every)
            sent: list[int] = []
            version = await client.models.upload_version(tenant.org, names[0], io.BytesIO(lightgbm_model_bytes()),
                                                         VersionMeta(runtime="lightgbm"),
                                                         on_progress=lambda done, total: sent.append(done))
            assert version.version == 1 and sent[-1] == version.size_bytes
            model: ModelRead = await client.models.set_alias(tenant.org, names[0], "production", 1)
            assert model.aliases == {"production": 1}
            deployment = await client.deployments.put(tenant.org, names[0], {"routes": [{"version": 1, "weight": 1}]})
            assert (await client.deployments.get(tenant.org, names[0])).routes == deployment.routes
            assert (await client.audit.verify()).ok

    asyncio.run(scenario())


def test_upload_train_stream_logs_and_wait(tenant: SdkTenant) -> None:
    async def scenario() -> None:
        async with _client(tenant) as client:
            dataset = unique("adata")
            upload = await client.datasets.upload(tenant.org, io.BytesIO(tabular_csv(rows=200)), dataset, "tabular")
            assert upload.rows == 200
            assert dataset in [d.name async for d in client.datasets.iter(tenant.org)]
            job = await client.jobs.submit(tenant.org, "classify/lightgbm", unique("amodel"), dataset=dataset,
                                           params={"num_boost_round": 10})
            lines = [line.message async for line in client.jobs.logs(tenant.org, job.id)]
            assert any("registered" in message for message in lines)
            states: list[JobState] = []
            done = await client.jobs.wait(tenant.org, job.id, timeout_s=60, poll_interval_s=0.1,
                                          on_progress=lambda j: states.append(j.state))
            assert done.state == JobState.succeeded == states[-1]
            assert job.id in [j.id async for j in client.jobs.iter(tenant.org, state=JobState.succeeded)]

    asyncio.run(scenario())
