"""The npz artifact: a round trip through the runtime, and forged files refused cleanly."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from limelight.errors import UnsafeArtifactFormat, ValidationFailed
from limelight.runtimes.base import LoadContext, load_runtime
from limelight.search.artifact import FORMAT, load_model
from tests.search import catalog_data


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runtime-cache")


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as loaded:
        return {key: loaded[key] for key in loaded.files}


def _write(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with path.open("wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]
    return path


def test_round_trip_keeps_ids_fields_embeddings_and_answers(artifact, search_model, cache_dir):
    loaded = load_model(artifact)
    assert loaded.item_ids.tolist() == search_model.item_ids.tolist()
    assert loaded.fields.keys() == search_model.fields.keys()
    assert loaded.embeddings.dtype == np.float16
    np.testing.assert_allclose(loaded.embeddings, search_model.embeddings, atol=1e-3)
    runtime = load_runtime("catalog-search", artifact, {}, LoadContext(cache_dir=cache_dir))
    try:
        sample = runtime.signature()["inputs"][0]["example"]
        out = runtime.predict_batch([runtime.validate_input(sample),
                                     runtime.validate_input(catalog_data.RARE_QUERY)])
        assert len(out[0]["items"]) == 3 and out[1]["items"][0]["item_id"] == catalog_data.RARE_ID
        assert runtime.signature()["filterable"] == ["genres", "studio", "tags", "year"]
    finally:
        runtime.close()


def _forge(artifact: Path, tmp_path: Path, **changes) -> Path:  # type: ignore[no-untyped-def]
    arrays = _arrays(artifact)
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    return _write(tmp_path / "forged.npz", arrays)


@pytest.mark.parametrize("changes", [
    {"format": np.array("limelight.recsys/1")},
    {"metadata": np.array("{not json")},
    {"metadata": np.array(json.dumps({"fields": []}))},
    {"embeddings": None},
    {"embeddings": np.zeros((3, 384), np.float16)},
    {"item_ids": np.array(["same"] * 200)},
    {"bm25__indptr": np.array([0, 5, 2], np.int64)},
    {"bm25__indices": None},
    {"field__title": np.arange(200)},
])
def test_structurally_wrong_artifacts_are_validation_failures(artifact, tmp_path, changes):
    with pytest.raises(ValidationFailed):
        load_model(_forge(artifact, tmp_path, **changes))


def test_out_of_range_bm25_indices_and_nan_embeddings_are_refused(artifact, tmp_path):
    arrays = _arrays(artifact)
    bad = arrays["bm25.indices"].copy()
    bad[0] = 10**6
    with pytest.raises(ValidationFailed):
        load_model(_forge(artifact, tmp_path, bm25__indices=bad))
    nan = arrays["embeddings"].copy()
    nan[0, 0] = np.nan
    with pytest.raises(ValidationFailed):
        load_model(_forge(artifact, tmp_path, embeddings=nan))


def test_bad_ann_params_and_catalog_in_metadata_are_refused_by_the_runtime(artifact, tmp_path, cache_dir):
    meta = json.loads(str(_arrays(artifact)["metadata"]))
    for forged in ({**meta, "params": {**meta["params"], "hnsw_m": 10**9}},
                   {**meta, "catalog": {"columns": {"year": [1, 2]}}},
                   {**meta, "catalog": {"columns": "x"}}):
        path = _forge(artifact, tmp_path, metadata=np.array(json.dumps(forged)))
        with pytest.raises(ValidationFailed):
            load_runtime("catalog-search", path, {}, LoadContext(cache_dir=cache_dir))


def test_pickles_and_object_arrays_are_refused_as_unsafe(artifact, tmp_path):
    pickled = tmp_path / "p.npz"
    pickled.write_bytes(pickle.dumps({"format": FORMAT}))
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime("catalog-search", pickled, {})
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "o.npz", "w") as zf:
        zf.writestr("format.npy", buffer.getvalue())
    with pytest.raises(UnsafeArtifactFormat):
        load_model(tmp_path / "o.npz")


def test_garbage_and_truncated_files_are_validation_failures(artifact, tmp_path):
    (tmp_path / "g.npz").write_bytes(b"hello, not a zip")
    truncated = tmp_path / "t.npz"
    truncated.write_bytes(artifact.read_bytes()[: artifact.stat().st_size // 2])
    for path in (tmp_path / "g.npz", truncated):
        with pytest.raises(ValidationFailed):
            load_model(path)


def test_a_catalog_above_ann_threshold_is_served_through_hnsw_with_the_same_top_answer(artifact, tmp_path,
                                                                                        cache_dir):
    meta = json.loads(str(_arrays(artifact)["metadata"]))
    meta["params"]["ann_threshold"] = 10
    path = _forge(artifact, tmp_path, metadata=np.array(json.dumps(meta)))
    runtime = load_runtime("catalog-search", path, {}, LoadContext(cache_dir=cache_dir))
    try:
        request = runtime.validate_input({"query": catalog_data.SYNONYM_QUERY, "k": 5, "mode": "semantic",
                                          "filters": {"genres": ["Drama"]}})
        answer = runtime.predict_batch([request])[0]
    finally:
        runtime.close()
    assert answer["index"] == "approximate"
    assert answer["items"][0]["item_id"] == catalog_data.CHEF_ID
    assert all("Drama" in item["genres"] for item in answer["items"])
