"""Calibration fitted on the validation split.

Single-label: one temperature ``T`` (softmax(logits / T)) minimising the validation log-loss.
Multi-label: per label a sigmoid ``p = σ(a·z + b)`` over the raw logit ``z`` (Platt scaling), then a
decision threshold per label chosen on the validation split to maximise that label's F1.
"""

from __future__ import annotations

import numpy as np

_LOG_T_RANGE = (-4.0, 4.0)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    from scipy.optimize import minimize_scalar

    logits = logits.astype(np.float64)

    def nll(log_t: float) -> float:
        scaled = logits / np.exp(log_t)
        shifted = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        return float((log_norm - shifted[np.arange(len(y)), y]).mean())

    result = minimize_scalar(nll, bounds=_LOG_T_RANGE, method="bounded")
    return float(np.exp(result.x)) if result.success else 1.0


def fit_platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of σ(a·z + b) by Newton steps on the log-loss; identity when one class is missing."""
    positives = int(y.sum())
    if positives == 0 or positives == len(y):
        return 1.0, 0.0
    # Platt's smoothed targets keep a separable validation set from pushing a to infinity
    target = np.where(y > 0.5, (positives + 1) / (positives + 2), 1 / (len(y) - positives + 2))
    a, b = 1.0, 0.0
    for _ in range(50):
        p = sigmoid(a * z + b)
        w = np.maximum(p * (1 - p), 1e-12)
        grad = np.array([((p - target) * z).sum(), (p - target).sum()])
        hess = np.array([[(w * z * z).sum(), (w * z).sum()], [(w * z).sum(), w.sum()]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The cut maximising F1 on validation (0.5 when the label never occurs there)."""
    truth = y > 0.5
    if not truth.any():
        return 0.5
    best, best_f1 = 0.5, -1.0
    for cut in np.unique(np.concatenate([p, [0.5]])):
        predicted = p >= cut
        tp = float((predicted & truth).sum())
        f1 = 2 * tp / (predicted.sum() + truth.sum())
        if f1 > best_f1 + 1e-12:
            best, best_f1 = float(cut), f1
    return best


def calibrate_multi(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per label (a, b) and the threshold on the calibrated probability."""
    pairs = [fit_platt(logits[:, j], y[:, j]) for j in range(logits.shape[1])]
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    proba = sigmoid(logits * a + b)
    thresholds = np.array([best_threshold(proba[:, j], y[:, j]) for j in range(logits.shape[1])])
    return a, b, thresholds
