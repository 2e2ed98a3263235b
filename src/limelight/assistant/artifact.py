"""One ``.npz`` file per assistant version: numbers and unicode strings only, never a pickle.

Layout, format ``limelight.assistant/1`` (``np.load(..., allow_pickle=False)`` reads every member):

=====================  ===================================================================
``format``             0-d unicode, ``limelight.assistant/1``
``metadata``           0-d unicode JSON: ``params`` (chunking, k, abstain threshold, llm,
                       max_tokens, semantic weight), ``metrics``, ``documents`` (count)
``passage.doc_id``     unicode (n,) the document each passage comes from
``passage.title``      unicode (n,) that document's title
``passage.section``    unicode (n,) the heading above the passage ("" for none)
``passage.text``       unicode (n,) the passage as the LLM and the citations show it
``embeddings``         float16 (n, dim) unit-length MiniLM vectors of title, section and text
``bm25.*``             the BM25 term-by-passage matrix (``limelight.search.lexical``)
``words.terms``        unicode (m,) the BM25 terms with a vector (the most frequent, at most 30k)
``words.embeddings``   float16 (m, dim) their MiniLM vectors: how close an unknown word of a
                       question comes to the documents' words (``retrieval.Retriever.coverage``)
=====================  ===================================================================

Loading refuses pickles and object arrays (``UnsafeArtifactFormat``, 415) and anything
structurally wrong (``ValidationFailed``, 422).
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

FORMAT = "limelight.assistant/1"
PASSAGE_FIELDS = ("doc_id", "title", "section", "text")
MAX_DIM = 4096
_DETAILS = {"field": "artifact"}


@dataclass
class AssistantIndex:
    passages: dict[str, np.ndarray]  # PASSAGE_FIELDS -> unicode (n,)
    embeddings: np.ndarray
    lexical: LexicalIndex
    metadata: dict[str, Any]
    word_terms: np.ndarray  # unicode (m,)
    word_embeddings: np.ndarray  # float (m, dim)

    @property
    def size(self) -> int:
        return int(self.embeddings.shape[0])


def save_index(path: str | os.PathLike[str], index: AssistantIndex) -> None:
    try:
        metadata = json.dumps(index.metadata, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidParams(f"assistant metadata must be plain JSON: {exc}") from None
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "metadata": np.array(metadata),
        "embeddings": np.asarray(index.embeddings, dtype=np.float16),
        **index.lexical.to_arrays(),
        "words.terms": np.asarray(index.word_terms, dtype=str),
        "words.embeddings": np.asarray(index.word_embeddings, dtype=np.float16),
    }
    for name in PASSAGE_FIELDS:
        arrays[f"passage.{name}"] = np.asarray(index.passages[name], dtype=str)
    write_npz(path, arrays)


def load_index(path: str | os.PathLike[str]) -> AssistantIndex:
    """Read and structurally check an artifact written by :func:`save_index`."""
    arrays = read_npz(path, "assistant artifact")
    if str(_array(arrays, "format", "U", 0)) != FORMAT:
        raise ValidationFailed(f"unsupported assistant artifact format (expected {FORMAT})", details=_DETAILS)
    metadata = _metadata(arrays)
    passages = {name: _array(arrays, f"passage.{name}", "U", 1) for name in PASSAGE_FIELDS}
    embeddings = _array(arrays, "embeddings", "f", 2)
    n = embeddings.shape[0]
    if n == 0 or not 0 < embeddings.shape[1] <= MAX_DIM or any(v.shape[0] != n for v in passages.values()):
        raise ValidationFailed("assistant artifact arrays do not align with its passages", details=_DETAILS)
    if not np.all(np.isfinite(embeddings)):
        raise ValidationFailed("assistant artifact embeddings are not finite", details=_DETAILS)
    lexical = LexicalIndex(_array(arrays, "bm25.vocab", "U", 1), _array(arrays, "bm25.indptr", "iu", 1),
                           _array(arrays, "bm25.indices", "iu", 1), _array(arrays, "bm25.data", "f", 1), n)
    lexical.validate()
    word_terms = _array(arrays, "words.terms", "U", 1)
    word_embeddings = _array(arrays, "words.embeddings", "f", 2)
    if word_embeddings.shape != (word_terms.shape[0], embeddings.shape[1]) \
            or not np.all(np.isfinite(word_embeddings)):
        raise ValidationFailed("assistant artifact word vectors do not align with their terms", details=_DETAILS)
    return AssistantIndex(passages, np.asarray(embeddings, np.float32), lexical, metadata, word_terms,
                          np.asarray(word_embeddings, np.float32))


def _array(arrays: dict[str, np.ndarray], key: str, kinds: str, ndim: int) -> np.ndarray:
    value = arrays.get(key)
    if value is None or value.dtype.kind not in kinds or value.ndim != ndim:
        raise ValidationFailed(f"assistant artifact array {key!r} is missing or has the wrong type",
                               details=_DETAILS)
    return value


def _metadata(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    try:
        metadata = json.loads(str(_array(arrays, "metadata", "U", 0)))
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"assistant metadata is not JSON: {exc}", details=_DETAILS) from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("params"), dict):
        raise ValidationFailed("assistant metadata lacks its params", details=_DETAILS)
    return metadata
