"""A churn model trained once, in-process, on tiny generated data (a few boosting rounds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.behaviour.data import audience, profiles
from tests.support.local_context import LocalJobContext, parquet_file


@dataclass
class Trained:
    catalog: Any
    ctx: LocalJobContext
    result: Any
    artifact: Path


@pytest.fixture(scope="session")
def trained_churn(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from limelight.recipes import get_recipe

    catalog = audience()
    workdir = tmp_path_factory.mktemp("behaviour-churn")
    ctx = LocalJobContext(workdir, {"main": parquet_file(workdir / "events.parquet", catalog.interactions),
                                    "users": parquet_file(workdir / "users.parquet", profiles(catalog))})
    recipe = get_recipe("predict-behaviour/churn")
    result = recipe.run(ctx, recipe.Params.model_validate({"horizon_days": 30, "num_boost_round": 25}))
    return Trained(catalog, ctx, result, ctx.output_path(".npz"))
