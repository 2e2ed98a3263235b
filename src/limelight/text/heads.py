"""Linear and small-MLP heads as plain arrays: logits = f(features), never a pickled estimator.

Single-label heads give one logit per class (a binary sklearn model's single score ``z`` becomes
``[-z/2, z/2]``, whose softmax is its sigmoid); multi-label heads give one independent logit per label.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fit_logistic(x: Any, y: np.ndarray, n_classes: int, multi_label: bool, c: float, seed: int,
                 class_weight: str | None = None) -> dict[str, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    def model() -> Any:
        return LogisticRegression(C=c, max_iter=2000, random_state=seed, class_weight=class_weight)

    if multi_label:
        rows, intercepts = [], []
        for j in range(n_classes):
            column = y[:, j] > 0.5
            if column.all() or not column.any():  # a tag on every (or no) training text: a constant
                rows.append(np.zeros(x.shape[1]))
                intercepts.append(6.0 if column.all() else -6.0)
                continue
            fitted = model().fit(x, column.astype(int))
            rows.append(fitted.coef_[0])
            intercepts.append(float(fitted.intercept_[0]))
        return {"coef": np.array(rows), "intercept": np.array(intercepts)}
    fitted = model().fit(x, y)
    return two_class_form(fitted.coef_, fitted.intercept_)


def two_class_form(coef: np.ndarray, intercept: np.ndarray) -> dict[str, np.ndarray]:
    if coef.shape[0] == 1:
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return {"coef": np.asarray(coef, np.float64), "intercept": np.asarray(intercept, np.float64)}


def fit_mlp(x: np.ndarray, y: np.ndarray, n_classes: int, multi_label: bool, hidden: int,
            seed: int) -> dict[str, np.ndarray]:
    from sklearn.neural_network import MLPClassifier

    target = (y > 0.5).astype(int) if multi_label else y
    fitted = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=300, early_stopping=False, random_state=seed,
                           alpha=1e-3).fit(x, target)
    out = two_class_form(fitted.coefs_[1].T, fitted.intercepts_[1]) if not multi_label else {
        "coef": fitted.coefs_[1].T.astype(np.float64), "intercept": fitted.intercepts_[1].astype(np.float64)}
    return {"hidden_coef": fitted.coefs_[0].T.astype(np.float64),
            "hidden_intercept": fitted.intercepts_[0].astype(np.float64), **out}


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales (1 where a column is constant) of training features."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    return mean, np.where(scale > 1e-12, scale, 1.0)


def fold_standardisation(head: dict[str, np.ndarray], mean: np.ndarray, scale: np.ndarray) -> dict[str, np.ndarray]:
    """The same head on raw features: a head fitted on ``(x - mean) / scale`` has its first layer's
    weights divided by ``scale`` and ``weights @ mean`` taken from its intercept, so serving applies
    one matrix product to the encoder's output and stores nothing else."""
    first = "hidden_coef" if "hidden_coef" in head else "coef"
    bias = "hidden_intercept" if first == "hidden_coef" else "intercept"
    weights = head[first] / scale
    return {**head, first: weights, bias: head[bias] - weights @ mean}


def head_logits(head: dict[str, np.ndarray], x: Any) -> np.ndarray:
    if "hidden_coef" in head:
        x = np.maximum(np.asarray(x @ head["hidden_coef"].T) + head["hidden_intercept"], 0.0)
    return np.asarray(x @ head["coef"].T) + head["intercept"]
