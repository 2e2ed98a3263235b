"""The profile's numbers, checked exactly on small hand-made tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from limelight.datasets.ingest import IngestOptions
from limelight.datasets.ingest.sketch import DistinctCounter, ValueCounts, mix64
from tests.datasets_ingest.conftest import FORMATS, encode, run

INTERACTIONS: list[dict[str, Any]] = [
    {"user_id": "u1", "item_id": "i1", "rating": 5.0, "timestamp": 100, "event": "rate"},
    {"user_id": "u1", "item_id": "i2", "rating": 3.0, "timestamp": 200, "event": "rate"},
    {"user_id": "u1", "item_id": "i3", "rating": 4.0, "timestamp": 300, "event": "view"},
    {"user_id": "u2", "item_id": "i1", "rating": 2.0, "timestamp": 400, "event": "rate"},
    {"user_id": "u2", "item_id": "i2", "rating": None, "timestamp": 500, "event": "view"},
    {"user_id": "u3", "item_id": "i1", "rating": 1.0, "timestamp": 600, "event": "rate"},
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_interactions_profile_is_exact(fmt: str, dest: Path) -> None:
    profile = run(encode(INTERACTIONS, fmt), "interactions", dest).profile

    assert profile["rows"] == 6
    assert profile["interactions"] == {
        "users": 3,
        "items": 3,
        "density": 6 / 9,
        "per_user": {"min": 1.0, "mean": 2.0, "max": 3.0, "p10": 1.2, "p25": 1.5, "p50": 2.0, "p75": 2.5,
                     "p90": 2.8, "p99": 2.98},
        "per_item": {"min": 1.0, "mean": 2.0, "max": 3.0, "p10": 1.2, "p25": 1.5, "p50": 2.0, "p75": 2.5,
                     "p90": 2.8, "p99": 2.98},
    }
    columns = profile["columns"]
    assert columns["rating"] == {"type": "float32", "nulls": 1, "distinct": 5, "distinct_exact": True,
                                 "min": 1.0, "max": 5.0, "mean": 3.0,
                                 "top": [{"value": v, "count": 1} for v in (1.0, 2.0, 3.0, 4.0, 5.0)]}
    assert columns["timestamp"]["min"] == 100 and columns["timestamp"]["max"] == 600
    assert columns["timestamp"]["mean"] == 350.0
    assert columns["timestamp"]["min_iso"] == "1970-01-01T00:01:40Z"
    assert columns["user_id"]["top"] == [{"value": "u1", "count": 3}, {"value": "u2", "count": 2},
                                         {"value": "u3", "count": 1}]
    assert columns["event"] == {"type": "string", "nulls": 0, "distinct": 2, "distinct_exact": True,
                                "min_length": 4, "max_length": 4, "mean_length": 4.0,
                                "top": [{"value": "rate", "count": 4}, {"value": "view", "count": 2}]}
    json.dumps(profile)  # stored as JSON by the datasets service


def test_labels_are_counted(dest: Path) -> None:
    rows = [{"text": t, "label": lab} for t, lab in [("a", "pos"), ("b", "neg"), ("c", "pos"), ("d", "meh"),
                                                     ("e", "pos"), ("f", "neg")]]
    profile = run(encode(rows, "csv"), "labeled_text", dest).profile

    assert profile["labels"] == {"pos": 3, "neg": 2, "meh": 1}
    assert profile["label_count"] == 3
    assert profile["columns"]["text"]["distinct"] == 6


def test_items_profile_counts_list_elements_and_unique_ids(dest: Path) -> None:
    rows = [{"item_id": "1", "genres": "Action|Crime", "year": "1995"},
            {"item_id": "2", "genres": "Action", "year": ""},
            {"item_id": "3", "genres": "", "year": "2001"}]
    profile = run(encode(rows, "csv"), "items", dest).profile["columns"]

    assert profile["item_id"] == {"type": "string", "nulls": 0, "distinct": 3, "distinct_exact": True,
                                  "min_length": 1, "max_length": 1, "mean_length": 1.0}
    assert profile["genres"]["nulls"] == 1
    assert (profile["genres"]["min_items"], profile["genres"]["max_items"]) == (1, 2)
    assert profile["genres"]["elements"]["top"] == [{"value": "Action", "count": 2}, {"value": "Crime", "count": 1}]
    assert profile["year"] == {"type": "int64", "nulls": 1, "distinct": 2, "distinct_exact": True,
                               "min": 1995, "max": 2001, "mean": 1998.0,
                               "top": [{"value": 1995, "count": 1}, {"value": 2001, "count": 1}]}


def test_high_cardinality_columns_get_no_top_values_and_approximate_distincts(dest: Path) -> None:
    rows = "\n".join(f"u{i % 7},i{i},{i}" for i in range(5000))
    data = f"user_id,item_id,note\n{rows}\n".encode()
    options = IngestOptions(top_values_max_distinct=100, exact_distinct_max=1000, csv_block_bytes=4096)
    columns = run(data, "interactions", dest, options=options).profile["columns"]

    assert "top" not in columns["note"]
    assert columns["note"]["distinct_exact"] is False
    assert abs(columns["note"]["distinct"] - 5000) < 5000 * 0.03
    assert columns["item_id"]["distinct"] == 5000 and columns["item_id"]["distinct_exact"]  # ids: always exact
    assert columns["user_id"]["distinct"] == 7


def test_distinct_counter_switches_to_an_estimate_within_a_few_percent() -> None:
    counter = DistinctCounter(exact_max=10_000)
    rng = np.random.default_rng(7)
    for _ in range(20):
        counter.add_hashes(mix64(rng.integers(0, 1_000_000, 50_000)))
        counter.add_hashes(mix64(np.arange(1000)))  # repeats do not count twice
    assert not counter.exact
    truth = _truth(20, 50_000)
    assert abs(counter.count() - truth) / truth < 0.03

    small = DistinctCounter(exact_max=10_000)
    small.add_hashes(mix64(np.arange(500)))
    small.add_hashes(mix64(np.arange(250, 750)))
    assert (small.count(), small.exact) == (750, True)


def _truth(batches: int, size: int) -> int:
    rng = np.random.default_rng(7)
    seen = np.concatenate([np.concatenate([rng.integers(0, 1_000_000, size), np.arange(1000)])
                           for _ in range(batches)])
    return len(np.unique(seen))


def test_value_counts_merge_batches_exactly() -> None:
    counts = ValueCounts()
    rng = np.random.default_rng(1)
    chunks = [rng.integers(0, 5000, 30_000) for _ in range(10)]
    for chunk in chunks:
        counts.add(pa.array(chunk).cast(pa.string()))
    values, freq = np.unique(np.concatenate(chunks), return_counts=True)

    assert counts.distinct() == len(values)
    assert sorted(counts.counts().tolist()) == sorted(freq.tolist())
    (top_value, top_count), = counts.top(1)
    assert top_count == freq.max() and int(top_value) in values[freq == freq.max()]


def test_profile_is_strict_json_whatever_the_values(dest: Path) -> None:
    from datetime import UTC, datetime

    from tests.datasets_ingest.conftest import parquet_bytes

    table = pa.table({
        "user_id": ["a", "b", "c"], "item_id": ["x", "y", "z"],
        "seen_at": pa.array([datetime(2020, 1, 1, tzinfo=UTC)] * 3, pa.timestamp("s", tz="UTC")),
        "loudness": [1.0, float("inf"), float("-inf")],  # an extra: lenient
    })
    profile = run(parquet_bytes(table), "interactions", dest).profile

    json.dumps(profile, allow_nan=False)
    assert profile["columns"]["loudness"]["max"] == "inf"
    assert profile["columns"]["seen_at"]["top"] == [{"value": "2020-01-01T00:00:00+00:00", "count": 3}]
