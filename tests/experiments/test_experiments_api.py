"""Online experiments through a real server: a sticky split between aliases, request ids on every
answer, events attributed to the variant that served them, intervals and tests per variant, the
decision (by hand and by the workers) with its audit trail, guardrail rollback, and refusals."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from limelight.experiments import stats
from tests.support.factories import error_code, new_tenant, ok, skops_model_bytes
from tests.support.polling import eventually

INPUT = {"inputs": [[0.1, 0.2, 0.3]]}


def _model_with_two_aliases(tenant: Any, name: str) -> None:
    payload = skops_model_bytes()
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models", json={"name": name, "task": "classify"}))
        for _ in range(2):
            ok(client.post(f"/api/v1/orgs/{tenant.org}/models/{name}/versions", files={"file": ("m.skops", payload)},
                           data={"meta": '{"runtime": "sklearn"}'}))
        ok(client.put(f"/api/v1/orgs/{tenant.org}/models/{name}/aliases/production", json={"version": 1}))
        ok(client.put(f"/api/v1/orgs/{tenant.org}/models/{name}/aliases/candidate", json={"version": 2}))


def _start(tenant: Any, name: str, **spec: Any) -> Any:
    body = {"name": "ranker-test", "variants": [{"name": "control", "alias": "production", "weight": 50},
                                                {"name": "new", "alias": "candidate", "weight": 50}],
            "min_samples": 20, **spec}
    with tenant.client() as client:
        return client.post(f"/api/v1/orgs/{tenant.org}/models/{name}/experiments", json=body)


def _serve(tenant: Any, name: str, users: range) -> dict[str, dict[str, Any]]:
    """One prediction per user (the routing key names the end user): user -> answer."""
    answers = {}
    with tenant.client() as client:
        for i in users:
            answers[f"u{i}"] = ok(client.post(f"/v1/models/{tenant.org}/{name}:predict", json=INPUT,
                                              headers={"Limelight-Routing-Key": f"u{i}"}))
    return answers


def _events(tenant: Any, events: list[dict[str, Any]]) -> None:
    with tenant.client() as client:
        for start in range(0, len(events), 500):
            ok(client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": events[start:start + 500]}))


def _results(tenant: Any, name: str, experiment_id: str) -> dict[str, Any]:
    with tenant.client() as client:
        return ok(client.get(f"/api/v1/orgs/{tenant.org}/models/{name}/experiments/{experiment_id}"))


_until = eventually  # exposures are stored about a second after the answer; workers decide every 0.5 s


@pytest.fixture(scope="module")
def tested(server):  # type: ignore[no-untyped-def]
    """An A/B test on `scorer` with 240 users served, the treatment's users all clicking, a quarter of
    the control's clicking, plus an event citing an unknown request and one from another org."""
    tenant = new_tenant(server)
    _model_with_two_aliases(tenant, "scorer")
    started = ok(_start(tenant, "scorer"))
    answers = _serve(tenant, "scorer", range(240))
    events = []
    for user, answer in answers.items():
        variant = answer["experiment"]["variant"]
        if variant == "new" or int(user[1:]) % 4 == 0:
            events.append({"event_id": f"c-{user}", "user_id": user, "item_id": "i1", "type": "click",
                           "request_id": answer["request_id"]})
        events.append({"event_id": f"p-{user}", "user_id": user, "item_id": "i1", "type": "play",
                       "value": 30.0 if variant == "new" else 10.0, "request_id": answer["request_id"]})
    events.append({"event_id": "stray", "user_id": "u1", "item_id": "i1", "type": "click", "request_id": "no-such-req"})
    _events(tenant, events)
    stranger = new_tenant(server)  # another org cites one of these requests: not ours to attribute
    cited = next(iter(answers.values()))["request_id"]
    _events(stranger, [{"event_id": "x", "user_id": "u0", "item_id": "i1", "type": "click", "request_id": cited}])
    tenant.experiment = started  # type: ignore[attr-defined]
    tenant.answers = answers  # type: ignore[attr-defined]
    tenant.stranger = stranger  # type: ignore[attr-defined]
    return tenant


