"""Logits of a fine-tuned text classifier exported to ONNX, with onnxruntime (no torch).

The model takes ``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64, dynamic batch and
sequence axes) and returns ``logits``. Texts are truncated at ``max_length`` tokens and each batch
is padded only to its longest text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from limelight.runtimes.onnx_model import session_options
from limelight.runtimes.sentence_embedding import configure_tokenizer, encode_texts

_BATCH = 64  # bounds the padded batch's memory whatever the caller passes


class OnnxTextScorer:
    """``list[str]`` in, ``(n, n_labels)`` float32 logits out."""

    def __init__(self, session: Any, tokenizer: Any, max_length: int, memory_bytes: int) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.max_length = max_length
        self.memory_bytes = memory_bytes
        self.n_labels = int(session.get_outputs()[0].shape[-1])

    @classmethod
    def from_bytes(
        cls, onnx_bytes: bytes, tokenizer_json: str, max_length: int, threads: int = 2
    ) -> OnnxTextScorer:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        session = ort.InferenceSession(onnx_bytes, session_options(threads), providers=["CPUExecutionProvider"])
        tokenizer = configure_tokenizer(Tokenizer.from_str(tokenizer_json), max_length)
        # measured for fine-tuned MiniLM (90 MB): about 260 MB more resident after a batch of 64
        # 64-token texts (weights, optimised copies, arenas)
        memory = int(2.5 * len(onnx_bytes)) + len(tokenizer_json) * 4 + (48 << 20)
        return cls(session, tokenizer, max_length, memory)

    def logits(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.n_labels), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), _BATCH):
            ids, mask, type_ids = encode_texts(self._tokenizer, texts[start : start + _BATCH])
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids}
            parts.append(self._session.run(["logits"], feed)[0])
        return np.concatenate(parts).astype(np.float32, copy=False)

    def truncated(self, texts: list[str]) -> list[bool]:
        """True where the text has more than ``max_length`` tokens (special tokens included)."""
        return [bool(e.overflowing) for e in self._tokenizer.encode_batch(texts)]

    def close(self) -> None:
        self._session = None
