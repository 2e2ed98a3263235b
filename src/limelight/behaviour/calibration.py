"""Calibrated probabilities: isotonic or Platt maps fitted on held-out rows, stored as plain arrays,
and the figures that judge them (Brier score, a reliability curve)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Method = Literal["isotonic", "platt"]
ISOTONIC_MIN_ROWS = 200  # below this an isotonic step function overfits; "auto" picks Platt


@dataclass
class Calibrator:
    """Maps a score (the model's log-odds) to a probability. ``isotonic``: piecewise-linear through
    (x, y), clipped at the ends; ``platt``: sigmoid(a * score + b)."""

    method: Method
    x: list[float]
    y: list[float]

    def apply(self, scores: np.ndarray) -> np.ndarray:
        scores = np.asarray(scores, np.float64)
        if self.method == "isotonic":
            return np.interp(scores, self.x, self.y)
        a, b = self.y
        return 0.5 * (1.0 + np.tanh(0.5 * (a * scores + b)))  # the sigmoid, overflow-free

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "x": self.x, "y": self.y}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Calibrator:
        return cls(raw["method"], [float(v) for v in raw["x"]], [float(v) for v in raw["y"]])


def fit(scores: np.ndarray, labels: np.ndarray, method: Literal["auto", "isotonic", "platt"]) -> Calibrator:
    if method == "auto":
        method = "isotonic" if len(labels) >= ISOTONIC_MIN_ROWS else "platt"
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
        return Calibrator("isotonic", iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e4).fit(np.asarray(scores, np.float64).reshape(-1, 1), labels)
    return Calibrator("platt", [0.0, 0.0], [float(model.coef_[0, 0]), float(model.intercept_[0])])


def brier(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((np.asarray(probabilities, np.float64) - labels) ** 2))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per equal-width bin of predicted probability: its mean prediction, observed rate and rows."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    curve = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            curve.append({"low": round(float(edges[b]), 3), "high": round(float(edges[b + 1]), 3),
                          "predicted": round(float(probabilities[mask].mean()), 6),
                          "observed": round(float(labels[mask].mean()), 6), "rows": int(mask.sum())})
    return curve
