"""Tiny fine-tunes of the bundled MiniLM on synthetic sentences: the whole path, export included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from limelight.artifacts.formats import DEFAULT_POLICY
from limelight.artifacts.modelfiles import check_onnx
from limelight.recipes.base import JobCancelled
from limelight.text.finetune import FinetuneConfig, FinetuneOutput, _subsample, finetune
from limelight.text.onnx_scorer import OnnxTextScorer

pytestmark = pytest.mark.timeout(120)

_WORDS = (
    ["great", "wonderful", "brilliant", "superb", "delightful", "lovely"],
    ["terrible", "boring", "awful", "dreadful", "tedious", "ugly"],
    ["the", "a", "film", "story", "plot", "actors"],
)


def _data(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Class 0 praises, class 1 pans, class 2 is neutral filler."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 3
    texts = [" ".join(rng.choice(_WORDS[c], size=int(rng.integers(2, 6)))) for c in labels]
    return texts, labels


def _config(**overrides: object) -> FinetuneConfig:
    base = {"max_length": 16, "epochs": 3, "batch_size": 8, "learning_rate": 1e-4,
            "eval_every_steps": 4, "patience": 100, "time_budget_s": 600.0, "seed": 7,
            "threads": 1}
    return FinetuneConfig(**(base | overrides))  # type: ignore[arg-type]


def _run(config: FinetuneConfig, reports: list[dict] | None = None) -> FinetuneOutput:
    train_texts, train_y = _data(48, seed=1)
    valid_texts, valid_y = _data(15, seed=2)
    sink = reports if reports is not None else []
    return finetune(train_texts, train_y, valid_texts, valid_y, 3, config, sink.append, lambda: None)


@pytest.fixture(scope="module")
def trained() -> tuple[FinetuneOutput, list[dict]]:
    reports: list[dict] = []
    return _run(_config(), reports), reports


def test_loss_falls_and_every_point_is_reported(trained: tuple[FinetuneOutput, list[dict]]) -> None:
    out, reports = trained
    assert reports == out.history and len(reports) >= 6
    assert all(set(p) == {"epoch", "step", "loss", "valid_metric", "elapsed_s"} for p in reports)
    losses = [p["loss"] for p in reports if p["loss"] is not None]
    assert np.mean(losses[-2:]) < 0.5 * np.mean(losses[:2])
    evals = [p for p in reports if p["valid_metric"] is not None]
    assert [p["step"] for p in evals] == [4, 6, 8, 12, 16, 18]  # every 4 steps and at each epoch end
    assert out.best_metric == max(p["valid_metric"] for p in evals) >= 0.9


def test_export_is_a_valid_artifact_that_scores_like_the_best_weights(
    trained: tuple[FinetuneOutput, list[dict]], tmp_path: Path
) -> None:
    out, _ = trained
    path = tmp_path / "model.onnx"
    path.write_bytes(out.onnx_bytes)
    info = check_onnx(path, path.stat().st_size, DEFAULT_POLICY)
    assert info["outputs"] == ["logits"] and info["opsets"]["ai.onnx"] >= 14
    valid_texts, valid_y = _data(15, seed=2)
    assert out.valid_logits.shape == (15, 3) and out.valid_logits.dtype == np.float32
    assert float((out.valid_logits.argmax(1) == valid_y).mean()) == pytest.approx(out.best_metric)
    scorer = OnnxTextScorer.from_bytes(out.onnx_bytes, out.tokenizer_json, out.max_length, threads=1)
    np.testing.assert_allclose(scorer.logits(valid_texts), out.valid_logits, atol=1e-5)


def test_onnx_logits_match_torch_logits() -> None:
    import torch

    from limelight.runtimes.sentence_embedding import _tokenizer, _torch_model, bundled_minilm_dir
    from limelight.text.finetune import _classifier, _export, _token_ids, _torch_logits

    torch.manual_seed(3)
    tokenizer = _tokenizer(bundled_minilm_dir(), 16)
    model = _classifier(_torch_model(bundled_minilm_dir(), 2), 3).eval()
    texts = ["short", "a somewhat longer sentence about a film", "x " * 40, "mid length one here"]
    expected = _torch_logits(model, _token_ids(tokenizer, texts), 3)
    scorer = OnnxTextScorer.from_bytes(_export(model, tokenizer), tokenizer.to_str(), 16)
    np.testing.assert_allclose(scorer.logits(texts), expected, atol=1e-4)
    assert scorer.truncated(texts) == [False, False, True, False]


def test_same_seed_same_model(trained: tuple[FinetuneOutput, list[dict]]) -> None:
    first, _ = trained
    again = _run(_config())
    np.testing.assert_array_equal(again.valid_logits, first.valid_logits)
    assert [p["loss"] for p in again.history] == [p["loss"] for p in first.history]


def test_early_stop_after_patience_evaluations_without_gain() -> None:
    # learning rate 0: the validation metric can never improve on the first evaluation
    out = _run(_config(learning_rate=0.0, patience=2, eval_every_steps=2, epochs=5))
    evals = [p["step"] for p in out.history if p["valid_metric"] is not None]
    assert evals == [2, 4, 6]
    assert out.history[-1]["step"] == 6  # 30 steps were planned


def test_time_budget_stops_training() -> None:
    out = _run(_config(epochs=200, time_budget_s=1.5, eval_every_steps=1000))
    last = out.history[-1]
    assert last["valid_metric"] is not None  # the steps since the last evaluation are scored
    assert 0 < last["step"] < 200 * 6
    assert last["elapsed_s"] < 1.5 + 10.0  # one step and the final evaluation may overrun


def test_cancellation_propagates() -> None:
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise JobCancelled("cancelled")

    texts, y = _data(24, seed=1)
    with pytest.raises(JobCancelled):
        finetune(texts, y, texts[:6], y[:6], 3, _config(), lambda _: None, check)
    assert len(calls) == 3


def test_multi_label() -> None:
    texts, labels = _data(48, seed=1)
    targets = np.zeros((48, 3), dtype=np.float32)
    targets[np.arange(48), labels] = 1.0
    targets[:, 2] = np.array([("the" in t.split()) or ("a" in t.split()) for t in texts], dtype=np.float32)
    out = finetune(texts, targets, texts[:12], targets[:12], 3, _config(multi_label=True, epochs=4),
                   lambda _: None, lambda: None)
    assert out.valid_logits.shape == (12, 3)
    losses = [p["loss"] for p in out.history if p["loss"] is not None]
    assert losses[-1] < losses[0]
    assert 0.0 < out.best_metric <= 1.0


def test_stratified_subsample_keeps_class_shares() -> None:
    texts = [str(i) for i in range(1000)]
    y = np.array([0] * 800 + [1] * 150 + [2] * 50)
    sub_texts, sub_y = _subsample(texts, y, FinetuneConfig(max_train_examples=100))
    assert len(sub_texts) == 100 and np.bincount(sub_y).tolist() == [80, 15, 5]
    assert all(y[int(t)] == label for t, label in zip(sub_texts, sub_y, strict=True))
    again, _ = _subsample(texts, y, FinetuneConfig(max_train_examples=100))
    assert again == sub_texts


def test_batches_are_length_buckets_padded_to_their_longest() -> None:
    from limelight.runtimes.sentence_embedding import _tokenizer, bundled_minilm_dir
    from limelight.text.finetune import _batches, _collate, _token_ids

    texts = [" ".join(["word"] * (i % 13)) for i in range(200)]
    ids = _token_ids(_tokenizer(bundled_minilm_dir(), 16), texts)
    assert sorted(map(len, ids)) == sorted(min(16, 2 + i % 13) for i in range(200))
    lengths = np.array([len(x) for x in ids])
    batches = _batches(lengths, 8, np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(200))
    assert all(np.ptp(lengths[b]) <= 1 for b in batches)  # 200 rows in one pool: sorted, so tight
    widths = set()
    for rows in batches:
        input_ids, mask, type_ids = _collate(ids, rows)
        widths.add(input_ids.shape[1])
        assert mask.sum(1).tolist() == lengths[rows].tolist() and int(type_ids.abs().sum()) == 0
    assert len(widths) > 5
    again = _batches(lengths, 8, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again, strict=True))


def test_learning_rate_warms_up_then_decays_to_zero_where_the_budget_ends() -> None:
    import torch

    from limelight.text.finetune import _Trainer

    texts, y = _data(320, seed=1)  # 40 batches of 8, 1 epoch
    model = torch.nn.Linear(2, 3)
    trainer = _Trainer(model, [[1]] * 320, y, [[1]], y[:1], _config(epochs=1, warmup_ratio=0.1),
                       lambda _: None, lambda: None)
    factors = [trainer._lr_factor(step) for step in range(40)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0] and factors[39] == pytest.approx(1 / 36)
    trainer.total_steps = 20  # what a pace estimate does when the budget ends before the plan
    assert trainer._lr_factor(12) == pytest.approx(0.5) and trainer._lr_factor(25) == 0.0
