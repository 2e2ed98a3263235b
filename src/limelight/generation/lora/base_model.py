"""The base model and tokenizer, read from a GGUF file by transformers (weights dequantized to fp32)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class BaseModel:
    path: Path
    model: Any  # transformers PreTrainedModel (llama architecture)
    tokenizer: Any


def load_base(gguf_path: Path, threads: int = 2) -> BaseModel:
    """The causal LM and tokenizer in ``gguf_path``; transformers undoes llama.cpp's q/k permutation."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(threads)
    hf_logging.disable_progress_bar()  # a job log is no terminal
    logging.getLogger("transformers").setLevel(logging.ERROR)
    directory, name = gguf_path.parent, gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    if model.config.model_type != "llama":
        from limelight.errors import InvalidParams

        raise InvalidParams(f"LoRA export supports llama-architecture models, not {model.config.model_type!r}.",
                            details={"field": "base_model"})
    return BaseModel(path=gguf_path, model=model, tokenizer=tokenizer)
