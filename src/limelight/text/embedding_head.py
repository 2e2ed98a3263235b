"""The ``embedding-head`` scorer: frozen bundled MiniLM features into a logistic or MLP head.

The encoder is the ``sentence-embedding`` runtime on ``bundled_minilm_dir()`` (onnx engine when a
cache directory is lent for its export, else torch) with the artifact's ``pooling``: ``layers`` (every
layer's mean, the default since it classifies better) or ``mean`` (the unit-length sentence
embedding). Only the head's arrays are stored; a standardisation of the features is folded into them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from limelight.text.heads import head_logits

DEFAULT_MAX_LENGTH = 256  # MiniLM's max_seq_length
ENCODE_BATCH = 64


def load_encoder(max_length: int, cache_dir: Path | None, threads: int = 2, pooling: str = "mean") -> Any:
    from limelight.runtimes.base import LoadContext, load_runtime
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    engine = "onnx" if cache_dir is not None else "torch"
    return load_runtime("sentence-embedding", bundled_minilm_dir(),
                        {"engine": engine, "max_length": max_length, "threads": threads, "pooling": pooling},
                        LoadContext(cache_dir=cache_dir))


def embed(encoder: Any, texts: list[str], progress: Any = None) -> np.ndarray:
    """One feature row per text, in order (``SentenceEmbeddingRuntime.encode_many``)."""
    rows: np.ndarray = encoder.encode_many(texts, ENCODE_BATCH, progress)
    return rows


class _TokenCounter:
    """Tells whether a text exceeds the encoder's token limit (the encoder itself truncates silently)."""

    def __init__(self, max_length: int) -> None:
        from tokenizers import Tokenizer

        from limelight.runtimes.sentence_embedding import bundled_minilm_dir

        self._tok = Tokenizer.from_file(str(bundled_minilm_dir() / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.no_truncation()
        self.max_length = max_length

    def truncated(self, texts: list[str]) -> list[bool]:
        return [len(e.ids) > self.max_length for e in self._tok.encode_batch(texts)]


class EmbeddingHeadScorer:
    def __init__(self, encoder: Any, head: dict[str, np.ndarray], max_length: int) -> None:
        self.encoder = encoder
        self.head = head
        self.max_length = max_length
        self._counter = _TokenCounter(max_length)
        self.memory_bytes = int(encoder.memory_bytes) + sum(a.nbytes for a in head.values())

    def logits(self, texts: list[str]) -> np.ndarray:
        return head_logits(self.head, embed(self.encoder, texts).astype(np.float64))

    def truncated(self, texts: list[str]) -> list[bool]:
        return self._counter.truncated(texts)

    def close(self) -> None:
        self.encoder.close()
