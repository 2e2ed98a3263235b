"""Another org's private objects answer 404, exactly like missing ones, for every object kind."""

from __future__ import annotations

import time

import pytest

from tests.support.factories import error_code, interactions_csv, new_tenant, ok, skops_model_bytes


@pytest.fixture(scope="module")
def two_tenants(server):  # type: ignore[no-untyped-def]
    a, b = new_tenant(server), new_tenant(server)
    with a.client() as client:
        ok(client.post(f"/api/v1/orgs/{a.org}/models", json={"name": "secret", "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{a.org}/models/secret/versions", files={"file": ("m.skops", skops_model_bytes())},
                       data={"meta": '{"runtime": "sklearn"}'}))
        ok(client.put(f"/api/v1/orgs/{a.org}/deployments/secret", json={"routes": [{"version": 1, "weight": 1}]}))
        for _ in range(3):  # traffic: the model now shows in /metrics and in a's monitoring
            ok(client.post(f"/v1/models/{a.org}/secret:predict", json={"inputs": [[0.1, 0.2, 0.3]]}))
        ok(client.post(f"/api/v1/orgs/{a.org}/datasets", files={"file": ("d.csv", interactions_csv())},
                       data={"name": "views", "kind": "interactions"}))
    return a, b, None


def _foreign_requests(org: str) -> list[tuple[str, str, dict | None]]:  # type: ignore[type-arg]
    return [
        ("GET", f"/api/v1/orgs/{org}/models/secret", None),
        ("GET", f"/api/v1/orgs/{org}/models/secret/versions", None),
        ("GET", f"/api/v1/orgs/{org}/models/secret/versions/1", None),
        ("PATCH", f"/api/v1/orgs/{org}/models/secret", {"description": "pwned"}),
        ("PUT", f"/api/v1/orgs/{org}/models/secret/aliases/production", {"version": 1}),
        ("DELETE", f"/api/v1/orgs/{org}/models/secret/versions/1", None),
        ("POST", f"/api/v1/orgs/{org}/models/secret/fork", {"org": org}),
        ("GET", f"/api/v1/orgs/{org}/deployments/secret", None),
        ("PUT", f"/api/v1/orgs/{org}/deployments/secret", {"routes": [{"version": 1, "weight": 1}]}),
        ("GET", f"/api/v1/orgs/{org}/datasets/views", None),
        ("GET", f"/api/v1/orgs/{org}/datasets/views/versions/1", None),
        ("DELETE", f"/api/v1/orgs/{org}/datasets/views", None),
        ("GET", f"/api/v1/orgs/{org}/datasets", None),
        ("GET", f"/api/v1/orgs/{org}/models", None),
        ("GET", f"/api/v1/orgs/{org}/jobs", None),
        ("GET", f"/api/v1/orgs/{org}/members", None),
        ("GET", f"/api/v1/orgs/{org}/audit", None),
        ("GET", f"/api/v1/orgs/{org}/audit/verify", None),
        ("GET", f"/api/v1/orgs/{org}/monitoring", None),
        ("GET", f"/api/v1/orgs/{org}/monitoring?window=7d", None),
        ("GET", f"/api/v1/orgs/{org}/monitoring/models/secret", None),
        ("GET", f"/api/v1/orgs/{org}/models/secret/shares", None),
        ("PUT", f"/api/v1/orgs/{org}/models/secret/shares/{org}", {"access": "read"}),
        ("DELETE", f"/api/v1/orgs/{org}/models/secret/shares/{org}", None),
        ("GET", f"/api/v1/orgs/{org}/shared-models", None),
        ("GET", f"/api/v1/orgs/{org}/invitations", None),
        ("POST", f"/api/v1/orgs/{org}/invitations", {"role": "owner"}),
        ("DELETE", f"/api/v1/orgs/{org}/invitations/{'0' * 32}", None),
        ("POST", f"/api/v1/orgs/{org}/leave", None),
        ("GET", f"/api/v1/orgs/{org}/usage", None),
        ("GET", f"/api/v1/orgs/{org}/usage?format=csv", None),
        ("GET", f"/api/v1/orgs/{org}/quotas", None),
        ("PUT", f"/api/v1/orgs/{org}/quotas", {"requests_per_month": 1}),
        ("GET", f"/api/v1/orgs/{org}/experiments", None),
        ("GET", f"/api/v1/orgs/{org}/models/secret/experiments", None),
        ("POST", f"/api/v1/orgs/{org}/models/secret/experiments",
         {"name": "x", "variants": [{"name": "a", "alias": "production", "weight": 1},
                                    {"name": "b", "alias": "production", "weight": 1}]}),
        ("GET", f"/api/v1/orgs/{org}/models/secret/experiments/{'0' * 32}", None),
        ("POST", f"/api/v1/orgs/{org}/models/secret/experiments/{'0' * 32}/stop", None),
        ("POST", f"/api/v1/orgs/{org}/models/secret/experiments/{'0' * 32}/decide", {}),
    ]


def test_foreign_private_objects_answer_404_like_missing_ones(two_tenants):
    a, b, _ = two_tenants
    with b.client() as intruder:
        for method, path, body in _foreign_requests(a.org):
            foreign = intruder.request(method, path, json=body)
            missing = intruder.request(method, path.replace(a.org, "no-such-org-zz"), json=body)
            assert foreign.status_code == 404, f"{method} {path}: {foreign.status_code} {foreign.text}"
            assert missing.status_code == 404
            assert error_code(foreign) == error_code(missing) == "not_found"
            assert foreign.json()["error"]["message"].replace(a.org, "X") == \
                missing.json()["error"]["message"].replace("no-such-org-zz", "X")


def test_foreign_jobs_and_keys_answer_404(two_tenants, server):
    a, b, _ = two_tenants
    with a.client() as owner:
        key = ok(owner.post("/api/v1/keys", json={"name": "k", "org": a.org, "scopes": ["read"]}))
    with b.client() as intruder:
        assert intruder.delete(f"/api/v1/keys/{key['id']}").status_code == 404
        assert intruder.get(f"/api/v1/orgs/{b.org}/jobs/{'0' * 32}").status_code == 404


def test_private_models_stay_out_of_other_orgs_marketplace(two_tenants):
    a, b, _ = two_tenants
    with b.client() as other:
        names = {(m["org"], m["name"]) for m in ok(other.get("/api/v1/models", params={"limit": 500}))["items"]}
    assert (a.org, "secret") not in names


def test_public_models_are_visible_and_forkable_but_not_writable(two_tenants):
    a, b, _ = two_tenants
    with a.client() as owner:
        ok(owner.post(f"/api/v1/orgs/{a.org}/models", json={"name": "shared", "task": "classify",
                                                             "tags": ["churn"], "visibility": "public",
                                                             "card": "# Shared churn model"}))
        ok(owner.post(f"/api/v1/orgs/{a.org}/models/shared/versions", files={"file": ("m.skops", skops_model_bytes())},
                      data={"meta": '{"runtime": "sklearn"}'}))
    with b.client() as other:
        found = ok(other.get("/api/v1/models", params={"q": "shared", "tag": "churn"}))["items"]
        assert any(m["org"] == a.org and m["name"] == "shared" for m in found)
        assert other.get(f"/api/v1/orgs/{a.org}/models/shared").status_code == 200
        assert other.patch(f"/api/v1/orgs/{a.org}/models/shared", json={"description": "x"}).status_code == 404
        fork = ok(other.post(f"/api/v1/orgs/{a.org}/models/shared/fork", json={"org": b.org, "name": "my-churn"}))
        assert fork["org"] == b.org and fork["forked_from"].startswith(f"{a.org}/shared@")
        assert fork["visibility"] == "private" and fork["aliases"] == {"production": 1}
        version = ok(other.get(f"/api/v1/orgs/{b.org}/models/my-churn/versions/1"))
    with a.client() as owner:
        original = ok(owner.get(f"/api/v1/orgs/{a.org}/models/shared/versions/1"))
    assert version["sha256"] == original["sha256"]


def _own_views(org: str) -> list[str]:
    """Everything a tenant may read about operations: none of it may name another org's private model."""
    return [f"/api/v1/orgs/{org}/monitoring", f"/api/v1/orgs/{org}/monitoring?window=24h",
            f"/api/v1/orgs/{org}/monitoring?window=7d", f"/api/v1/orgs/{org}/audit",
            f"/api/v1/orgs/{org}/audit/verify", "/api/v1/audit/verify", "/metrics", "/api/v1/models"]


def test_operations_views_never_name_another_orgs_private_model(two_tenants):
    a, b, _ = two_tenants
    with a.client() as owner:  # a sees its own traffic (so the name is there to leak)
        deadline = time.monotonic() + 10  # the API processes add their counts every 0.2 s here
        traffic = ok(owner.get(f"/api/v1/orgs/{a.org}/monitoring"))
        while traffic["stats"]["requests"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
            traffic = ok(owner.get(f"/api/v1/orgs/{a.org}/monitoring"))
        assert "secret" in [m["name"] for m in traffic["models"]] and traffic["stats"]["requests"] >= 3
        assert owner.get("/metrics").status_code == 401  # even an org's admin key: operators only
        ok(owner.post(f"/api/v1/orgs/{a.org}/models", json={"name": "open-book", "task": "classify",
                                                             "visibility": "public"}))
    assert f'model="{a.org}/secret"' in a.server.scrape()
    with b.client() as intruder:
        for path in _own_views(b.org):
            response = intruder.get(path)
            assert response.status_code in (200, 401, 404), f"{path}: {response.status_code}"
            assert "secret" not in response.text, path  # (a's public models may show: forks are audited)
        mine = ok(intruder.get(f"/api/v1/orgs/{b.org}/monitoring"))
        own = {m["name"] for m in ok(intruder.get(f"/api/v1/orgs/{b.org}/models"))["items"]}
        assert {m["name"] for m in mine["models"]} == own and mine["stats"]["requests"] == 0
        assert ok(intruder.get("/api/v1/audit/verify"))["scope"] == "org"  # not the global count
        # a public model's traffic is still its org's operations data
        assert intruder.get(f"/api/v1/orgs/{a.org}/models/open-book").status_code == 200
        assert intruder.get(f"/api/v1/orgs/{a.org}/monitoring/models/open-book").status_code == 404


def test_console_operations_pages_show_only_the_orgs_own_models(two_tenants):
    from contextlib import closing

    from tests.ui.setup_api import session_client

    a, b, _ = two_tenants
    with closing(session_client(b.server.url, b.username, "pw-" + "y" * 12, b.org)) as browser:
        for path in ("/", "/monitoring", "/monitoring?window=7d", "/audit"):
            page = browser.get(path)
            assert page.status_code == 200, path
            assert "secret" not in page.text, path
        assert browser.get("/monitoring/secret").status_code == 404
