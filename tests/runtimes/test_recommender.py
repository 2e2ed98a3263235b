"""The recommender runtime on a real, tiny limelight.recsys artifact (trained here, saved as npz)."""

from __future__ import annotations

from pathlib import Path

import pytest

from limelight.errors import ValidationFailed
from limelight.runtimes import load_runtime

USERS = [f"u{n}" for n in range(12)]
ITEMS = [f"i{n}" for n in range(8)]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from limelight.recsys.algorithms import create
    from limelight.recsys.artifact import save_model
    from limelight.recsys.interactions import build_interactions
    from limelight.recsys.trained import TrainedRecommender

    # users u0..u5 watch i0..i3, users u6..u11 watch i4..i7; every user skips one of their group's
    pairs = [
        (u, i)
        for n, u in enumerate(USERS)
        for m, i in enumerate(ITEMS)
        if (n < 6) == (m < 4) and m % 4 != n % 4
    ]
    inter = build_interactions([u for u, _ in pairs], [i for _, i in pairs])
    algo = create("ease", {"l2": 1.0}).fit(inter.matrix, timestamps=inter.timestamps)
    model = TrainedRecommender.from_interactions(algo, inter, item_titles={i: f"Film {i}" for i in ITEMS})
    path = tmp_path_factory.mktemp("recsys") / "model.npz"
    save_model(path, model)
    return path


def test_recommend_round_trip(artifact: Path) -> None:
    rt = load_runtime("recommender", artifact, {})
    items = [rt.validate_input({"user_id": "u1", "k": 2}), rt.validate_input({"user_id": "u7", "k": 3})]
    out = rt.predict_batch(items)
    assert [len(o["items"]) for o in out] == [2, 3]
    assert all(i["title"].startswith("Film ") for o in out for i in o["items"])
    # u1 skipped i1 (its group's unseen item), which must rank first; seen items are excluded
    assert out[0]["items"][0]["item_id"] == "i1" and out[0]["fallback"] is None
    assert {s["name"] for s in rt.signature()["inputs"]} == {"user_id", "k", "exclude_seen", "filters"}
    assert rt.memory_bytes > 0


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"k": 2}, "user_id"),
        ({"user_id": "u", "k": 0}, "k"),
        ({"user_id": "u", "k": True}, "k"),
        ({"user_id": "u", "exclude_seen": "yes"}, "exclude_seen"),
        ({"user_id": "u", "filters": [1]}, "filters"),
        ("u1", "inputs"),
    ],
)
def test_bad_requests_name_the_field(artifact: Path, item: object, field: str) -> None:
    rt = load_runtime("recommender", artifact, {})
    with pytest.raises(ValidationFailed) as info:
        rt.validate_input(item)
    assert info.value.details["field"] == field
