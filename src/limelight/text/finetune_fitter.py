"""The ``finetuned-onnx`` fitter: ``limelight.text.finetune.finetune`` on the split, its ONNX export
and tokenizer stored as artifact members (``onnx`` uint8 bytes, ``tokenizer`` 0-d unicode)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext
from limelight.text.training import Fitted, Split


def _config(params: Any, multi_label: bool, budget_s: float | None) -> Any:
    from limelight.text.finetune import FinetuneConfig

    budget = params.time_budget_minutes * 60
    return FinetuneConfig(
        max_length=params.max_length, epochs=params.epochs, batch_size=params.batch_size,
        learning_rate=params.learning_rate, warmup_ratio=params.warmup_ratio, weight_decay=params.weight_decay,
        patience=params.patience, time_budget_s=min(budget, budget_s) if budget_s else budget,
        eval_every_steps=params.eval_every_steps, seed=params.seed, multi_label=multi_label,
        threads=params.threads, max_train_examples=params.max_train_examples)


def finetune_fitter(ctx: JobContext, params: Any, budget_s: float | None) -> Callable[[Split], Fitted]:
    try:
        from limelight.text import finetune as finetune_module
    except ImportError as exc:
        raise InvalidParams(f"fine-tuning is not available on this worker ({exc.name} missing)",
                            details={"field": "recipe", "reason": "finetune_unavailable"}) from None

    def report(point: dict[str, Any]) -> None:
        values = {k: float(v) for k, v in point.items()
                  if k in ("loss", "valid_metric", "elapsed_s") and isinstance(v, int | float)}
        ctx.metric(values, step=int(point.get("step", 0)), epoch=point.get("epoch"))
        ctx.progress(10 + 80 * min(1.0, float(point.get("elapsed_s", 0.0)) / max(config.time_budget_s, 1.0)),
                     f"fine-tuning: epoch {point.get('epoch')}, step {point.get('step')}")

    def fit(split: Split) -> Fitted:
        out = finetune_module.finetune(split.train_texts, split.train_y, split.valid_texts, split.valid_y,
                                       len(split.labels), config, report, ctx.check_cancelled)
        members = {"onnx": np.frombuffer(out.onnx_bytes, dtype=np.uint8).copy(),
                   "tokenizer": np.array(out.tokenizer_json)}
        return Fitted("finetuned-onnx", members, np.asarray(out.valid_logits, np.float64), int(out.max_length),
                      {"best_metric": float(out.best_metric), "evaluations": len(out.history),
                       "steps": max((int(h.get("step", 0)) for h in out.history), default=0)})

    config = _config(params, bool(params.multi_label), budget_s)
    return fit
