"""A scorer (raw logits) plus its calibration: calibrated probabilities and label decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from limelight.text.calibration import sigmoid, softmax


class Scorer(Protocol):
    memory_bytes: int

    def logits(self, texts: list[str]) -> np.ndarray: ...

    def truncated(self, texts: list[str]) -> list[bool]: ...


@dataclass
class Calibration:
    temperature: float = 1.0  # single-label
    platt_a: np.ndarray | None = None  # multi-label, per label
    platt_b: np.ndarray | None = None
    thresholds: np.ndarray | None = None

    def apply(self, logits: np.ndarray, multi_label: bool) -> np.ndarray:
        if not multi_label:
            return softmax(logits / self.temperature)
        a = self.platt_a if self.platt_a is not None else np.ones(logits.shape[1])
        b = self.platt_b if self.platt_b is not None else np.zeros(logits.shape[1])
        return sigmoid(logits * a + b)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"temperature": self.temperature}
        if self.platt_a is not None and self.platt_b is not None:
            out["platt"] = {"a": self.platt_a.tolist(), "b": self.platt_b.tolist()}
        if self.thresholds is not None:
            out["thresholds"] = self.thresholds.tolist()
        return out


@dataclass
class TextClassifier:
    kind: str
    labels: list[str]
    multi_label: bool
    scorer: Any
    calibration: Calibration
    max_length: int
    metadata: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return self.calibration.apply(np.asarray(self.scorer.logits(texts), np.float64), self.multi_label)

    def thresholds(self) -> np.ndarray:
        t = self.calibration.thresholds
        return t if t is not None else np.full(len(self.labels), 0.5)

    def predict(self, texts: list[str], top_k: list[int | None] | None = None,
                threshold: list[float | dict[str, float] | None] | None = None) -> list[dict[str, Any]]:
        proba = self.probabilities(texts)
        truncated = self.scorer.truncated(texts)
        out = []
        for i, row in enumerate(proba):
            k = top_k[i] if top_k else None
            cut = threshold[i] if threshold else None
            out.append(self._decide(row, k, cut) | {"truncated": bool(truncated[i])})
        return out

    def _cuts(self, cut: float | dict[str, float] | None) -> np.ndarray:
        if isinstance(cut, dict):
            cuts = self.thresholds().copy()
            for label, value in cut.items():
                cuts[self.labels.index(label)] = value
            return cuts
        return np.full(len(self.labels), cut) if cut is not None else self.thresholds()

    def _decide(self, row: np.ndarray, top_k: int | None, cut: float | dict[str, float] | None) -> dict[str, Any]:
        order = np.argsort(-row, kind="stable")
        ranked = [{"label": self.labels[j], "score": round(float(row[j]), 6)} for j in order]
        if self.multi_label:
            cuts = self._cuts(cut)
            chosen = [r for r, j in zip(ranked, order, strict=True) if row[j] >= cuts[j]]
        else:
            chosen = ranked
        if top_k is not None:
            chosen = chosen[:top_k]
        top = ranked[0]
        return {"label": top["label"], "score": top["score"], "probabilities": [round(float(p), 6) for p in row],
                "labels": chosen}

    @property
    def memory_bytes(self) -> int:
        return int(self.scorer.memory_bytes) + (4 << 20)

    def close(self) -> None:
        close = getattr(self.scorer, "close", None)
        if close is not None:
            close()
