"""Texts into token blocks: a held-out share of whole texts, the rest packed end to end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Blocks:
    train: np.ndarray  # (n, block_size) int64 token ids
    held_out: np.ndarray


def split_texts(texts: list[str], validation_share: float, seed: int) -> tuple[list[str], list[str]]:
    """Whole texts go to one side only, so held-out perplexity measures texts the model never saw."""
    order = np.random.default_rng(seed).permutation(len(texts))
    n_held = max(1, round(len(texts) * validation_share))
    if n_held >= len(texts):
        n_held = len(texts) - 1
    held = [texts[i] for i in order[:n_held]]
    train = [texts[i] for i in order[n_held:]]
    return train, held


def pack(tokenizer: Any, texts: list[str], block_size: int) -> np.ndarray:
    """Every text's tokens followed by end-of-sequence, concatenated and cut into full blocks.

    A tail shorter than a block is dropped unless it is all there is (then it is padded by
    repeating the stream), so a small corpus still yields one block."""
    eos = tokenizer.eos_token_id
    stream: list[int] = []
    for text in texts:
        stream += tokenizer(text, add_special_tokens=False)["input_ids"] + [eos]
    if not stream:
        return np.zeros((0, block_size), dtype=np.int64)
    if len(stream) < block_size:
        stream = (stream * (block_size // len(stream) + 1))[:block_size]
    n_blocks = len(stream) // block_size
    return np.asarray(stream[: n_blocks * block_size], dtype=np.int64).reshape(n_blocks, block_size)


def make_blocks(tokenizer: Any, texts: list[str], *, block_size: int, validation_share: float,
                seed: int) -> Blocks:
    train, held = split_texts(texts, validation_share, seed)
    return Blocks(train=pack(tokenizer, train, block_size), held_out=pack(tokenizer, held, block_size))
