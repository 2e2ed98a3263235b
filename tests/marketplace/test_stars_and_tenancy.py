"""Stars per user (idempotent, counted, audited) and the cross-tenant rule: another org's private
model is absent from results and facet counts, and answers 404 to a star, like a missing one."""

from __future__ import annotations

import pytest

from tests.marketplace.seeding import create, names, search, word
from tests.support.factories import error_code, new_tenant, ok


@pytest.fixture(scope="module")
def owner(server):  # type: ignore[no-untyped-def]
    return new_tenant(server)


@pytest.fixture(scope="module")
def fans(server):  # type: ignore[no-untyped-def]
    return [new_tenant(server), new_tenant(server, role="viewer", scopes=["read"])]


def _star(tenant, org: str, name: str, method: str = "PUT"):  # type: ignore[no-untyped-def]
    with tenant.client() as client:
        return client.request(method, f"/api/v1/orgs/{org}/models/{name}/star")


def test_stars_are_per_user_idempotent_and_counted(owner, fans):
    token, org = word(), owner.org
    name = f"starry-{token[2:]}"
    with owner.client() as client:
        create(client, org, name, description=token, visibility="public")
    first, again = ok(_star(owner, org, name)), ok(_star(owner, org, name))
    assert (first["stars"], first["starred"]) == (1, True) and (again["stars"], again["starred"]) == (1, True)
    by_reader = ok(_star(fans[1], org, name))  # a read-only key may star: a star is the caller's own mark
    assert (by_reader["stars"], by_reader["starred"]) == (2, True)
    with fans[0].client() as client:
        seen = ok(client.get(f"/api/v1/orgs/{org}/models/{name}"))
        listed = search(client, q=token)["items"][0]
    assert (seen["stars"], seen["starred"]) == (2, False) and (listed["stars"], listed["starred"]) == (2, False)
    removed, removed_again = ok(_star(owner, org, name, "DELETE")), ok(_star(owner, org, name, "DELETE"))
    assert (removed["stars"], removed["starred"]) == (1, False) and removed_again["stars"] == 1
    with owner.client() as client:
        audit = ok(client.get(f"/api/v1/orgs/{org}/audit", params={"action": "model.star"}))["items"]
        unstars = ok(client.get(f"/api/v1/orgs/{org}/audit", params={"action": "model.unstar"}))["items"]
    assert [e["object_id"] for e in audit] == [f"{org}/{name}"]  # the repeat changed nothing: not audited
    assert [e["object_id"] for e in unstars] == [f"{org}/{name}"]


def test_another_orgs_private_model_is_absent_everywhere(owner, fans):
    token, org = word(), owner.org
    secret, shared = f"secret-{token[2:]}", f"shared-{token[2:]}"
    with owner.client() as client:
        create(client, org, secret, description=token, tags=[token], licence="MIT")
        create(client, org, shared, description=token, visibility="public", task="recommend")
        assert sorted(names(search(client, q=token))) == [secret, shared]
    outsider = fans[0]
    with outsider.client() as client:
        found = search(client, q=token)
        by_org = search(client, org=org, limit=500)
        by_tag = search(client, tag=token)
        missing = client.get(f"/api/v1/orgs/{org}/models/no-such-{token[2:]}/star")
    assert names(found) == [shared] and found["total"] == 1
    assert found["facets"]["task"] == {"recommend": 1} and found["facets"]["licence"] == {}
    assert found["facets"]["tag"] == {} and found["facets"]["org"] == {org: 1}
    assert secret not in names(by_org) and by_org["total"] == len(by_org["items"])
    assert by_tag["total"] == 0
    assert missing.status_code == 405  # GET is not a star operation
    for method in ("PUT", "DELETE"):
        hidden, absent = _star(outsider, org, secret, method), _star(outsider, org, f"no-such-{token[2:]}", method)
        assert (hidden.status_code, error_code(hidden)) == (404, "not_found")
        assert hidden.json()["error"]["message"] == absent.json()["error"]["message"].replace(
            f"no-such-{token[2:]}", secret)
    with owner.client() as client:
        assert ok(client.get(f"/api/v1/orgs/{org}/models/{secret}"))["stars"] == 0


def test_a_model_made_private_again_leaves_other_orgs_results_but_keeps_its_stars(owner, fans):
    token, org = word(), owner.org
    name = f"flip-{token[2:]}"
    with owner.client() as client:
        create(client, org, name, description=token, visibility="public")
    ok(_star(fans[0], org, name))
    with owner.client() as client:
        ok(client.patch(f"/api/v1/orgs/{org}/models/{name}", json={"visibility": "private"}))
        assert ok(client.get(f"/api/v1/orgs/{org}/models/{name}"))["stars"] == 1
    with fans[0].client() as client:
        assert search(client, q=token)["total"] == 0
    assert _star(fans[0], org, name, "DELETE").status_code == 404
