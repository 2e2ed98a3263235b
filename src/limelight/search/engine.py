"""Answering one query against a loaded search model: modes, filters, fusion, highlights."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from limelight.search.artifact import SearchModel
from limelight.search.dense import DenseIndex, top_k
from limelight.search.fusion import Fusion, fuse
from limelight.search.text import highlights, tokens

Mode = Literal["hybrid", "lexical", "semantic"]
MODES: tuple[str, ...] = ("hybrid", "lexical", "semantic")
# each side of a hybrid query contributes this many candidates (at least 5 k) to the fusion
FUSION_DEPTH = 100

Encoder = Callable[[list[str]], np.ndarray]


class SearchEngine:
    """A search model with its dense index, catalog and query encoder."""

    def __init__(self, model: SearchModel, dense: DenseIndex, catalog: Any, encoder: Encoder) -> None:
        self.model = model
        self.dense = dense
        self.catalog = catalog
        self.encode = encoder
        params = model.metadata.get("params", {})
        self.semantic_weight = float(params.get("semantic_weight", 0.5))
        self.fusion: Fusion = "rrf" if params.get("fusion") == "rrf" else "mix"
        self._index_of = {str(item): n for n, item in enumerate(model.item_ids.tolist())}

    def search_many(self, requests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Queries needing vectors are encoded together: one encoder call per batch."""
        needs = [n for n, r in enumerate(requests) if r.get("mode", "hybrid") != "lexical"]
        vectors = self.encode([str(requests[n]["query"]) for n in needs]) if needs else None
        row = {n: i for i, n in enumerate(needs)}
        return [self.search(**request, vector=None if vectors is None or n not in row else vectors[row[n]])
                for n, request in enumerate(requests)]

    def search(self, query: str, k: int = 10, filters: Mapping[str, Any] | None = None, mode: str = "hybrid",
               vector: np.ndarray | None = None) -> dict[str, Any]:
        mask = self.mask(filters or {})
        terms = tokens(query)
        if mode != "lexical" and vector is None:
            vector = self.encode([query])[0]
        depth = max(FUSION_DEPTH, 5 * k) if mode == "hybrid" else k
        lexical = self._lexical(terms, depth, mask) if mode != "semantic" else None
        semantic = self.dense.search(vector, depth, mask) if vector is not None else None
        if lexical is not None and semantic is not None:
            indices, scores = fuse(semantic, lexical, self.semantic_weight, self.fusion)
        else:
            indices, scores = lexical if lexical is not None else semantic  # type: ignore[misc]
        return {"items": self._describe(indices[:k], scores[:k], set(terms)), "index": self.dense.kind}

    def mask(self, filters: Mapping[str, Any]) -> np.ndarray | None:
        """The catalog's metadata mask, narrowed by ``item_ids`` / ``exclude_item_ids``."""
        mask = self.catalog.candidate_mask(filters)
        if "item_ids" in filters:
            allowed = np.zeros(len(self._index_of), bool)
            allowed[[self._index_of[i] for i in filters["item_ids"] if i in self._index_of]] = True
            mask = allowed if mask is None else mask & allowed
        if filters.get("exclude_item_ids"):
            mask = np.ones(len(self._index_of), bool) if mask is None else mask.copy()
            mask[[self._index_of[i] for i in filters["exclude_item_ids"] if i in self._index_of]] = False
        return mask

    def _lexical(self, terms: list[str], depth: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        scores = self.model.lexical.scores(terms)
        matched = scores > 0
        mask = matched if mask is None else mask & matched
        return top_k(scores, depth, mask)

    def _describe(self, indices: np.ndarray, scores: np.ndarray, terms: set[str]) -> list[dict[str, Any]]:
        out = []
        for index, score in zip(indices.tolist(), scores.tolist(), strict=True):
            entry = {"item_id": str(self.model.item_ids[index]), "score": round(float(score), 6),
                     **self.catalog.describe(index)}
            for name, column in self.catalog.columns.items():  # the studio's extra metadata too
                if column[index] is not None:
                    entry.setdefault(name, column[index])
            texts = {name: str(values[index]) for name, values in self.model.fields.items() if values[index]}
            for name, text in texts.items():
                entry.setdefault(name, text)
            # spans only into fields returned as that very string (a list of genres has no offsets)
            entry["highlights"] = highlights(terms, {n: t for n, t in texts.items() if entry[n] == t})
            out.append(entry)
        return out
