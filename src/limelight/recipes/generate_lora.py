"""``generate/lora``: LoRA fine-tuning of the bundled LLM (SmolLM2-135M-Instruct) on a studio's texts.

Reads the ``text`` column of a ``documents`` (or ``labeled_text``) dataset, holds out a share of
whole texts, fits LoRA adapters on the attention (optionally MLP) projections within a time budget,
merges them and writes a GGUF served by the ``llm`` runtime. Held-out perplexity before and after
(measured in fp32 on the dequantized weights) is stored on the version, with the relative drop.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from limelight.recipes.base import JobContext, RecipeParams, RecipeResult


class LoraParams(RecipeParams):
    time_budget_minutes: float = Field(15.0, gt=0, le=24 * 60, description="training stops when it is spent")
    rank: int = Field(16, ge=1, le=256, description="LoRA rank r")
    alpha: int = Field(32, ge=1, le=4096, description="LoRA scale numerator (updates scale by alpha/rank)")
    dropout: float = Field(0.05, ge=0, lt=1, description="dropout on the LoRA input")
    include_mlp: bool = Field(False, description="adapt the MLP projections too, not only attention")
    learning_rate: float = Field(2e-4, gt=0, le=1)
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    batch_size: int = Field(4, ge=1, le=256, description="blocks per step")
    block_size: int = Field(256, ge=16, le=2048, description="tokens per training block")
    max_steps: int = Field(1000, ge=1, le=1_000_000)
    eval_every_steps: int = Field(50, ge=1, le=1_000_000, description="held-out evaluation period")
    patience: int = Field(3, ge=1, le=100, description="evaluations without improvement before stopping")
    validation_share: float = Field(0.1, gt=0, lt=0.9, description="share of texts held out")
    stored_type: Literal["Q8_0", "F16"] = Field("Q8_0", description="GGUF type of the rewritten tensors")
    threads: int = Field(2, ge=1, le=64)
    seed: int = 42


class GenerateLoraRecipe:
    name: ClassVar[str] = "generate/lora"
    task: ClassVar[str] = "generate"
    dataset_kind: ClassVar[str] = "documents"
    also_accepts: ClassVar[tuple[str, ...]] = ("labeled_text",)  # its text column is just as good
    description: ClassVar[str] = ("LoRA fine-tuning of SmolLM2-135M-Instruct on your texts; merged and written "
                                  "as GGUF for the llm runtime. Reports held-out perplexity before and after.")
    Params: ClassVar[type[RecipeParams]] = LoraParams

    def run(self, ctx: JobContext, params: RecipeParams) -> RecipeResult:
        from limelight.generation.gguf_file import bundled_model_path, read_gguf_info
        from limelight.generation.lora.fine_tune import fine_tune

        assert isinstance(params, LoraParams)
        texts = _texts(ctx)
        ctx.log(f"{len(texts)} texts; loading the base model")
        ctx.progress(2, "loading the base model")
        base = bundled_model_path()
        out = ctx.output_path(".gguf")
        result = fine_tune(base, texts, out, _settings(params), block_size=params.block_size,
                           validation_share=params.validation_share, stored=params.stored_type,
                           hooks=_hooks(ctx, params), threads=params.threads)
        ctx.progress(98, "written")
        metrics = {"perplexity_before": result.perplexity_before, "perplexity_after": result.perplexity_after,
                   "perplexity_drop": result.perplexity_drop, "train_blocks": result.train_blocks,
                   "held_out_blocks": result.held_out_blocks, "steps": result.training["steps"]}
        ctx.log(f"held-out perplexity {result.perplexity_before:.2f} -> {result.perplexity_after:.2f} "
                f"({result.training['stopped_because']} after {result.training['steps']} steps)")
        info = read_gguf_info(out)
        return RecipeResult(
            runtime="llm", format="gguf", metrics=metrics, params={},  # runtime params: the llm defaults
            summary={"training": result.training, "base_model": base.name, "recipe_params":
                     params.model_dump(mode="json"), "replaced_tensors": result.replaced_tensors},
            signature={"inputs": [{"name": "prompt", "dtype": "string", "shape": [-1]}],
                       "outputs": [{"name": "text", "dtype": "string", "shape": [-1]}],
                       "gguf": info.details(), "base_model": base.name},
            example={"verb": "complete", "body": {"prompt": _opening(texts[0]), "max_tokens": 24, "temperature": 0}})


def _opening(text: str, words: int = 12) -> str:
    """The first words of a training text: the card's example asks the model to go on from there."""
    return " ".join(text.split()[:words])


def _texts(ctx: JobContext) -> list[str]:
    import pyarrow.parquet as pq

    from limelight.errors import InvalidParams

    column = pq.read_table(ctx.dataset_path(), columns=["text"]).column("text").to_pylist()
    texts = [t.strip() for t in column if isinstance(t, str) and t.strip()]
    if len(texts) < 2:
        raise InvalidParams("LoRA fine-tuning needs at least two non-empty texts (one is held out).",
                            details={"field": "dataset", "texts": len(texts)})
    return texts


def _settings(params: LoraParams) -> Any:
    from limelight.generation.lora.training import TrainSettings

    return TrainSettings(rank=params.rank, alpha=params.alpha, dropout=params.dropout,
                         include_mlp=params.include_mlp, learning_rate=params.learning_rate,
                         batch_size=params.batch_size, max_steps=params.max_steps,
                         warmup_ratio=params.warmup_ratio, time_budget_s=params.time_budget_minutes * 60,
                         eval_every_steps=params.eval_every_steps, patience=params.patience, seed=params.seed)


def _hooks(ctx: JobContext, params: LoraParams) -> Any:
    import time

    from limelight.generation.lora.training import Hooks

    started, budget_s = time.monotonic(), params.time_budget_minutes * 60

    def on_step(step: int, loss: float, lr: float) -> None:
        done = max(step / params.max_steps, (time.monotonic() - started) / budget_s)  # whichever ends it first
        ctx.progress(5 + 90 * min(1.0, done), f"step {step}")
        if step % 10 == 0 or step == 1:
            ctx.metric({"loss": loss, "learning_rate": lr}, step=step)

    def on_eval(step: int, perplexity: float) -> None:
        ctx.metric({"held_out_perplexity": perplexity}, step=step)

    return Hooks(on_step=on_step, on_eval=on_eval, check_cancelled=ctx.check_cancelled)
