"""One ``.npz`` file per search model: numbers and unicode strings only, never a pickle.

Layout, format ``limelight.search/1`` (``np.load(..., allow_pickle=False)`` reads every member):

=====================  ===================================================================
``format``             0-d unicode, ``limelight.search/1``
``metadata``           0-d unicode JSON: ``params`` (field weights, fusion, ANN settings),
                       ``metrics``, ``fields`` (indexed field names, in embedding order) and
                       ``catalog`` (``recsys.catalog.Catalog.to_metadata()``: filterable columns)
``item_ids``           unicode (n,), unique
``item_titles``        unicode (n,), the catalog's display titles
``field.<name>``       unicode (n,) per indexed text field (title, genres, description, tags…):
                       what highlights point into
``embeddings``         float16 (n, dim), unit-length MiniLM vectors (float16 halves the file;
                       serving widens to float32)
``bm25.vocab``         unicode (terms,)
``bm25.indptr``        int64 (terms + 1,) \\ the BM25 term-by-item contribution matrix as CSR,
``bm25.indices``       int32 (nnz,)      |  precomputed by ``bm25s`` at training time, so serving
``bm25.data``          float32 (nnz,)   /   scores a query without re-indexing
=====================  ===================================================================

No HNSW graph is stored: the runtime builds it from ``embeddings`` at load when the catalog is
larger than ``ann_threshold`` (see ``dense.py`` for why). Loading refuses pickles and object arrays
(``UnsafeArtifactFormat``, 415) and anything structurally wrong (``ValidationFailed``, 422).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from limelight.artifacts.arrays import read_npz, write_npz
from limelight.errors import InvalidParams, ValidationFailed
from limelight.search.lexical import LexicalIndex

FORMAT = "limelight.search/1"
FIELD_PREFIX = "field."
MAX_DIM = 4096


@dataclass
class SearchModel:
    item_ids: np.ndarray
    titles: np.ndarray
    fields: dict[str, np.ndarray]
    embeddings: np.ndarray
    lexical: LexicalIndex
    metadata: dict[str, Any]


def save_model(path: str | os.PathLike[str], model: SearchModel) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "metadata": np.array(_json(model.metadata)),
        "item_ids": np.asarray(model.item_ids, dtype=str),
        "item_titles": np.asarray(model.titles, dtype=str),
        "embeddings": np.asarray(model.embeddings, dtype=np.float16),
        **model.lexical.to_arrays(),
    }
    for name, values in model.fields.items():
        arrays[FIELD_PREFIX + name] = np.asarray(values, dtype=str)
    write_npz(path, arrays)


def _json(value: dict[str, Any]) -> str:
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParams(f"search metadata must be plain JSON: {exc}") from None


def read_arrays(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    return read_npz(path, "search artifact")


def _array(arrays: dict[str, np.ndarray], key: str, kinds: str, ndim: int) -> np.ndarray:
    if key not in arrays:
        raise ValidationFailed(f"search artifact lacks array {key!r}", details={"field": "artifact"})
    value = arrays[key]
    if value.dtype.kind not in kinds or value.ndim != ndim:
        raise ValidationFailed(f"search artifact array {key!r} has dtype {value.dtype} / rank {value.ndim}",
                               details={"field": "artifact"})
    return value


def load_model(path: str | os.PathLike[str]) -> SearchModel:
    """Read and structurally check an artifact written by :func:`save_model`."""
    arrays = read_arrays(path)
    if str(_array(arrays, "format", "U", 0)) != FORMAT:
        raise ValidationFailed(f"unsupported search artifact format (expected {FORMAT})", details={"field": "artifact"})
    metadata = _metadata(arrays)
    item_ids = _array(arrays, "item_ids", "U", 1)
    n = item_ids.shape[0]
    titles = _array(arrays, "item_titles", "U", 1)
    embeddings = _array(arrays, "embeddings", "f", 2)
    fields = {name: _array(arrays, FIELD_PREFIX + name, "U", 1) for name in metadata["fields"]}
    if (n == 0 or titles.shape[0] != n or embeddings.shape[0] != n or not 0 < embeddings.shape[1] <= MAX_DIM
            or any(v.shape[0] != n for v in fields.values()) or np.unique(item_ids).shape[0] != n):
        raise ValidationFailed("search artifact arrays do not align with its items", details={"field": "artifact"})
    if not np.all(np.isfinite(embeddings)):
        raise ValidationFailed("search artifact embeddings are not finite", details={"field": "artifact"})
    lexical = LexicalIndex(_array(arrays, "bm25.vocab", "U", 1), _array(arrays, "bm25.indptr", "iu", 1),
                           _array(arrays, "bm25.indices", "iu", 1), _array(arrays, "bm25.data", "f", 1), n)
    lexical.validate()
    return SearchModel(item_ids, titles, fields, embeddings, lexical, metadata)


def _metadata(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    try:
        metadata = json.loads(str(_array(arrays, "metadata", "U", 0)))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"search metadata is not JSON: {exc}", details={"field": "artifact"}) from None
    fields = metadata.get("fields") if isinstance(metadata, dict) else None
    if (not isinstance(fields, list) or not fields or not all(isinstance(f, str) and f for f in fields)
            or not isinstance(metadata.get("params", {}), dict)):
        raise ValidationFailed("search metadata lacks its indexed fields or params", details={"field": "artifact"})
    return metadata
