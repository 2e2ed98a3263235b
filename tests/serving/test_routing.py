"""Deployments through a real server: weighted sticky canary, shadow route, alias moves under load."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.serving.conftest import (
    add_onnx_versions,
    create_model,
    metric_value,
    predict,
    put_deployment,
    set_alias,
)
from tests.support.factories import Tenant, ok
from tests.support.live_server import LiveServer

ROW = [1.0, 0.0, 0.0]
MAX_REQUESTS_PER_CLIENT = 20_000  # a bound: the alias cache moves traffic within about a second


def test_canary_split_is_weighted_and_sticky_by_header_or_body_field(tenant: Tenant) -> None:
    model = create_model(tenant)
    add_onnx_versions(model, 2)
    put_deployment(model, routes=[{"version": 1, "weight": 90}, {"version": 2, "weight": 10}])
    users = [f"user-{i}" for i in range(800)]

    def versions_for(some: list[str]) -> dict[str, int]:
        found = {}
        with model.client() as client:
            for user in some:
                body = ok(predict(client, model, [ROW], headers={"Limelight-Routing-Key": user}))
                assert body["outputs"] == [[body["version"], -body["version"]]]  # the version that answered
                found[user] = int(body["version"])
        return found

    chosen: dict[str, int] = {}
    with ThreadPoolExecutor(8) as pool:
        for part in pool.map(versions_for, [users[i::8] for i in range(8)]):
            chosen.update(part)
    share = sum(v == 2 for v in chosen.values()) / len(users)
    assert 0.06 <= share <= 0.14, share  # 10 % +- 4 points (3.8 sigma at n=800)
    with model.client() as client:
        for user in users[:40]:  # the same user sees the same variant, by header or by body field
            again = predict(client, model, [ROW], headers={"Limelight-Routing-Key": user}).json()["version"]
            by_body = ok(client.post(f"{model.path}:predict", json={"inputs": [ROW], "user_id": user}))["version"]
            assert again == by_body == chosen[user]


def test_shadow_route_mirrors_requests_and_discards_answers(sqlite_server: LiveServer, tenant: Tenant) -> None:
    model = create_model(tenant)
    add_onnx_versions(model, 2)
    put_deployment(model, routes=[{"version": 1, "weight": 1}], shadow={"version": 2, "weight": 100})
    with model.client() as client:
        answers = [ok(predict(client, model, [ROW])) for _ in range(10)]
        assert {a["version"] for a in answers} == {1} and answers[0]["outputs"] == [[1, -1]]
        ref = f"{model.org}/{model.name}"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            mirrored = metric_value(model.tenant.server.scrape(), "limelight_requests_total", model=ref,
                                    version="2", route="shadow:predict", status="200")
            if mirrored == 10:
                break
            time.sleep(0.1)
    assert mirrored == 10


def test_moving_an_alias_under_load_fails_no_request_and_waits_for_no_load(tenant: Tenant) -> None:
    """Six clients send requests back to back while the alias moves from v1 to v2. The order of
    events comes from one shared counter (a tick at each send and each answer), not from the clock:
    nothing sent before the move is answered by v2, nothing sent after the first v2 answer arrived
    is answered by v1 (the server swaps its routing at once), and no request waited for v2 to load
    (the server preloads it before it moves traffic, and counts every request that waited)."""
    model = create_model(tenant)
    add_onnx_versions(model, 2)
    set_alias(model, "production", 1)
    with model.client() as client:
        assert ok(predict(client, model, [ROW]))["version"] == 1  # v1 loaded; v2 is not
    tick = itertools.count()
    results: list[tuple[int, int, int, int]] = []  # (sent tick, answered tick, status, version)
    warmed, moved = threading.Event(), threading.Event()

    def hammer() -> None:
        seen_v2 = 0
        with model.client() as client:
            for _ in range(MAX_REQUESTS_PER_CLIENT):
                sent = next(tick)
                r = predict(client, model, [ROW])
                version = r.json().get("version", -1) if r.status_code == 200 else -1
                results.append((sent, next(tick), r.status_code, version))
                if len(results) >= 60:
                    warmed.set()
                seen_v2 += version == 2
                if moved.is_set() and seen_v2 >= 20:
                    return

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for t in threads:
        t.start()
    assert warmed.wait(60), "the clients never got going"
    moved_at = next(tick)
    set_alias(model, "production", 2)
    moved.set()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    ref = f"{model.org}/{model.name}"
    cold_starts = metric_value(model.tenant.server.scrape(), "limelight_cold_starts_total", model=ref, version="2")
    assert {status for _, _, status, _ in results} == {200}
    assert {v for sent, _, _, v in results if sent < moved_at} == {1}
    assert sum(v == 2 for *_, v in results) >= 6 * 20, "traffic never moved to v2"
    first_v2 = min(answered for _, answered, _, v in results if v == 2)
    assert {v for sent, _, _, v in results if sent > first_v2} == {2}
    assert cold_starts == 0, "a request waited for v2 to load: it was not preloaded before traffic moved"


def test_a_routed_version_cannot_be_deleted_and_removing_the_deployment_restores_default_routing(tenant: Tenant) -> None:
    """Deleting a version the deployment sends traffic to would turn that share of calls into 404s;
    it is refused (409 in_use) until the deployment no longer names it. DELETE on the deployment
    sends calls to the production alias again."""
    model = create_model(tenant)
    add_onnx_versions(model, 3)
    set_alias(model, "production", 1)
    put_deployment(model, routes=[{"version": 1, "weight": 50}, {"version": 3, "weight": 50}],
                   shadow={"version": 2, "weight": 100})
    with model.client() as client:
        for number in (3, 2):  # routed, shadowed
            refused = client.delete(f"/api/v1/orgs/{model.org}/models/{model.name}/versions/{number}")
            assert refused.status_code == 409 and refused.json()["error"]["code"] == "in_use", refused.text
            assert "deployments delete" in refused.json()["error"]["message"]
        assert client.delete(f"/api/v1/orgs/{model.org}/deployments/{model.name}").status_code == 204
        assert client.get(f"/api/v1/orgs/{model.org}/deployments/{model.name}").status_code == 404
        assert client.delete(f"/api/v1/orgs/{model.org}/deployments/{model.name}").status_code == 404
        assert client.delete(f"/api/v1/orgs/{model.org}/models/{model.name}/versions/3").status_code == 204
        deadline = time.monotonic() + 10  # the serving snapshot follows within its refresh interval
        while time.monotonic() < deadline:
            answers = {ok(predict(client, model, [ROW], headers={"Limelight-Routing-Key": f"u{i}"}))["version"]
                       for i in range(20)}
            if answers == {1}:
                break
        assert answers == {1}
        audit = ok(client.get(f"/api/v1/orgs/{model.org}/audit", params={"action": "deployment.delete"}))["items"]
        assert [entry["object_id"] for entry in audit] == [f"{model.org}/{model.name}"]
