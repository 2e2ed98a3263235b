"""Orgs, users, members, keys and sign-in through the SDK against a real server."""

from __future__ import annotations

import pytest

from limelight.client import Client
from limelight.errors import AlreadyExists, Forbidden, NotFound, Unauthenticated, ValidationFailed
from limelight.schemas import KeyCreated, OrgRead, Role, Scope
from tests.client.tenants import SdkTenant, key_with_scopes
from tests.support.factories import unique
from tests.support.live_server import ADMIN_PASSWORD, LiveServer

USER_PASSWORD = "pw-for-tests-0123"  # noqa: S105 - a throwaway test account


def test_whoami_describes_the_key(client: Client, tenant: SdkTenant) -> None:
    me = client.whoami()
    assert (me.username, me.org, me.role, me.is_admin) == ("admin", tenant.org, Role.owner, True)
    assert set(me.scopes) == set(Scope)


def test_auth_whoami_is_a_deprecated_alias_of_whoami(client: Client) -> None:
    with pytest.warns(DeprecationWarning, match=r"auth\.whoami\(\) is deprecated: use client\.whoami\(\)") as caught:
        assert client.auth.whoami() == client.whoami()
    assert caught[0].filename == __file__  # the warning points at the caller's line


def test_orgs_create_and_list(sqlite_server: LiveServer) -> None:
    name = unique("org")
    with Client(sqlite_server.url, sqlite_server.admin_key) as admin:
        created = admin.orgs.create(name, display_name="Acme Films")
        listed = {org.name: org for org in admin.orgs.iter()}
        with pytest.raises(AlreadyExists) as info:
            admin.orgs.create(name)
    assert isinstance(created, OrgRead) and created.role == Role.owner and created.display_name == "Acme Films"
    assert listed[name].id == created.id
    assert info.value.http_status == 409 and info.value.request_id  # type: ignore[attr-defined]


def test_invalid_name_is_validation_failed_with_field_details(sqlite_server: LiveServer) -> None:
    with Client(sqlite_server.url, sqlite_server.admin_key) as admin, pytest.raises(ValidationFailed) as info:
        admin.orgs.create("Not A Name!")
    assert info.value.http_status == 422  # type: ignore[attr-defined]
    assert [f["field"] for f in info.value.details["fields"]] == ["name"]


def test_user_joins_an_org_signs_in_and_leaves(client: Client, tenant: SdkTenant) -> None:
    username = unique("user")
    user = client.users.create(username, USER_PASSWORD)
    member = client.members.add(tenant.org, username, Role.viewer)
    assert (user.username, user.is_admin) == (username, False)
    assert (member.username, member.role, member.org) == (username, Role.viewer, tenant.org)
    assert {m.username: m.role for m in client.members.iter(tenant.org)}[username] == Role.viewer

    with Client(tenant.url, api_key="") as person:
        session = person.auth.login(username, USER_PASSWORD)
        assert (session.username, session.org) == (username, tenant.org)
        assert person.whoami().role == Role.viewer
        person.auth.logout()
        with pytest.raises(Unauthenticated):
            person.whoami()

    client.members.remove(tenant.org, username)
    assert username not in {m.username for m in client.members.list(tenant.org).items}
    with Client(tenant.url, api_key="") as person, pytest.raises(Unauthenticated):
        person.auth.login(username, USER_PASSWORD, tenant.org)


def test_wrong_password_is_unauthenticated(sqlite_server: LiveServer) -> None:
    with Client(sqlite_server.url, api_key="") as anonymous, pytest.raises(Unauthenticated) as info:
        anonymous.auth.login("admin", ADMIN_PASSWORD + "x")
    assert info.value.http_status == 401 and info.value.request_id  # type: ignore[attr-defined]


def test_keys_are_shown_once_listed_without_secret_and_revocable(client: Client, tenant: SdkTenant) -> None:
    created = client.keys.create(unique("ci"), tenant.org, [Scope.read], expires_in_days=5)
    assert isinstance(created, KeyCreated) and created.key.startswith("ll_")
    assert created.expires_at is not None and created.scopes == [Scope.read]
    listed = {k.id: k for k in client.keys.iter()}
    assert created.id in listed and not hasattr(listed[created.id], "key")
    with tenant.client(created.key) as narrow:
        assert narrow.whoami().scopes == [Scope.read]
        revoked = client.keys.revoke(created.id)
        assert revoked.revoked_at is not None
        with pytest.raises(Unauthenticated, match="revoked"):
            narrow.whoami()


def test_missing_or_unknown_key_is_unauthenticated(tenant: SdkTenant) -> None:
    with Client(tenant.url, api_key="") as anonymous, pytest.raises(Unauthenticated):
        anonymous.orgs.list()
    with Client(tenant.url, api_key="ll_0123_nope") as wrong, pytest.raises(Unauthenticated):
        wrong.whoami()


def test_a_read_key_cannot_write(tenant: SdkTenant) -> None:
    with tenant.client(key_with_scopes(tenant, ["read"])) as reader:
        with pytest.raises(Forbidden) as info:
            reader.models.create(tenant.org, unique("m"), "classify")
        assert info.value.http_status == 403  # type: ignore[attr-defined]
        with pytest.raises(NotFound):  # another org is invisible, not forbidden
            reader.members.list(unique("elsewhere"))


def test_the_sdk_invites_and_a_newcomer_signs_up_without_a_key(client: Client, tenant: SdkTenant) -> None:
    from limelight.errors import InvitationUsed

    created = client.invitations.create(tenant.org, "member", expires_in_hours=2)
    assert created.accept_url == f"/join?token={created.token}"
    with Client(tenant.url, api_key="") as anonymous:
        name = f"sdk-newcomer-{created.id[:8]}"
        joined = anonymous.invitations.register(created.token, name, "a-long-enough-password")
        assert (joined.org, joined.accepted_by) == (tenant.org, name)
        with pytest.raises(InvitationUsed):
            anonymous.invitations.register(created.token, name + "-2", "a-long-enough-password")
        assert anonymous.auth.login(name, "a-long-enough-password").org == tenant.org
    statuses = {i.id: i.status.value for i in client.invitations.iter(tenant.org)}
    assert statuses[created.id] == "accepted"