def test_the_split_is_sticky_by_end_user_and_follows_the_aliases(tested):
    answers = tested.answers
    experiment = tested.experiment
    assert experiment["status"] == "running" and [v["name"] for v in experiment["variants"]] == ["control", "new"]
    counts = Counter(a["experiment"]["variant"] for a in answers.values())
    assert set(counts) == {"control", "new"} and 80 <= counts["new"] <= 160, counts  # 50/50 of 240 users
    for user, answer in answers.items():
        assert answer["experiment"]["id"] == experiment["id"] and len(answer["request_id"]) >= 16
        assert answer["version"] == (2 if answer["experiment"]["variant"] == "new" else 1)
        # the same assignment as the statistics module's (the simulator's) for this user
        expected = stats.assign_variant(experiment["id"], user, [50, 50])
        assert answer["experiment"]["variant"] == ["control", "new"][expected]
    again = _serve(tested, "scorer", range(20))
    assert all(again[u]["experiment"]["variant"] == answers[u]["experiment"]["variant"] for u in again)
    assert len({a["request_id"] for a in again.values()} | {a["request_id"] for a in answers.values()}) == 260


def test_events_citing_a_request_are_counted_for_the_variant_that_served_it(tested):
    counts = Counter(a["experiment"]["variant"] for a in tested.answers.values())
    served = len(tested.answers) + 20  # the sticky re-check above served 20 more (when run in order)
    def settled() -> dict[str, Any] | None:  # every exposure stored (the series is read after the table)
        r = _results(tested, "scorer", tested.experiment["id"])
        total = sum(v["impressions"] for v in r["variants"])
        return r if total >= len(tested.answers) and total == sum(p["impressions"] for p in r["series"]) else None

    found = _until(settled)
    by_name = {v["name"]: v for v in found["variants"]}
    new, control = by_name["new"], by_name["control"]
    assert new["clicks"] == counts["new"]
    control_clickers = sum(1 for u, a in tested.answers.items()
                           if a["experiment"]["variant"] == "control" and int(u[1:]) % 4 == 0)
    assert control["clicks"] == control_clickers
    assert new["ctr"]["estimate"] == pytest.approx(new["clicks"] / new["impressions"])
    assert control["ctr"]["low"] < control["ctr"]["estimate"] < control["ctr"]["high"]
    assert new["watch_time_s"]["estimate"] == pytest.approx(30.0 * counts["new"] / new["impressions"])
    assert new["vs_control"]["significant"] and new["vs_control"]["p_value"] < 0.001
    assert new["vs_control"]["difference"] > 0.5 and control["vs_control"] is None
    assert new["server_errors"] == 0 and new["p99_latency_ms"] > 0
    assert found["unattributed_events"] == 1  # "no-such-req"; the other org's event is not counted here
    assert found["attributed_events"] == 2 * counts["new"] + control_clickers + counts["control"]
    assert sum(v["requests"] for v in found["variants"]) <= served
    assert {p["variant"] for p in found["series"]} == {"control", "new"}
    hours = {p["start"] for p in found["series"]}  # per UTC hour: one point per variant and hour
    assert all(h.endswith(":00:00Z") or h.endswith(":00:00+00:00") for h in hours), hours
    assert len(hours) <= len(found["series"]) <= 2 * len(hours)
    assert sum(p["impressions"] for p in found["series"]) == sum(v["impressions"] for v in found["variants"])
    assert found["recommendation"]["action"] == "promote" and found["recommendation"]["variant"] == "new"


def test_deciding_promotes_the_winner_to_production_and_is_audited(tested):
    org, experiment_id = tested.org, tested.experiment["id"]
    base = f"/api/v1/orgs/{org}/models/scorer/experiments/{experiment_id}"
    with tested.client() as client:
        preview = ok(client.post(f"{base}/decide", json={"dry_run": True}))
        assert preview["status"] == "running" and preview["recommendation"]["action"] == "promote"
        decided = ok(client.post(f"{base}/decide", json={}))
        assert decided["status"] == "stopped" and decided["decision"]["action"] == "promote"
        assert decided["decision"]["variant"] == "new" and decided["decision"]["by"].startswith(f"user:{tested.username}")
        model = ok(client.get(f"/api/v1/orgs/{org}/models/scorer"))
        assert model["aliases"]["production"] == 2
        again = client.post(f"{base}/decide", json={})
        assert again.status_code == 409 and error_code(again) == "experiment_stopped"
        audit = ok(client.get(f"/api/v1/orgs/{org}/audit", params={"action": "experiment.decide"}))
        assert [e["details"]["variant"] for e in audit["items"]] == ["new"]
        moved = ok(client.get(f"/api/v1/orgs/{org}/audit", params={"action": "alias.set"}))
        assert moved["items"][0]["details"]["experiment"] == experiment_id
    # the split is over: calls go to production (now version 2) and carry no experiment
    after = _until(lambda: (a := _serve(tested, "scorer", range(1))["u0"]) and "experiment" not in a and a)
    assert after["version"] == 2 and after["request_id"]


