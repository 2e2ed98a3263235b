"""Fine-tune all-MiniLM-L6-v2 (mean pooling, dropout, a linear head) for text classification on CPU,
then export the best weights to ONNX bytes.

Training: AdamW (no weight decay on biases and LayerNorm), linear warm-up then linear decay,
length-bucketed batches padded to their longest text, cross-entropy (single-label) or BCE with
logits (multi-label). The validation split is scored every ``eval_every_steps`` and at each epoch
end (accuracy, or micro-F1 for multi-label); training stops early after ``patience`` evaluations
without improvement, at ``time_budget_s`` (the training loop with its evaluations; loading and export
come on top), or when ``check_cancelled`` raises. When the budget will end training before the
planned epochs, the decay is re-aimed at the step the budget is expected to reach (from the pace so
far), so the model still ends on a small learning rate; such a run depends on the machine's speed,
while a run inside its budget is the same for the same seed. ``valid_logits`` come
from the exported model through onnxruntime, so a caller calibrates what serving will compute.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from limelight.runtimes.sentence_embedding import (
    _tokenizer,
    _torch_model,
    bundled_minilm_dir,
    encode_texts,
    export_onnx,
)
from limelight.text.onnx_scorer import OnnxTextScorer

_BUCKET_BATCHES = 50  # batches per length-sorted pool: padding stays low, order stays random
_EVAL_BATCH = 64
_DROPOUT = 0.1


@dataclass
class FinetuneConfig:
    max_length: int = 64
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    patience: int = 2
    time_budget_s: float = 1200.0
    eval_every_steps: int = 200
    seed: int = 42
    multi_label: bool = False
    threads: int = 2
    max_train_examples: int | None = None


@dataclass
class FinetuneOutput:
    onnx_bytes: bytes
    tokenizer_json: str
    max_length: int
    history: list[dict]
    best_metric: float
    valid_logits: np.ndarray


def finetune(
    train_texts: list[str],
    train_targets: np.ndarray,
    valid_texts: list[str],
    valid_targets: np.ndarray,
    n_labels: int,
    config: FinetuneConfig,
    report: Callable[[dict], None],
    check_cancelled: Callable[[], None],
) -> FinetuneOutput:
    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not len(valid_texts) or len(valid_texts) != len(valid_targets) or len(train_texts) != len(train_targets):
        raise ValueError("train and validation texts need one target each, and validation at least one text")
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)  # the head's initialisation and dropout
    torch.set_num_threads(config.threads)
    train_texts, train_targets = _subsample(train_texts, train_targets, config)
    model_dir = bundled_minilm_dir()
    tokenizer = _tokenizer(model_dir, config.max_length)
    model = _classifier(_torch_model(model_dir, config.threads), n_labels)
    train_ids, valid_ids = _token_ids(tokenizer, train_texts), _token_ids(tokenizer, valid_texts)
    trainer = _Trainer(model, train_ids, train_targets, valid_ids, valid_targets, config, report,
                       check_cancelled).run()
    if trainer.best_state is not None:
        model.load_state_dict(trainer.best_state)
    onnx_bytes = _export(model, tokenizer)
    tokenizer_json = tokenizer.to_str()
    scorer = OnnxTextScorer.from_bytes(onnx_bytes, tokenizer_json, config.max_length, config.threads)
    return FinetuneOutput(onnx_bytes, tokenizer_json, config.max_length, trainer.history,
                          trainer.best_metric, scorer.logits(list(valid_texts)))


def _token_ids(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """Each text's token ids, truncated and unpadded: batches are padded later, each to its longest."""
    return [e.ids[: sum(e.attention_mask)] for e in tokenizer.encode_batch(list(texts))]


def _subsample(texts: list[str], targets: np.ndarray, config: FinetuneConfig) -> tuple[list[str], np.ndarray]:
    """At most ``max_train_examples`` rows, each class (single-label) or label set kept in proportion."""
    limit = config.max_train_examples
    if limit is None or limit >= len(texts):
        return texts, targets
    rng = np.random.default_rng(config.seed)
    if targets.ndim == 1:
        keys = np.asarray(targets)
    else:  # a multi-label row's stratum is its whole label set
        keys = np.array([row.tobytes() for row in np.packbits(targets > 0.5, axis=1)], dtype=object)
    chosen: list[int] = []
    for key in sorted(set(keys.tolist())):
        members = np.flatnonzero(keys == key)
        take = max(1, round(limit * len(members) / len(texts)))
        chosen += rng.permutation(members)[:take].tolist()
    picked = np.sort(rng.permutation(np.array(chosen))[:limit])
    return [texts[i] for i in picked], targets[picked]


def _classifier(bert: Any, n_labels: int) -> Any:
    """BERT, mean pooling over real tokens, dropout and a linear head to ``n_labels`` logits."""
    import torch

    class Classifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert
            self.dropout = torch.nn.Dropout(_DROPOUT)
            self.head = torch.nn.Linear(bert.config.hidden_size, n_labels)
            torch.nn.init.normal_(self.head.weight, std=0.02)
            torch.nn.init.zeros_(self.head.bias)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return self.head(self.dropout(pooled))

    return Classifier()


