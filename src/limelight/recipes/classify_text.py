"""Text classifiers on a ``labeled_text`` dataset: ``classify-text/tfidf|embeddings|finetune|auto``.

Every recipe splits the rows (stratified, ``validation_fraction``), fits on the training part,
calibrates on the validation part (temperature scaling; per-label sigmoid + F1-best thresholds when
``multi_label``), stores accuracy, macro-F1, per-class scores, the confusion matrix and a calibration
table on the version, and saves one ``limelight.text/1`` ``.npz`` served by ``text-classifier``.
``auto`` tries tfidf, then embeddings, then fine-tuning while ``time_budget_minutes`` lasts and keeps
the best validation macro-F1; the comparison table is in the job's summary and ``metrics.candidates``.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Literal

from pydantic import Field

from limelight.errors import InvalidParams
from limelight.recipes.base import JobContext, RecipeParams, RecipeResult

Candidate = Literal["tfidf", "embeddings", "finetune"]
_MIN_FINETUNE_S = 60.0  # below this a fine-tune cannot finish one useful epoch


class CommonParams(RecipeParams):
    multi_label: bool = Field(False, description="labels hold several tags separated by '|' or ','")
    validation_fraction: float = Field(0.2, gt=0, lt=0.9, description="share of rows (per class) for validation")
    seed: int = 42


class TfidfParams(CommonParams):
    c: float = Field(10.0, gt=0, le=1e6, description="inverse regularisation of the logistic head")
    max_features: int = Field(200_000, ge=100, le=2_000_000, description="n-grams kept per analyzer (word, char)")
    class_weight: Literal["none", "balanced"] = "none"


class EmbeddingParams(CommonParams):
    features: Literal["layers", "sentence"] = Field(
        "layers", description="layers: the mean of each of MiniLM's 6 layers, standardised (0.82-0.83 on SST-2 dev); "
                              "sentence: the unit-length sentence embedding (0.80-0.81)")
    head: Literal["logistic", "mlp"] = Field("logistic", description="the classifier on the frozen features")
    hidden_units: int = Field(256, ge=4, le=4096, description="MLP hidden layer width")
    c: float | None = Field(None, gt=0, le=1e6, description="inverse regularisation of the logistic head; default "
                                                            "0.01 on layers, 1 on sentence (best on SST-2)")
    max_length: int = Field(256, ge=8, le=512, description="tokens per text; longer texts are truncated")

    def head_c(self) -> float:
        if self.c is not None:
            return self.c
        return 0.01 if self.features == "layers" else 1.0


class FinetuneParams(CommonParams):
    max_length: int = Field(64, ge=8, le=512)
    epochs: int = Field(3, ge=1, le=50)
    batch_size: int = Field(32, ge=1, le=512)
    learning_rate: float = Field(5e-5, gt=0, le=1)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    weight_decay: float = Field(0.01, ge=0, le=1)
    patience: int = Field(2, ge=1, le=100, description="evaluations without improvement before stopping")
    time_budget_minutes: float = Field(20.0, gt=0, le=24 * 60)
    eval_every_steps: int = Field(200, ge=1, le=1_000_000)
    threads: int = Field(2, ge=1, le=64)
    max_train_examples: int | None = Field(None, ge=10)


class AutoParams(CommonParams):
    candidates: list[Candidate] = Field(default_factory=lambda: ["tfidf", "embeddings", "finetune"], min_length=1)
    time_budget_minutes: float = Field(30.0, gt=0, le=24 * 60, description="for all candidates together")


class ClassifyTextRecipe:
    task: ClassVar[str] = "classify-text"
    dataset_kind: ClassVar[str] = "labeled_text"
    _PARAMS: ClassVar[dict[str, type[RecipeParams]]] = {
        "tfidf": TfidfParams, "embeddings": EmbeddingParams, "finetune": FinetuneParams, "auto": AutoParams}
    _DESCRIPTIONS: ClassVar[dict[str, str]] = {
        "tfidf": "TF-IDF word + character n-grams into logistic regression; fast, strong on short texts.",
        "embeddings": "Frozen MiniLM features (each layer's mean, or the sentence embedding) into a logistic or "
                      "small MLP head.",
        "finetune": "Fine-tunes a small transformer end to end; exported to ONNX for serving.",
        "auto": "Tries tfidf, embeddings and fine-tuning within a time budget; keeps the best macro-F1.",
    }

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.name = f"classify-text/{variant}"
        self.description = self._DESCRIPTIONS[variant]
        self.Params = self._PARAMS[variant]

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        from limelight.text.training import prepare, run_fitter, save, summary_row

        assert isinstance(params, CommonParams)
        split = prepare(ctx, params.multi_label, params.validation_fraction, params.seed)
        ctx.progress(5, f"{len(split.train_texts)} training texts")
        if self.variant == "auto":
            assert isinstance(params, AutoParams)
            best, table = _auto(ctx, split, params)
        else:
            best = run_fitter(ctx, split, _fitter(ctx, self.variant, params, None), step=1)
            table = [summary_row(best)]
        save(ctx, split, best, self.name)
        metrics = dict(best.metrics) | ({"candidates": table} if self.variant == "auto" else {})
        return RecipeResult(
            runtime="text-classifier", format="npz", metrics=metrics, gate_metric="macro_f1",
            params=params.model_dump(mode="json"), summary={"winner": best.fitted.kind, "candidates": table},
            signature={"inputs": [{"name": "text", "dtype": "string", "shape": [-1]}],
                       "outputs": [{"name": "label", "dtype": "string", "shape": [-1]},
                                   {"name": "probabilities", "dtype": "float32", "shape": [-1, len(split.labels)]}],
                       "labels": split.labels, "multi_label": split.multi_label, "kind": best.fitted.kind},
            example={"verb": "classify", "body": {"texts": [(split.valid_texts or split.train_texts)[0][:500]]}},
            limitations=[f"Knows only the labels it was trained on: {', '.join(split.labels[:12])}"
                         f"{' …' if len(split.labels) > 12 else ''}.",
                         f"Trained on {len(split.train_texts):,} texts; text far from them (another language, "
                         "another domain) gets confident but unreliable labels."])


def _fitter(ctx: JobContext, variant: str, params: Any, budget_s: float | None) -> Any:
    from limelight.text.fitters import embedding_fitter, tfidf_fitter

    if variant == "tfidf":
        return tfidf_fitter(c=params.c, max_features=params.max_features, seed=params.seed,
                            class_weight=None if params.class_weight == "none" else "balanced")
    if variant == "embeddings":
        return embedding_fitter(head=params.head, hidden_units=params.hidden_units, c=params.head_c(),
                                max_length=params.max_length, seed=params.seed, features=params.features,
                                cache_dir=ctx.workdir / "encoder",  # the ONNX export: faster than torch
                                progress=lambda done, total: ctx.progress(5 + 80 * done / total, "embedding texts"),
                                check_cancelled=ctx.check_cancelled)
    from limelight.text.finetune_fitter import finetune_fitter

    return finetune_fitter(ctx, params, budget_s)


def _auto(ctx: JobContext, split: Any, params: AutoParams) -> tuple[Any, list[dict[str, Any]]]:
    from limelight.text.training import run_fitter, summary_row

    deadline = time.monotonic() + params.time_budget_minutes * 60
    results: list[Any] = []
    table: list[dict[str, Any]] = []
    for step, candidate in enumerate(params.candidates, start=1):
        left = deadline - time.monotonic()
        if results and (left <= 0 or (candidate == "finetune" and left < _MIN_FINETUNE_S)):
            ctx.log(f"auto: no time left for {candidate}; skipped")
            table.append({"kind": candidate, "skipped": "time budget"})
            continue
        own = _default_params(candidate, params)
        try:
            result = run_fitter(ctx, split, _fitter(ctx, candidate, own, max(left, 1.0)), step=step)
        except InvalidParams as exc:  # e.g. fine-tuning unavailable on this worker: compare the others
            if candidate != "finetune":
                raise
            ctx.log(f"auto: {candidate} skipped: {exc.message}", level="warning")
            table.append({"kind": candidate, "skipped": exc.message})
            continue
        results.append(result)
        table.append(summary_row(result))
    best = max(results, key=lambda r: r.metrics["macro_f1"])
    ctx.log(f"auto picked {best.fitted.kind} (macro_f1={best.metrics['macro_f1']:.4f})")
    return best, table


def _default_params(candidate: str, auto: AutoParams) -> RecipeParams:
    shared = {"multi_label": auto.multi_label, "validation_fraction": auto.validation_fraction, "seed": auto.seed}
    own: type[RecipeParams] = {"tfidf": TfidfParams, "embeddings": EmbeddingParams,
                                "finetune": FinetuneParams}[candidate]
    return own.model_validate(shared)


def classify_text_recipes() -> list[ClassifyTextRecipe]:
    return [ClassifyTextRecipe(v) for v in ("tfidf", "embeddings", "finetune", "auto")]
