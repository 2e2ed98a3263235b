"""A private model shared with one org: invoke-only or read, never visible to a third org, revocable,
and every right a share does not grant answers 404 exactly like a missing model."""

from __future__ import annotations

import time

import pytest

from tests.support.factories import error_code, new_tenant, ok, skops_model_bytes
from tests.support.polling import eventually

PREDICT = {"inputs": [[0.1, 0.2, 0.3]]}


@pytest.fixture(scope="module")
def orgs(server):  # type: ignore[no-untyped-def]
    owner, partner, stranger = new_tenant(server), new_tenant(server), new_tenant(server)
    with owner.client() as client:
        ok(client.post(f"/api/v1/orgs/{owner.org}/models", json={"name": "churn-secret", "task": "classify",
                                                                  "description": "zebraquokka private model"}))
        ok(client.post(f"/api/v1/orgs/{owner.org}/models/churn-secret/versions",
                       files={"file": ("m.skops", skops_model_bytes())}, data={"meta": '{"runtime": "sklearn"}'}))
    return owner, partner, stranger


def _share(owner, partner, access: str | None):  # type: ignore[no-untyped-def]
    with owner.client() as client:
        path = f"/api/v1/orgs/{owner.org}/models/churn-secret/shares/{partner.org}"
        return client.delete(path) if access is None else client.put(path, json={"access": access})


def _rights(tenant, org: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """What ``tenant`` gets for each thing one can do with org/churn-secret, as status codes."""
    base = f"/api/v1/orgs/{org}/models/churn-secret"
    with tenant.client() as client:
        found = {(m["org"], m["name"]) for m in ok(client.get("/api/v1/models", params={"q": "zebraquokka"}))["items"]}
        return {
            "predict": client.post(f"/v1/models/{org}/churn-secret:predict", json=PREDICT).status_code,
            "card": client.get(base).status_code,
            "versions": client.get(f"{base}/versions").status_code,
            "fork": client.post(f"{base}/fork", json={"org": tenant.org, "name": f"fork-{int(time.time() * 1e6)}"})
            .status_code,
            "update": client.patch(base, json={"description": "mine now"}).status_code,
            "share_again": client.put(f"{base}/shares/{tenant.org}", json={"access": "read"}).status_code,
            "search": 200 if (org, "churn-secret") in found else 404,
        }


_eventually = eventually  # routing snapshots are re-read every serving.alias_cache_s (1 s)


def test_invoke_read_and_revoke_grant_exactly_what_they_say(orgs):
    owner, partner, stranger = orgs
    denied = {"predict": 404, "card": 404, "versions": 404, "fork": 404, "update": 404, "share_again": 404,
              "search": 404}
    assert _rights(partner, owner.org) == denied

    assert ok(_share(owner, partner, "invoke"))["access"] == "invoke"
    assert _eventually(lambda: _rights(partner, owner.org)["predict"] == 200)
    assert _rights(partner, owner.org) == denied | {"predict": 200}

    changed = ok(_share(owner, partner, "read"))
    assert (changed["access"], changed["model"], changed["org"]) == ("read", f"{owner.org}/churn-secret", partner.org)
    assert _rights(partner, owner.org) == {"predict": 200, "card": 200, "versions": 200, "fork": 201,
                                           "update": 404, "share_again": 404, "search": 200}
    assert _rights(stranger, owner.org) == denied  # a share is for one org only

    with partner.client() as client:
        shared = ok(client.get(f"/api/v1/orgs/{partner.org}/shared-models"))["items"]
    assert [(s["model"], s["access"]) for s in shared] == [(f"{owner.org}/churn-secret", "read")]
    with owner.client() as client:
        listed = ok(client.get(f"/api/v1/orgs/{owner.org}/models/churn-secret/shares"))["items"]
        actions = [e["action"] for e in ok(client.get(f"/api/v1/orgs/{owner.org}/audit",
                                                      params={"object_type": "model"}))["items"]]
    assert [(s["org"], s["access"]) for s in listed] == [(partner.org, "read")]
    assert actions.count("model.share") == 2

    assert _share(owner, partner, None).status_code == 204
    assert _eventually(lambda: _rights(partner, owner.org)["predict"] == 404)
    assert _rights(partner, owner.org) == denied
    again = _share(owner, partner, None)
    assert again.status_code == 404 and error_code(again) == "not_found"


def test_bad_shares_are_refused_with_a_code(orgs):
    owner, partner, stranger = orgs
    with owner.client() as client:
        base = f"/api/v1/orgs/{owner.org}/models/churn-secret/shares"
        itself = client.put(f"{base}/{owner.org}", json={"access": "read"})
        nobody = client.put(f"{base}/no-such-org-q9", json={"access": "read"})
        odd = client.put(f"{base}/{partner.org}", json={"access": "admin"})
        missing = client.put(f"/api/v1/orgs/{owner.org}/models/nope/shares/{partner.org}", json={})
    assert itself.status_code == 400 and error_code(itself) == "invalid_share"
    assert nobody.status_code == 404 and "no-such-org-q9" in nobody.json()["error"]["message"]
    assert odd.status_code == 422
    assert missing.status_code == 404
    with stranger.client() as client:  # another org cannot share (or learn about) the owner's model
        foreign = client.put(f"/api/v1/orgs/{owner.org}/models/churn-secret/shares/{stranger.org}", json={})
        listing = client.get(f"/api/v1/orgs/{owner.org}/models/churn-secret/shares")
    assert foreign.status_code == listing.status_code == 404


def test_a_viewer_of_the_owner_org_cannot_share(server, orgs):
    owner, partner, _ = orgs
    viewer = new_tenant(server, role="viewer", scopes=["read"])
    with viewer.client() as client:
        mine = client.post(f"/api/v1/orgs/{viewer.org}/models", json={"name": "m", "task": "classify"})
        refused = client.put(f"/api/v1/orgs/{viewer.org}/models/m/shares/{partner.org}", json={"access": "read"})
    assert mine.status_code == 403
    assert refused.status_code == 403 and refused.json()["error"]["details"]["needs_role"] == "maintainer"
