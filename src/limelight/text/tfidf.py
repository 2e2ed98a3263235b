"""The ``tfidf`` scorer: word 1-2 grams + char_wb 2-5 grams (TF-IDF, sublinear tf) into a logistic head.

Stored as vocabularies (unicode arrays ordered by column), idf vectors and the head's arrays; the
vectorizers are rebuilt from those with a fixed vocabulary and the stored idf, so serving computes
exactly the training transform without unpickling anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from limelight.errors import ValidationFailed
from limelight.text.heads import head_logits

MAX_CHARS = 20_000  # longer texts are cut (and flagged): the n-gram cost grows with length
ANALYZERS = {"word": {"analyzer": "word", "ngram_range": (1, 2)},
             "char": {"analyzer": "char_wb", "ngram_range": (2, 5)}}


def _vectorizer(part: str, max_features: int | None = None, vocabulary: Any = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(lowercase=True, sublinear_tf=True, dtype=np.float64, max_features=max_features,
                           vocabulary=vocabulary, **ANALYZERS[part])


def fit_features(texts: list[str], max_features: int) -> tuple[dict[str, Any], Any]:
    """The fitted word and char vectorizers and the training matrix (their horizontal stack)."""
    from scipy.sparse import hstack

    vectorizers = {part: _vectorizer(part, max_features) for part in ANALYZERS}
    matrix = hstack([v.fit_transform(texts) for v in vectorizers.values()]).tocsr()
    return vectorizers, matrix


def vectorizer_arrays(vectorizers: dict[str, Any]) -> dict[str, np.ndarray]:
    arrays = {}
    for part, vectorizer in vectorizers.items():
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        arrays[f"tfidf.{part}.vocab"] = np.array(terms, dtype=str)
        arrays[f"tfidf.{part}.idf"] = np.asarray(vectorizer.idf_, dtype=np.float64)
    return arrays


class TfidfScorer:
    def __init__(self, vectorizers: dict[str, Any], head: dict[str, np.ndarray], max_chars: int = MAX_CHARS) -> None:
        self.vectorizers = vectorizers
        self.head = head
        self.max_chars = max_chars
        self.memory_bytes = sum(a.nbytes for a in head.values()) + sum(
            len(v.vocabulary_) * 120 for v in vectorizers.values())

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], head: dict[str, np.ndarray]) -> TfidfScorer:
        vectorizers = {}
        for part in ANALYZERS:
            vocab, idf = arrays.get(f"tfidf.{part}.vocab"), arrays.get(f"tfidf.{part}.idf")
            if vocab is None or idf is None or vocab.ndim != 1 or idf.shape != vocab.shape:
                raise ValidationFailed(f"text artifact: tfidf.{part} vocabulary and idf missing or misaligned")
            terms = vocab.tolist()
            if len(set(terms)) != len(terms):
                raise ValidationFailed(f"text artifact: tfidf.{part} vocabulary has duplicates")
            vectorizer = _vectorizer(part, vocabulary={t: i for i, t in enumerate(terms)})
            vectorizer.idf_ = idf.astype(np.float64)
            vectorizers[part] = vectorizer
        width = sum(len(v.vocabulary) for v in vectorizers.values())
        if head["coef"].shape[1] != width:
            raise ValidationFailed("text artifact: head width does not match the vocabularies")
        return cls(vectorizers, head)

    def features(self, texts: list[str]) -> Any:
        from scipy.sparse import hstack

        cut = [t[: self.max_chars] for t in texts]
        return hstack([v.transform(cut) for v in self.vectorizers.values()]).tocsr()

    def logits(self, texts: list[str]) -> np.ndarray:
        return head_logits(self.head, self.features(texts))

    def truncated(self, texts: list[str]) -> list[bool]:
        return [len(t) > self.max_chars for t in texts]