class _Trainer:
    """One fine-tuning run: the loop, the learning-rate schedule, the evaluations and the stopping rules."""

    def __init__(self, model: Any, train_ids: list[list[int]], train_targets: np.ndarray,
                 valid_ids: list[list[int]], valid_targets: np.ndarray, config: FinetuneConfig,
                 report: Callable[[dict], None], check_cancelled: Callable[[], None]) -> None:
        import torch

        self.model, self.config, self.report, self.check_cancelled = model, config, report, check_cancelled
        self.train_ids, self.valid_ids, self.valid_targets = train_ids, valid_ids, valid_targets
        dtype = np.float32 if config.multi_label else np.int64
        self.targets = torch.from_numpy(np.ascontiguousarray(train_targets, dtype=dtype))
        self.loss_fn = torch.nn.BCEWithLogitsLoss() if config.multi_label else torch.nn.CrossEntropyLoss()
        self.planned_steps = -(-len(train_ids) // config.batch_size) * config.epochs
        self.total_steps = self.planned_steps
        self.warmup = max(1, int(self.planned_steps * config.warmup_ratio))
        self.optimizer = _optimizer(model, config)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.started, self.step, self.loss_sum, self.loss_count = time.monotonic(), 0, 0.0, 0
        self.best_metric, self.best_state, self.evals_without_gain, self.last_eval_step = -1.0, None, 0, -1
        self.history: list[dict] = []

    def _lr_factor(self, step: int) -> float:
        """Linear warm-up, then linear decay to 0 at the last step the time budget is expected to allow."""
        if step < self.warmup:
            return (step + 1) / self.warmup
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - self.warmup))

    def run(self) -> _Trainer:
        rng = np.random.default_rng(self.config.seed)
        lengths = np.array([len(ids) for ids in self.train_ids])
        loss_every = max(1, self.config.eval_every_steps // 4)
        for epoch in range(1, self.config.epochs + 1):
            for rows in _batches(lengths, self.config.batch_size, rng):
                self.check_cancelled()
                if time.monotonic() - self.started >= self.config.time_budget_s:
                    if self.last_eval_step != self.step:
                        self._evaluate(epoch)
                    return self
                self._train_step(rows)
                if self.step % self.config.eval_every_steps == 0:
                    if self._evaluate(epoch):
                        return self
                elif self.step % loss_every == 0:
                    self._point(epoch, None)
            if self.last_eval_step != self.step and self._evaluate(epoch):
                break
        return self

    def _train_step(self, rows: np.ndarray) -> None:
        import torch

        self.model.train()
        loss = self.loss_fn(self.model(*_collate(self.train_ids, rows)), self.targets[rows])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        self.loss_sum, self.loss_count = self.loss_sum + float(loss.item()), self.loss_count + 1
        if self.step == self.warmup or self.step % self.config.eval_every_steps == 0:
            # the pace so far (evaluations included) says where the budget ends: decay to 0 there
            pace = (time.monotonic() - self.started) / self.step
            affordable = int(self.config.time_budget_s / pace)
            self.total_steps = max(self.step + 1, min(self.planned_steps, affordable))

    def _evaluate(self, epoch: int) -> bool:
        """Score the validation split, keep the best weights; True when patience has run out."""
        logits = _torch_logits(self.model, self.valid_ids, self.model.head.out_features)
        metric = _metric(logits, self.valid_targets, self.config.multi_label)
        self.last_eval_step = self.step
        if metric > self.best_metric:
            self.best_metric, self.evals_without_gain = metric, 0
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self.evals_without_gain += 1
        self._point(epoch, metric)
        return self.evals_without_gain >= self.config.patience

    def _point(self, epoch: int, metric: float | None) -> None:
        loss = self.loss_sum / self.loss_count if self.loss_count else None
        point = {"epoch": epoch, "step": self.step, "loss": loss, "valid_metric": metric,
                 "elapsed_s": round(time.monotonic() - self.started, 3)}
        self.loss_sum, self.loss_count = 0.0, 0
        self.history.append(point)
        self.report(dict(point))


def _optimizer(model: Any, config: FinetuneConfig) -> Any:
    """AdamW without weight decay on biases and LayerNorm weights (the 1-d parameters)."""
    import torch

    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled rows cut into pools, each sorted by length and cut into batches; batches shuffled."""
    order = rng.permutation(len(lengths))
    pool = batch_size * _BUCKET_BATCHES
    batches: list[np.ndarray] = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _collate(ids: list[list[int]], rows: np.ndarray) -> tuple[Any, Any, Any]:
    """int64 tensors padded to the longest row of this batch."""
    import torch

    width = max(len(ids[i]) for i in rows)
    input_ids = np.zeros((len(rows), width), dtype=np.int64)  # 0 is [PAD]; the mask hides it anyway
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for r, i in enumerate(rows):
        input_ids[r, : len(ids[i])] = ids[i]
        mask[r, : len(ids[i])] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(mask), torch.zeros_like(torch.from_numpy(mask))


def _torch_logits(model: Any, ids: list[list[int]], n_labels: int) -> np.ndarray:
    import torch

    was_training = model.training
    model.eval()
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.zeros((len(ids), n_labels), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), _EVAL_BATCH):
            rows = order[start : start + _EVAL_BATCH]
            out[rows] = model(*_collate(ids, rows)).numpy()
    model.train(was_training)
    return out


def _metric(logits: np.ndarray, targets: np.ndarray, multi_label: bool) -> float:
    """Accuracy, or micro-F1 of ``logit > 0`` against multi-hot targets."""
    if not multi_label:
        return float((logits.argmax(1) == np.asarray(targets)).mean())
    predicted, truth = logits > 0, np.asarray(targets) > 0.5
    denominator = int(predicted.sum() + truth.sum())
    return 2.0 * int((predicted & truth).sum()) / denominator if denominator else 1.0


def _export(model: Any, tokenizer: Any) -> bytes:
    """ONNX bytes (weights inline) of ``model`` in eval mode, checked as an uploaded artifact would be."""
    from limelight.artifacts.formats import DEFAULT_POLICY
    from limelight.artifacts.modelfiles import check_onnx

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model.eval(), encode_texts(tokenizer, ["a short one", "and a longer example text"]),
                    path, "logits", {0: "batch"})
        check_onnx(path, path.stat().st_size, DEFAULT_POLICY)
        return path.read_bytes()
