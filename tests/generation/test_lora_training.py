"""The pure parts of LoRA training: the learning-rate plan under a time budget, and block packing."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.generation.lora.corpus import pack, split_texts
from limelight.generation.lora.training import TrainSettings, _Schedule


def test_schedule_warms_up_then_decays_over_max_steps() -> None:
    plan = _Schedule(TrainSettings(max_steps=100, warmup_ratio=0.1, time_budget_s=1e6))
    factors = [plan.factor(s) for s in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False)) and factors[-1] < 0.15


def test_schedule_shrinks_to_the_steps_the_budget_holds_after_a_slow_first_evaluation() -> None:
    plan = _Schedule(TrainSettings(max_steps=1000, time_budget_s=100))
    plan.observe(1, 40.0)  # the first step ends after a 39 s evaluation: not the pace of training
    plan.observe(5, 44.0)  # then 1 s per step: 56 s left hold ~50 more steps
    assert 50 <= plan.total_steps <= 60
    plan.observe(10, 49.0)
    assert 50 <= plan.total_steps <= 60


class _Tokenizer:
    eos_token_id = 0

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [len(word) for word in text.split()]}


def test_pack_joins_texts_with_eos_and_keeps_full_blocks() -> None:
    blocks = pack(_Tokenizer(), ["a bb ccc", "dddd eeeee"], block_size=3)
    assert blocks.tolist() == [[1, 2, 3], [0, 4, 5]]  # the trailing eos is a short tail: dropped
    assert pack(_Tokenizer(), ["a bb"], block_size=5).tolist() == [[1, 2, 0, 1, 2]]  # one short text: repeated


def test_split_holds_out_whole_texts_and_never_all() -> None:
    texts = [f"text {i}" for i in range(10)]
    train, held = split_texts(texts, 0.3, seed=1)
    assert len(held) == 3 and sorted(train + held) == sorted(texts)
    assert split_texts(texts[:2], 0.8, seed=1)[0]  # something is always left to train on
    assert isinstance(pack(_Tokenizer(), [], 4), np.ndarray)
