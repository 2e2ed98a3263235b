"""SDK tests run against a real `limelight serve` (SQLite), each module in its own org."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from limelight.client import Client
from tests.client.tenants import SdkTenant, new_sdk_tenant
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def tenant(sqlite_server: LiveServer) -> SdkTenant:
    return new_sdk_tenant(sqlite_server)


@pytest.fixture
def client(tenant: SdkTenant) -> Iterator[Client]:
    with tenant.client() as sdk:
        yield sdk
