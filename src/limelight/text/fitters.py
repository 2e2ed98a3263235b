"""The fitters for ``tfidf`` and ``embedding-head``: each turns a :class:`Split` into a :class:`Fitted`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from limelight.text.heads import fit_logistic, fit_mlp, fold_standardisation, head_logits, standardiser
from limelight.text.training import Fitted, Split


def tfidf_fitter(*, c: float, max_features: int, class_weight: str | None, seed: int) -> Callable[[Split], Fitted]:
    def fit(split: Split) -> Fitted:
        from limelight.text.tfidf import MAX_CHARS, TfidfScorer, fit_features, vectorizer_arrays

        vectorizers, matrix = fit_features([t[:MAX_CHARS] for t in split.train_texts], max_features)
        head = fit_logistic(matrix, split.train_y, len(split.labels), split.multi_label, c, seed, class_weight)
        scorer = TfidfScorer(vectorizers, head)
        members = vectorizer_arrays(vectorizers) | {f"head.{k}": v for k, v in head.items()}
        return Fitted("tfidf", members, scorer.logits(split.valid_texts), MAX_CHARS,
                      {"features": int(matrix.shape[1]), "C": c})

    return fit


def embedding_fitter(*, head: str, hidden_units: int, c: float, max_length: int, seed: int, features: str,
                     cache_dir: Path | None, progress: Callable[[int, int], None] | None = None,
                     check_cancelled: Callable[[], None] | None = None) -> Callable[[Split], Fitted]:
    """``features`` ``layers``: every MiniLM layer's mean, standardised before the head (the scale is
    folded into the stored head); ``sentence``: the unit-length sentence embedding as it is."""
    pooling = "layers" if features == "layers" else "mean"

    def fit(split: Split) -> Fitted:
        from limelight.text.embedding_head import embed, load_encoder

        encoder = load_encoder(max_length, cache_dir, pooling=pooling)
        try:
            train_x = embed(encoder, split.train_texts, _reporter(progress, check_cancelled)).astype(np.float64)
            valid_x = embed(encoder, split.valid_texts).astype(np.float64)
        finally:
            encoder.close()
        if pooling == "layers":
            mean, scale = standardiser(train_x)
            arrays = fold_standardisation(_fit_head(head, (train_x - mean) / scale, split, hidden_units, c, seed),
                                          mean, scale)
        else:
            arrays = _fit_head(head, train_x, split, hidden_units, c, seed)
        members = {f"head.{k}": v for k, v in arrays.items()}
        return Fitted("embedding-head", members, head_logits(arrays, valid_x), max_length,
                      {"head": head, "features": features, "C": c}, metadata={"pooling": pooling})

    return fit


def _fit_head(head: str, x: np.ndarray, split: Split, hidden: int, c: float, seed: int) -> dict[str, np.ndarray]:
    if head == "mlp":
        return fit_mlp(x, split.train_y, len(split.labels), split.multi_label, hidden, seed)
    return fit_logistic(x, split.train_y, len(split.labels), split.multi_label, c, seed)


def _reporter(progress: Any, check_cancelled: Any) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        if check_cancelled is not None:
            check_cancelled()
        if progress is not None:
            progress(done, total)

    return report
