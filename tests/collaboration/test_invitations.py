"""Invitations by token: one use, expiry, revocation, roles; members change role, leave, keep an owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.factories import error_code, new_tenant, ok


@pytest.fixture(scope="module")
def host(server):  # type: ignore[no-untyped-def]
    return new_tenant(server)


def _invite(tenant, **body):  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        return client.post(f"/api/v1/orgs/{tenant.org}/invitations", json=body)


def _accept(tenant, token: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        return client.post("/api/v1/invitations/accept", json={"token": token})


def _role_of(tenant, org: str, username: str) -> str | None:  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        members = ok(client.get(f"/api/v1/orgs/{org}/members"))["items"]
    return next((m["role"] for m in members if m["username"] == username), None)


def test_an_invitation_admits_one_person_with_its_role_and_is_audited(server, host):
    created = ok(_invite(host, role="maintainer", email="ada@example.com", expires_in_hours=2))
    assert created["status"] == "pending" and created["role"] == "maintainer"
    assert created["accept_url"] == f"/join?token={created['token']}" and len(created["token"]) >= 40
    guest, late = new_tenant(server), new_tenant(server)
    joined = ok(_accept(guest, created["token"]))
    assert (joined["org"], joined["role"], joined["status"], joined["accepted_by"]) == \
        (host.org, "maintainer", "accepted", guest.username)
    assert _role_of(host, host.org, guest.username) == "maintainer"
    again = _accept(late, created["token"])
    assert again.status_code == 409 and error_code(again) == "invitation_used"
    assert _role_of(host, host.org, late.username) is None
    with host.client() as client:
        listed = ok(client.get(f"/api/v1/orgs/{host.org}/invitations"))["items"]
        audit = ok(client.get(f"/api/v1/orgs/{host.org}/audit", params={"object_type": "invitation"}))["items"]
    assert [i["status"] for i in listed if i["id"] == created["id"]] == ["accepted"]
    assert all("token" not in i for i in listed)
    assert {e["action"] for e in audit} >= {"invitation.create", "invitation.accept"}
    assert created["token"] not in str(audit)  # the secret never reaches the log


def test_revoked_expired_unknown_and_malformed_tokens_say_why(server, host, database_rows):
    guest = new_tenant(server)
    revoked = ok(_invite(host))
    with host.client() as client:
        assert client.delete(f"/api/v1/orgs/{host.org}/invitations/{revoked['id']}").status_code == 204
    answer = _accept(guest, revoked["token"])
    assert answer.status_code == 410 and error_code(answer) == "invitation_revoked"

    expiring = ok(_invite(host))
    # time passes: the row's expiry moves into the past
    database_rows(server, "UPDATE invitations SET expires_at = :at WHERE id = :id",
                  at=datetime.now(UTC) - timedelta(minutes=1), id=expiring["id"])
    answer = _accept(guest, expiring["token"])
    assert answer.status_code == 410 and error_code(answer) == "invitation_expired"
    assert "expired" in answer.json()["error"]["message"]

    unknown = _accept(guest, "x" * 43)
    assert unknown.status_code == 404 and error_code(unknown) == "not_found"
    short = _accept(guest, "abc")
    assert short.status_code == 422
    for body in ({"role": "emperor"}, {"expires_in_hours": 0}, {"expires_in_hours": 721}, {"email": "not-mail"}):
        bad = _invite(host, **body)
        assert 400 <= bad.status_code < 500, body
    assert _role_of(host, host.org, guest.username) is None


def test_a_member_cannot_accept_again_and_the_token_stays_usable(server, host):
    invitation = ok(_invite(host, role="viewer"))
    member = new_tenant(server)
    ok(_accept(member, invitation["token"]))
    second = ok(_invite(host))
    answer = _accept(member, second["token"])
    assert answer.status_code == 409 and error_code(answer) == "already_member"
    newcomer = new_tenant(server)
    assert ok(_accept(newcomer, second["token"]))["accepted_by"] == newcomer.username


def test_only_owners_invite_and_another_org_sees_nothing(server, host):
    viewer = new_tenant(server, role="viewer", scopes=["read"])
    outsider = new_tenant(server)
    with viewer.client() as client:
        refused = client.post(f"/api/v1/orgs/{viewer.org}/invitations", json={})
    assert refused.status_code == 403
    invitation = ok(_invite(host))
    with outsider.client() as client:
        for method, path in (("GET", f"/api/v1/orgs/{host.org}/invitations"),
                             ("POST", f"/api/v1/orgs/{host.org}/invitations"),
                             ("DELETE", f"/api/v1/orgs/{host.org}/invitations/{invitation['id']}")):
            answer = client.request(method, path, json={} if method == "POST" else None)
            assert answer.status_code == 404 and error_code(answer) == "not_found", (method, path)
        own = client.delete(f"/api/v1/orgs/{outsider.org}/invitations/{invitation['id']}")
        assert own.status_code == 404  # the id of another org's invitation is unknown in one's own


def test_roles_change_members_leave_and_an_org_keeps_an_owner(server):
    org = new_tenant(server)
    with org.client() as client:
        # the system admin who created the org is its other owner: once removed, the user is the only one
        assert client.delete(f"/api/v1/orgs/{org.org}/members/{server.admin_user}").status_code == 204
        # and can neither demote nor remove itself, nor leave
        for answer in (client.post(f"/api/v1/orgs/{org.org}/members", json={"username": org.username, "role": "member"}),
                       client.delete(f"/api/v1/orgs/{org.org}/members/{org.username}"),
                       client.post(f"/api/v1/orgs/{org.org}/leave")):
            assert answer.status_code == 403 and answer.json()["error"]["details"]["reason"] == "last_owner"
    joiner = new_tenant(server)
    ok(_accept(joiner, ok(_invite(org, role="member"))["token"]))
    with org.client() as client:
        ok(client.post(f"/api/v1/orgs/{org.org}/members", json={"username": joiner.username, "role": "owner"}))
        ok(client.post(f"/api/v1/orgs/{org.org}/members", json={"username": org.username, "role": "viewer"}))
    with org.client() as client:
        members = {m["username"]: m["role"] for m in ok(client.get(f"/api/v1/orgs/{org.org}/members"))["items"]}
        assert members == {org.username: "viewer", joiner.username: "owner"}
        assert client.post(f"/api/v1/orgs/{org.org}/leave").status_code == 204
        gone = client.get(f"/api/v1/orgs/{org.org}/members")
    assert gone.status_code == 401  # its key no longer admits the user who left, at once in this process


def _register(server, token: str, username: str, password: str = "a-long-enough-password"):  # type: ignore[no-untyped-def]
    with server.anonymous() as anonymous:  # no account yet: no key, no session
        return anonymous.post("/api/v1/invitations/register",
                              json={"token": token, "username": username, "password": password})


def _sign_in(server, username: str, password: str = "a-long-enough-password") -> httpx.Response:  # type: ignore[no-untyped-def]
    with server.anonymous() as anonymous:
        return anonymous.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_someone_without_an_account_signs_up_by_the_invitation_once(server, host):
    invitation = ok(_invite(host, role="member"))
    name = f"newbie-{invitation['id'][:8]}"
    joined = _register(server, invitation["token"], name)
    assert joined.status_code == 201, joined.text
    assert (joined.json()["org"], joined.json()["role"], joined.json()["accepted_by"]) == (host.org, "member", name)
    signed_in = ok(_sign_in(server, name))
    assert signed_in["org"] == host.org and _role_of(host, host.org, name) == "member"
    # the token is spent: neither a second sign-up nor an existing user can use it again
    again = _register(server, invitation["token"], f"{name}-2")
    assert again.status_code == 409 and error_code(again) == "invitation_used"
    assert _sign_in(server, f"{name}-2").status_code == 401  # and that refused sign-up left no account
    with host.client() as client:
        audit = ok(client.get(f"/api/v1/orgs/{host.org}/audit"))["items"]
    mine = [(e["action"], e["actor"]) for e in audit if e["object_id"] in (name, invitation["id"])]
    assert ("user.create", f"invitation:{invitation['id']}") in mine and ("invitation.accept", name) in mine
    assert "a-long-enough-password" not in str(audit) and invitation["token"] not in str(audit)


def test_a_sign_up_that_fails_leaves_no_account_and_the_invitation_unused(server, host, database_rows):
    invitation = ok(_invite(host))
    taken = _register(server, invitation["token"], host.username)  # an existing username
    assert taken.status_code == 409 and error_code(taken) == "already_exists"
    assert taken.json()["error"]["details"]["field"] == "username"
    for body, field in (({"password": "short"}, "password"), ({"username": "Not A Name"}, "username")):
        bad = _register(server, invitation["token"], **{"username": "fine-name", **body})
        assert bad.status_code == 422 and field in bad.text, bad.text
    with server.anonymous() as anonymous:
        unknown_field = anonymous.post("/api/v1/invitations/register", json={
            "token": invitation["token"], "username": "fine-name", "password": "a-long-enough-password",
            "is_admin": True})  # no way to sign up as a system admin
    assert unknown_field.status_code == 422
    assert _sign_in(server, "fine-name").status_code == 401
    expiring = ok(_invite(host))
    database_rows(server, "UPDATE invitations SET expires_at = :at WHERE id = :id",
                  at=datetime.now(UTC) - timedelta(minutes=1), id=expiring["id"])
    late = _register(server, expiring["token"], f"late-{expiring['id'][:8]}")
    assert late.status_code == 410 and error_code(late) == "invitation_expired"
    assert _sign_in(server, f"late-{expiring['id'][:8]}").status_code == 401
    unknown = _register(server, "y" * 43, "nobody-at-all")
    assert unknown.status_code == 404 and error_code(unknown) == "not_found"
    # the invitation the failed attempts named is still there for the right person
    name = f"second-try-{invitation['id'][:8]}"
    assert _register(server, invitation["token"], name).status_code == 201
    assert _role_of(host, host.org, name) == "member"