def test_a_guardrail_breach_rolls_back_only_that_variant(server):
    tenant = new_tenant(server)
    _model_with_two_aliases(tenant, "ranker")
    body = {"variants": [{"name": "control", "alias": "production", "weight": 34},
                         {"name": "slow", "alias": "candidate", "weight": 33},
                         {"name": "other", "alias": "candidate", "weight": 33}],
            "guardrails": {"max_error_rate": 0.5, "max_p99_ms": 0.001}}  # every treatment breaches p99
    experiment = ok(_start(tenant, "ranker", **body))
    answers = _serve(tenant, "ranker", range(150))
    assert {a["experiment"]["variant"] for a in answers.values()} == {"control", "slow", "other"}
    _until(lambda: all(v["requests"] >= 20 for v in _results(tenant, "ranker", experiment["id"])["variants"]))
    with tenant.client() as client:
        decided = ok(client.post(f"/api/v1/orgs/{tenant.org}/models/ranker/experiments/{experiment['id']}/decide",
                                 json={}))
    assert decided["status"] == "running"  # control and one treatment remain
    weights = {v["name"]: v["weight"] for v in decided["variants"]}
    assert weights == {"control": 34, "slow": 0, "other": 33}
    later = _until(lambda: (a := _serve(tenant, "ranker", range(150, 200))) and
                   all(x["experiment"]["variant"] != "slow" for x in a.values()) and a)
    assert later, "the rolled-back variant still gets traffic"
    with tenant.client() as client:
        audit = ok(client.get(f"/api/v1/orgs/{tenant.org}/audit", params={"action": "experiment.rollback"}))
    assert audit["items"][0]["details"]["variant"] == "slow" and "p99" in audit["items"][0]["details"]["reason"]


def test_the_workers_decide_auto_experiments_on_their_own(server):
    tenant = new_tenant(server)
    _model_with_two_aliases(tenant, "auto")
    experiment = ok(_start(tenant, "auto", auto_decide=True, metric="watch_time"))
    answers = _serve(tenant, "auto", range(120))
    _events(tenant, [{"event_id": f"p-{u}", "user_id": u, "item_id": "i1", "type": "play",
                      "value": (50.0 if a["experiment"]["variant"] == "new" else 5.0) + int(u[1:]) % 3,
                      "request_id": a["request_id"]} for u, a in answers.items()])
    found = _until(lambda: (r := _results(tenant, "auto", experiment["id"]))["status"] == "stopped" and r, 30.0)
    assert found, "the workers did not decide"
    assert found["decision"]["action"] == "promote" and found["decision"]["variant"] == "new"
    assert "watch time" in found["decision"]["reason"]
    with tenant.client() as client:
        assert ok(client.get(f"/api/v1/orgs/{tenant.org}/models/auto"))["aliases"]["production"] == 2
        audit = ok(client.get(f"/api/v1/orgs/{tenant.org}/audit", params={"action": "experiment.decide"}))
    assert audit["items"][0]["actor"].startswith(f"user:{tenant.username}")


