"""LoRA adapters fitted with peft on packed token blocks: AdamW, linear warm-up then cosine decay,
a time budget, early stopping on held-out loss (the best adapters are kept), cancellation."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
MLP = ["gate_proj", "up_proj", "down_proj"]
MAX_EVAL_BLOCKS = 32  # held-out blocks scored before and after: bounds their cost on a large corpus
CHECK_EVAL_BLOCKS = 8  # held-out blocks scored by the evaluations during training (early stopping)


@dataclass(frozen=True)
class TrainSettings:
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    include_mlp: bool = False
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    batch_size: int = 4
    max_steps: int = 1000
    warmup_ratio: float = 0.05
    time_budget_s: float = 600.0
    eval_every_steps: int = 50
    patience: int = 3
    seed: int = 42


@dataclass
class Hooks:
    """How training reports: per step (loss, lr), per evaluation (held-out perplexity), and a
    cancellation check that raises."""

    on_step: Callable[[int, float, float], None] = lambda step, loss, lr: None
    on_eval: Callable[[int, float], None] = lambda step, perplexity: None
    check_cancelled: Callable[[], None] = lambda: None


@dataclass
class TrainOutcome:
    steps: int
    best_step: int
    best_perplexity: float
    stopped_because: str  # "max_steps" | "time_budget" | "early_stop"
    seconds: float


def perplexity(model: Any, blocks: np.ndarray, batch_size: int = 4, limit: int = MAX_EVAL_BLOCKS) -> float:
    """exp(mean next-token loss) over the first ``limit`` blocks."""
    import torch

    blocks = blocks[:limit]
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(blocks), batch_size):
            ids = torch.from_numpy(blocks[start:start + batch_size])
            loss = model(input_ids=ids, labels=ids).loss
            n = ids.shape[0] * (ids.shape[1] - 1)
            total, count = total + float(loss) * n, count + n
    return math.exp(total / max(count, 1))


def add_adapters(model: Any, settings: TrainSettings) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=ATTENTION + (MLP if settings.include_mlp else []), task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def train(model: Any, train_blocks: np.ndarray, held_out: np.ndarray, settings: TrainSettings,
          hooks: Hooks) -> TrainOutcome:
    """Fits the adapters of a peft ``model`` in place; leaves the best-evaluated adapters loaded.

    Evaluations during training score only the first ``CHECK_EVAL_BLOCKS`` held-out blocks (a
    forward pass costs a third of a step per block); the caller scores the final model on more."""
    import torch

    started = time.monotonic()
    torch.manual_seed(settings.seed)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    plan = _Schedule(settings)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, plan.factor)
    order = _batches(len(train_blocks), settings.batch_size, settings.seed)
    best = _Best(perplexity(model, held_out, limit=CHECK_EVAL_BLOCKS), _adapter_state(model))
    hooks.on_eval(0, best.perplexity)
    step, reason = 0, "max_steps"
    while step < plan.total_steps:
        hooks.check_cancelled()
        if time.monotonic() - started > settings.time_budget_s:
            reason = "time_budget"
            break
        loss = _step(model, torch.from_numpy(train_blocks[next(order)]), optimizer, scheduler, trainable)
        step += 1
        hooks.on_step(step, loss, float(scheduler.get_last_lr()[0]))
        plan.observe(step, time.monotonic() - started)
        due = step % settings.eval_every_steps == 0 or step >= plan.total_steps
        if due and best.update(step, perplexity(model, held_out, limit=CHECK_EVAL_BLOCKS), model,
                               hooks) >= settings.patience:
            reason = "early_stop"
            break
    if reason == "max_steps" and plan.total_steps < settings.max_steps:
        reason = "time_budget"  # the plan had shrunk to the steps the budget holds
    if best.last_evaluated != step:  # stopped by the clock between evaluations
        best.update(step, perplexity(model, held_out, limit=CHECK_EVAL_BLOCKS), model, hooks)
    _load_adapter_state(model, best.state)
    return TrainOutcome(steps=step, best_step=best.step, best_perplexity=best.perplexity, stopped_because=reason,
                        seconds=time.monotonic() - started)


def _step(model: Any, ids: Any, optimizer: Any, scheduler: Any, trainable: list[Any]) -> float:
    """One AdamW update on one batch (gradients clipped at norm 1); returns the batch loss."""
    import torch

    model.train()
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


class _Schedule:
    """Warm-up then cosine decay over the steps that fit: ``max_steps``, or fewer when the pace of
    training so far says the time budget cannot hold that many (re-judged every few steps, so the
    decay ends with the budget even when the machine's load changes)."""

    def __init__(self, settings: TrainSettings) -> None:
        self.settings = settings
        self.total_steps = settings.max_steps
        self.warmup = max(1, round(settings.warmup_ratio * settings.max_steps))
        self._first_step_at: float | None = None

    def observe(self, step: int, elapsed_s: float) -> None:
        """Called after each step with the time since training began (the first evaluation included)."""
        if step == 1:
            self._first_step_at = elapsed_s
            return
        if step % 5 or self._first_step_at is None:
            return
        pace_s = (elapsed_s - self._first_step_at) / (step - 1)
        fits = step + int((self.settings.time_budget_s - elapsed_s) / pace_s * 0.9)  # 10% for evaluations
        self.total_steps = max(step + 1, min(self.settings.max_steps, fits))
        self.warmup = min(self.warmup, max(1, round(self.settings.warmup_ratio * self.total_steps)))

    def factor(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = (step - self.warmup) / max(1, self.total_steps - self.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


class _Best:
    def __init__(self, perplexity_: float, state: dict[str, Any]) -> None:
        self.step, self.perplexity, self.state, self.stale = 0, perplexity_, state, 0
        self.last_evaluated = 0

    def update(self, step: int, value: float, model: Any, hooks: Hooks) -> int:
        """Records an evaluation; returns how many evaluations in a row did not improve."""
        hooks.on_eval(step, value)
        self.last_evaluated = step
        if value < self.perplexity:
            self.step, self.perplexity, self.state, self.stale = step, value, _adapter_state(model), 0
        else:
            self.stale += 1
        return self.stale


def _batches(n_blocks: int, batch_size: int, seed: int) -> Any:
    """Endless shuffled batches of block indices, reshuffled each epoch."""
    rng = np.random.default_rng(seed)
    size = min(batch_size, n_blocks)
    while True:
        order = rng.permutation(n_blocks)
        for start in range(0, n_blocks - size + 1, size):
            yield order[start:start + size]


def _adapter_state(model: Any) -> dict[str, Any]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def _load_adapter_state(model: Any, state: dict[str, Any]) -> None:
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in state:
                p.copy_(state[name])
