"""Finding the passages that answer a question, and how sure the finding is.

Ranking is the search domain's hybrid: the top passages by MiniLM cosine and by BM25, min-max
mixed (``limelight.search.fusion``). Citations keep the best passage of each document, so ``k``
citations are ``k`` different articles.

Confidence, in [0, 1], is the mean of two absolute signals (the fused score cannot serve: it is
relative to the other candidates, so the winner is always near 1):

* **similarity**: the cosine between the question and the best passage (MiniLM). It says whether
  some passage is about the question's topic, but a question on a neighbouring topic ("a discount
  for seniors" beside the student discount) scores nearly as high as an answerable one;
* **coverage**: the IDF-weighted share of the question's words the documents know. A word the
  documents use counts fully; a word they never use weighs as much as their rarest word and
  counts by how close its MiniLM vector comes to their nearest word (0 below a cosine of 0.55,
  fully from 0.9: "bitcoin" is near "cryptocurrency", "movie" near "film", "CEO" near nothing).
  Questions the documents cannot answer usually hinge on such a word ("NFL", "3D", "Alexa"),
  which sentence similarity glosses over.

On the shipped evaluation set, abstaining on 80 % of the unanswerable questions costs 46 % of the
answerable ones with similarity alone, 13 % with the mean of similarity and exact-word coverage,
and 8.5 % with the mean of similarity and this coverage. The threshold is calibrated there
(``bench/assistant/evaluate.py``); see ``DEFAULT_ABSTAIN_THRESHOLD``. A studio with labelled
questions of its own can set ``abstain_threshold``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from limelight.assistant.artifact import AssistantIndex
from limelight.search.dense import top_k
from limelight.search.fusion import fuse
from limelight.search.text import tokens

Encoder = Callable[[list[str]], np.ndarray]
CANDIDATES = 50  # each side's depth before fusion
# Calibrated on the shipped Reelwave evaluation set (165 answerable, 20 unanswerable questions):
# see bench/assistant/README.md for the sweep this value comes from.
DEFAULT_ABSTAIN_THRESHOLD = 0.64
# an unknown word's credit: 0 at or below this cosine to the documents' nearest word, 1 at SOFT_FULL
SOFT_FLOOR, SOFT_FULL = 0.55, 0.9
# MiniLM's share of the hybrid ranking: customers paraphrase, so meaning matters more than words
# here than in catalog search (recall@3 on the evaluation set: 0.92 at 0.3, 0.95 at 0.5, 0.98 at 0.7)
DEFAULT_SEMANTIC_WEIGHT = 0.7


@dataclass(frozen=True)
class Hit:
    index: int  # the passage's row in the index
    doc_id: str
    title: str
    section: str
    text: str
    score: float  # fused rank score in [0, 1]
    similarity: float  # cosine between question and passage


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    confidence: float  # mean of similarity and coverage
    similarity: float
    coverage: float


class Retriever:
    def __init__(self, index: AssistantIndex, encode: Encoder, semantic_weight: float = DEFAULT_SEMANTIC_WEIGHT) -> None:
        self.index = index
        self.encode = encode
        self.semantic_weight = semantic_weight
        lexical = index.lexical
        n = index.size
        # BM25's own IDF form, floored at 0: a word in every passage says nothing
        self._idf = np.maximum(np.log((n + 1) / (np.diff(lexical.indptr) + 0.5)), 0.0)
        self._unknown_idf = float(np.log((n + 1) / 0.5))
        self._term_ids = {str(term): i for i, term in enumerate(lexical.vocab.tolist())}

    def retrieve_many(self, questions: list[str], k: int) -> list[Retrieval]:
        vectors = self.encode(questions)  # one encoder call for a batch of questions
        return [self.retrieve(q, k, vector) for q, vector in zip(questions, vectors, strict=True)]

    def retrieve(self, question: str, k: int, vector: np.ndarray | None = None) -> Retrieval:
        if vector is None:
            vector = self.encode([question])[0]
        cosines = np.einsum("ij,j->i", self.index.embeddings, np.asarray(vector, np.float32))
        semantic = top_k(cosines, CANDIDATES)
        terms = tokens(question)
        lexical_scores = self.index.lexical.scores(terms)
        lexical = top_k(lexical_scores, CANDIDATES, lexical_scores > 0)
        indices, scores = fuse(semantic, lexical, self.semantic_weight)
        hits = self._best_per_document(indices, scores, cosines, k)
        similarity = max(float(cosines.max()), 0.0)
        coverage = self.coverage(terms)
        return Retrieval(hits, round((similarity + coverage) / 2, 4), round(similarity, 4), round(coverage, 4))

    def coverage(self, terms: list[str]) -> float:
        """IDF-weighted share of ``terms`` the documents know (0 for no terms); see the module doc."""
        weights: dict[str, float] = {}
        unknown: list[str] = []
        for term in set(terms) - {""}:
            term_id = self._term_ids.get(term)
            if term_id is None:
                unknown.append(term)
            else:
                weights[term] = float(self._idf[term_id])
        total = sum(weights.values()) + self._unknown_idf * len(unknown)
        if total <= 0:
            return 0.0
        return (sum(weights.values()) + self._unknown_idf * sum(self._closeness(unknown))) / total

    def _closeness(self, words: list[str]) -> list[float]:
        """Per word, its credit from the cosine to the nearest word the documents use."""
        if not words or self.index.word_embeddings.shape[0] == 0:
            return [0.0] * len(words)
        vectors = np.asarray(self.encode(sorted(words)), np.float32)
        nearest = (vectors @ self.index.word_embeddings.T).max(axis=1)
        return np.clip((nearest - SOFT_FLOOR) / (SOFT_FULL - SOFT_FLOOR), 0.0, 1.0).tolist()

    def _best_per_document(self, indices: np.ndarray, scores: np.ndarray, cosines: np.ndarray,
                           k: int) -> list[Hit]:
        passages = self.index.passages
        hits: list[Hit] = []
        seen: set[str] = set()
        for index, score in zip(indices.tolist(), scores.tolist(), strict=True):
            doc_id = str(passages["doc_id"][index])
            if doc_id in seen:
                continue
            seen.add(doc_id)
            hits.append(Hit(index, doc_id, str(passages["title"][index]), str(passages["section"][index]),
                            str(passages["text"][index]), round(float(score), 4), round(float(cosines[index]), 4)))
            if len(hits) == k:
                break
        return hits
