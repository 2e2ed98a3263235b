"""One ``.npz`` file per trained recommender: numbers and strings only, never a pickle.

Layout (every member a plain numeric or unicode array; ``np.load(..., allow_pickle=False)`` reads it):

==========================  ===============================================================
``format``                  0-d unicode, ``limelight.recsys/1``
``metadata``                0-d unicode JSON: recipe, params, metrics, anything JSON the job adds
``user_ids`` / ``item_ids``  sorted unicode arrays (rows / columns of the training matrix)
``item_titles``             optional unicode array aligned with ``item_ids``
``user_items.*``            training matrix as CSR (indptr, indices, data, shape): seen items
``popularity``              float32 per item, the fallback for unknown users
``algo.*``                  the algorithm's own ``to_arrays()``
==========================  ===============================================================

Loading refuses pickled or object arrays (``UnsafeArtifactFormat``, 415) and anything structurally
wrong (``ValidationFailed``, 422): artifact bytes are untrusted input.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from limelight.artifacts.arrays import read_npz, write_npz
from limelight.errors import InvalidParams, ValidationFailed
from limelight.recsys.algorithms import algorithm_class
from limelight.recsys.base import require_array
from limelight.recsys.csr_codec import csr_from_arrays, csr_to_arrays
from limelight.recsys.trained import RecommendResult, TrainedRecommender

__all__ = ["FORMAT", "RecommendResult", "TrainedRecommender", "load_model", "save_model"]

FORMAT = "limelight.recsys/1"
ALGO_PREFIX = "algo."


def _metadata_json(metadata: Mapping[str, Any]) -> str:
    try:
        return json.dumps(metadata, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParams(f"recommender metadata must be plain JSON: {exc}") from None


def save_model(path: str | os.PathLike[str], model: TrainedRecommender) -> None:
    """Write the artifact atomically: a temporary file in the same folder, then a rename."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "metadata": np.array(_metadata_json({**model.metadata, "recipe": model.algorithm.name})),
        "user_ids": np.asarray(model.user_ids, dtype=str),
        "item_ids": np.asarray(model.item_ids, dtype=str),
        "popularity": model.popularity,
        **csr_to_arrays("user_items", model.user_items),
    }
    if model.item_titles is not None:
        arrays["item_titles"] = np.asarray(model.item_titles, dtype=str)
    for key, value in model.algorithm.to_arrays().items():
        arrays[ALGO_PREFIX + key] = np.asarray(value)
    write_npz(path, arrays)


def load_model(source: str | os.PathLike[str] | IO[bytes]) -> TrainedRecommender:
    """Read an artifact written by :func:`save_model` (a path or a binary file object)."""
    arrays = read_npz(source, "recommender artifact")
    if str(require_array(arrays, "format", "U", 0)) != FORMAT:
        raise ValidationFailed(f"unsupported recommender artifact format (expected {FORMAT})")
    try:
        metadata = json.loads(str(require_array(arrays, "metadata", "U", 0)))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"recommender metadata is not JSON: {exc}") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("recipe"), str):
        raise ValidationFailed("recommender metadata lacks the recipe name")
    algo_arrays = {k[len(ALGO_PREFIX) :]: v for k, v in arrays.items() if k.startswith(ALGO_PREFIX)}
    try:
        algorithm = algorithm_class(metadata["recipe"]).from_arrays(algo_arrays)
    except InvalidParams as exc:  # unknown recipe or stored params no longer valid
        raise ValidationFailed(f"recommender artifact: {exc.message}", details=exc.details) from None
    titles = require_array(arrays, "item_titles", "U", 1) if "item_titles" in arrays else None
    try:
        return TrainedRecommender(
            algorithm,
            require_array(arrays, "user_ids", "U", 1),
            require_array(arrays, "item_ids", "U", 1),
            csr_from_arrays(arrays, "user_items"),
            require_array(arrays, "popularity", "f", 1),
            metadata,
            titles,
        )
    except InvalidParams as exc:  # inconsistent shapes: a bad artifact, not a bad request
        raise ValidationFailed(f"inconsistent recommender artifact: {exc.message}") from None
