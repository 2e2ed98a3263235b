"""The recipe in-process: params checked, metrics stored, HNSW recall measured above the threshold."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from limelight.recipes import get_recipe
from limelight.recipes.search_catalog import SearchParams
from limelight.runtimes.sandbox_child import _samples
from tests.search import catalog_data


class _Job:
    def __init__(self, workdir: Path, dataset: Path) -> None:
        self.job_id, self.org, self.workdir, self._dataset = "j", "o", workdir, dataset
        self.messages: list[str] = []

    def dataset_path(self, role: str = "main") -> Path:
        return self._dataset

    def has_dataset(self, role: str) -> bool:
        return role == "main"

    def output_path(self, suffix: str) -> Path:
        return self.workdir / f"out{suffix}"

    def progress(self, percent: float, message: str = "") -> None:
        self.messages.append(message)

    def log(self, message: str, level: str = "info") -> None:
        self.messages.append(message)

    def check_cancelled(self) -> None:
        return None


@pytest.mark.parametrize("params", [{"fields": {}}, {"fields": {"title": 0}}, {"fields": {"bad name": 1}},
                                    {"semantic_weight": 1.5}, {"hnsw_m": 1}, {"surprise": 1}])
def test_bad_params_are_refused(params):
    with pytest.raises(ValidationError):
        SearchParams.model_validate(params)


def test_recipe_above_ann_threshold_measures_hnsw_recall(tmp_path):
    pq.write_table(catalog_data.items_table(catalog_data.items(120)), tmp_path / "items.parquet")
    recipe = get_recipe("search/catalog")
    assert (recipe.task, recipe.dataset_kind) == ("search", "items")
    job = _Job(tmp_path, tmp_path / "items.parquet")
    result = recipe.run(job, SearchParams(ann_threshold=50, fields={"title": 2, "description": 1, "cast": 1}))
    assert result.runtime == "catalog-search" and (tmp_path / "out.npz").is_file()
    assert result.metrics["ann_recall@10"] >= 0.95 and result.metrics["self_retrieval@10.hybrid"] >= 0.9
    assert result.summary["fields"] == ["title", "description"]  # "cast" is not a column: skipped
    assert any(m.startswith("encoded") for m in job.messages)


def test_the_sandbox_tries_the_runtimes_own_sample_request():
    signature = {"inputs": [{"name": "query", "dtype": "object", "shape": [-1], "example": {"query": "q"}}]}
    assert _samples(signature) == [{"query": "q"}]
    assert _samples({"inputs": [{"name": "query", "dtype": "object", "shape": [-1]}]}) == []
