"""The LoRA export: q/k row order, and a GGUF written from the base's own (unmodified) weights
behaves in llama.cpp like the base file itself, with every other tensor and all metadata kept."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from limelight.generation.lora.export import (
    gguf_tensor_name,
    llama_cpp_weights,
    permute_for_llama_cpp,
    write_gguf,
)

PROMPT = "The movie follows a young detective who"


def test_permutation_is_the_inverse_of_transformers_gguf_loader() -> None:
    from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

    weights = np.random.default_rng(0).normal(size=(192, 64)).astype(np.float32)
    undone = LlamaTensorProcessor()._reverse_permute_weights(permute_for_llama_cpp(weights, 3), 9, 3)
    assert np.array_equal(undone, weights)
    assert not np.array_equal(permute_for_llama_cpp(weights, 3), weights)


def test_tensor_names_follow_llama_cpp() -> None:
    assert gguf_tensor_name("base_model.model.model.layers.3.self_attn.q_proj.weight".removeprefix(
        "base_model.model.")) == "blk.3.attn_q.weight"
    assert gguf_tensor_name("model.layers.29.mlp.down_proj.weight") == "blk.29.ffn_down.weight"
    with pytest.raises(ValueError):
        gguf_tensor_name("model.embed_tokens.weight")


@pytest.fixture(scope="module")
def round_trip(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every projection of the base as transformers loaded it (dequantized, q/k un-permuted), written back."""
    from limelight.generation.lora.base_model import load_base

    base = load_base(model_path)
    config = base.model.config
    weights = {n: p.detach().numpy() for n, p in base.model.named_parameters() if n.endswith("_proj.weight")}
    out = tmp_path_factory.mktemp("lora-export") / "round-trip.gguf"
    write_gguf(model_path, out, llama_cpp_weights(weights, config.num_attention_heads, config.num_key_value_heads))
    return out


def _logits_and_text(path: Path) -> tuple[np.ndarray, str]:
    from llama_cpp import Llama

    model = Llama(str(path), n_ctx=128, n_threads=1, logits_all=True, verbose=False)
    tokens = model.tokenize(PROMPT.encode(), add_bos=False)
    model.eval(tokens)
    logits = np.array(model.scores[: len(tokens)])
    model.reset()
    text = model.create_completion(PROMPT, max_tokens=16, temperature=0)["choices"][0]["text"]
    return logits, text


def test_round_trip_gguf_generates_like_the_base(model_path: Path, round_trip: Path) -> None:
    base_logits, base_text = _logits_and_text(model_path)
    own_logits, own_text = _logits_and_text(round_trip)
    assert own_text == base_text and len(base_text.strip()) > 0
    assert np.array_equal(own_logits.argmax(axis=1), base_logits.argmax(axis=1))
    # Q4_1 values re-stored as Q8_0: close, not identical (a wrong q/k order gives differences of ~10+)
    assert np.abs(own_logits - base_logits).max() < 0.1 * np.abs(base_logits).max()


def test_round_trip_keeps_metadata_and_untouched_tensors_bytewise(model_path: Path, round_trip: Path) -> None:
    import gguf

    base, own = gguf.GGUFReader(model_path), gguf.GGUFReader(round_trip)
    assert [t.name for t in own.tensors] == [t.name for t in base.tensors]
    for key in ("tokenizer.chat_template", "tokenizer.ggml.tokens", "llama.context_length", "llama.rope.freq_base"):
        assert own.get_field(key).contents() == base.get_field(key).contents()
    projection = re.compile(r"^blk\.\d+\.(attn_[qkv]|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$")
    changed = {t.name for t in base.tensors if projection.match(t.name)}
    assert len(changed) == 30 * 7
    for mine, theirs in zip(own.tensors, base.tensors, strict=True):
        if mine.name in changed:
            assert mine.tensor_type == gguf.GGMLQuantizationType.Q8_0, mine.name
        else:
            assert mine.tensor_type == theirs.tensor_type and bytes(mine.data) == bytes(theirs.data), mine.name
