"""Versions stored before text columns were encoded (no ``params.features``; the old recipe's
signature, names only) still serve lists of numbers through a real server, and take the names
their LightGBM text model carries."""

from __future__ import annotations

import json

import numpy as np

from tests.support.factories import error_code, new_tenant, ok

OLD_PARAMS = {"target": "target", "num_boost_round": 200, "learning_rate": 0.05, "num_leaves": 31,
              "holdout_fraction": 0.2, "seed": 42}  # what classify/lightgbm stored before, without "features"


def _old_style_booster() -> bytes:
    import lightgbm as lgb

    rng = np.random.default_rng(0)
    x = np.column_stack([rng.integers(1, 60, 300), rng.random(300) * 100]).astype(float)
    y = (x[:, 0] < 12).astype(int)  # short tenure churns
    booster = lgb.train({"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 5, "verbose": -1,
                         "num_threads": 1}, lgb.Dataset(x, y, feature_name=["tenure", "spend"]), num_boost_round=20)
    return str(booster.model_to_string()).encode()


def test_a_version_from_before_named_features_still_serves(sqlite_server) -> None:
    tenant = new_tenant(sqlite_server)
    org = tenant.org
    meta = {"runtime": "lightgbm", "params": OLD_PARAMS,
            "signature": {"inputs": [{"name": "features", "dtype": "float64", "shape": [-1, 2],
                                      "names": ["tenure", "spend"]}],
                          "outputs": [{"name": "probabilities", "dtype": "float64", "shape": [-1, 2]}],
                          "classes": ["no", "yes"]}}
    with tenant.client() as client:
        ok(client.post(f"/api/v1/orgs/{org}/models", json={"name": "old-churn", "task": "classify"}))
        ok(client.post(f"/api/v1/orgs/{org}/models/old-churn/versions",
                       files={"file": ("model.txt", _old_style_booster())}, data={"meta": json.dumps(meta)}))
        ok(client.put(f"/api/v1/orgs/{org}/models/old-churn/aliases/production", json={"version": 1}))
        url = f"/v1/models/{org}/old-churn:predict"
        positional = client.post(url, json={"inputs": [[3, 50.0], [50, 50.0]]})
        assert positional.status_code == 200, positional.text
        short, long = positional.json()["outputs"]
        assert short > 0.5 > long
        named = client.post(url, json={"inputs": [{"spend": 50.0, "tenure": 3}, {"tenure": 50, "spend": 50.0}]})
        assert named.status_code == 200, named.text
        assert named.json()["outputs"] == positional.json()["outputs"]
        refused = client.post(url, json={"inputs": [{"tenure": 3, "plan": "family"}]})
        assert refused.status_code == 422 and error_code(refused) == "validation_failed"
        problems = refused.json()["error"]["details"]["problems"]
        assert {(p["field"], p["reason"]) for p in problems} == {("plan", "unknown_feature"),
                                                                 ("spend", "missing_feature")}
        wrong_length = client.post(url, json={"inputs": [[3, 50.0, 1.0]]})
        assert wrong_length.status_code == 422 and error_code(wrong_length) == "validation_failed"
