"""Tenants for SDK and CLI tests, made through the SDK itself (org, password sign-in, key)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from limelight.client import Client
from tests.support.factories import unique
from tests.support.live_server import ADMIN_PASSWORD, LiveServer

ALL_SCOPES = ("read", "predict", "write", "admin")


@dataclass(frozen=True)
class SdkTenant:
    url: str
    org: str
    key: str
    key_id: str

    def client(self, key: str | None = None) -> Client:
        return Client(self.url, key or self.key, timeout=30)


def new_sdk_tenant(live: LiveServer, prefix: str = "sdk", scopes: Sequence[str] = ALL_SCOPES) -> SdkTenant:
    """A fresh org owned by the system admin, with an API key for it.

    Keys belong to one org, so the admin signs in with the password into the new org (a session
    with CSRF token) to create it: that path is part of what is being tested.
    """
    org = unique(prefix)
    with Client(live.url, live.admin_key) as admin:
        admin.orgs.create(org, display_name=f"Tests {org}")
    with Client(live.url, api_key="") as anonymous:
        anonymous.auth.login(live.admin_user, ADMIN_PASSWORD, org)
        created = anonymous.keys.create(unique("key"), org, list(scopes))
        anonymous.auth.logout()
    return SdkTenant(url=live.url, org=org, key=created.key, key_id=created.id)


def key_with_scopes(tenant: SdkTenant, scopes: Sequence[str]) -> str:
    with tenant.client() as client:
        return client.keys.create(unique("narrow"), tenant.org, list(scopes)).key