def test_bad_experiments_are_refused_and_nothing_is_written(server):
    tenant = new_tenant(server)
    _model_with_two_aliases(tenant, "checked")
    unknown = _start(tenant, "checked", variants=[{"name": "a", "alias": "production", "weight": 1},
                                                  {"name": "b", "alias": "nope", "weight": 1}])
    assert unknown.status_code == 422 and error_code(unknown) == "validation_failed" and "nope" in unknown.text
    twins = _start(tenant, "checked", variants=[{"name": "a", "alias": "production", "weight": 1},
                                                {"name": "a", "alias": "candidate", "weight": 1}])
    assert twins.status_code == 422
    for bad in ({"variants": [{"name": "a", "alias": "production", "weight": 1}]},
                {"alpha": 0.7}, {"metric": "revenue"}, {"min_samples": 1}, {"surprise": 1},
                {"variants": [{"name": "a", "alias": "production", "weight": 0},
                              {"name": "b", "alias": "candidate", "weight": 1}]}):
        assert _start(tenant, "checked", **bad).status_code == 422, bad
    with tenant.client() as client:
        assert ok(client.get(f"/api/v1/orgs/{tenant.org}/models/checked/experiments")) == []
        missing = client.post(f"/api/v1/orgs/{tenant.org}/models/nope/experiments",
                              json={"name": "x", "variants": [{"name": "a", "alias": "p", "weight": 1},
                                                              {"name": "b", "alias": "c", "weight": 1}]})
        assert missing.status_code == 404
    first = ok(_start(tenant, "checked"))
    second = _start(tenant, "checked")
    assert second.status_code == 409 and error_code(second) == "experiment_running"
    with tenant.client() as client:
        gone = client.get(f"/api/v1/orgs/{tenant.org}/models/checked/experiments/nope")
        assert gone.status_code == 404
        stopped = ok(client.post(f"/api/v1/orgs/{tenant.org}/models/checked/experiments/{first['id']}/stop"))
        assert stopped["status"] == "stopped" and stopped["decision"]["reason"] == "stopped by hand"
        twice = client.post(f"/api/v1/orgs/{tenant.org}/models/checked/experiments/{first['id']}/stop")
        assert twice.status_code == 409 and error_code(twice) == "experiment_stopped"
    bad_event = {"event_id": "e", "user_id": "u", "item_id": "i", "type": "click", "request_id": "has space"}
    with tenant.client() as client:
        refused = client.post(f"/api/v1/orgs/{tenant.org}/events", json={"events": [bad_event]})
    assert refused.status_code == 422


def test_another_org_cannot_see_or_act_on_an_experiment(server, tested):
    base = f"/api/v1/orgs/{tested.org}/models/scorer/experiments"
    with tested.stranger.client() as client:
        for method, path in (("GET", base), ("GET", f"{base}/{tested.experiment['id']}"),
                             ("POST", f"{base}/{tested.experiment['id']}/stop"),
                             ("GET", f"/api/v1/orgs/{tested.org}/experiments")):
            answer = client.request(method, path)
            assert answer.status_code == 404, (method, path)
            assert tested.experiment["id"] not in answer.text


def test_the_sample_size_is_planned_from_the_lift_to_detect(server):
    """10% baseline, +2 points, 80% power, alpha 0.05: the size the simulator in bench/experiments
    checks (3,841 per arm), and the same function the page shows."""
    tenant = new_tenant(server)
    _model_with_two_aliases(tenant, "planned")
    body = {"name": "planned", "variants": [{"name": "control", "alias": "production", "weight": 1},
                                            {"name": "new", "alias": "candidate", "weight": 1}],
            "baseline_rate": 0.10, "min_detectable_lift": 0.02}
    with tenant.client() as client:
        started = ok(client.post(f"/api/v1/orgs/{tenant.org}/models/planned/experiments", json=body))
        assert started["min_samples"] == started["plan"]["samples_per_variant"] == 3841
        assert started["min_samples"] == stats.sample_size_per_variant(0.10, 0.02)
        ok(client.post(f"/api/v1/orgs/{tenant.org}/models/planned/experiments/{started['id']}/stop"))
        half = client.post(f"/api/v1/orgs/{tenant.org}/models/planned/experiments",
                           json={**body, "min_detectable_lift": None})
        assert half.status_code == 422
        for extreme in ({"min_detectable_lift": 1e-7}, {"min_detectable_lift": 1e-4, "baseline_rate": 0.5},
                        {"alpha": 1e-300}, {"power": 0.9999999999}):
            refused = client.post(f"/api/v1/orgs/{tenant.org}/models/planned/experiments", json={**body, **extreme})
            assert refused.status_code == 422 and error_code(refused) == "validation_failed", extreme
