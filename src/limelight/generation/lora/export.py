"""The merged model back into GGUF: the base file with the tensors LoRA changed rewritten.

Everything else is copied from the base file as it was: every metadata entry (tokenizer, chat
template, hyperparameters) and every untouched tensor, byte for byte, in the same order and under
the same names, so llama.cpp loads the result exactly like the base. A changed tensor is stored as
Q8_0 (or F16) with ``gguf.quants``. llama.cpp keeps the query and key projections of llama models
in a rotary-friendly row order that transformers' GGUF loader undoes; it is redone here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np

StoredType = Literal["Q8_0", "F16"]

_PROJECTIONS = {  # transformers module -> llama.cpp tensor stem
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_HF_NAME = re.compile(r"^(?:model\.)?layers\.(\d+)\.(self_attn\.[qkvo]_proj|mlp\.(?:gate|up|down)_proj)\.weight$")


def gguf_tensor_name(hf_name: str) -> str:
    """``model.layers.3.self_attn.q_proj.weight`` -> ``blk.3.attn_q.weight``."""
    match = _HF_NAME.match(hf_name)
    if match is None:
        raise ValueError(f"no llama.cpp name for {hf_name!r}")
    return f"blk.{match.group(1)}.{_PROJECTIONS[match.group(2)]}.weight"


def permute_for_llama_cpp(weights: np.ndarray, n_head: int) -> np.ndarray:
    """The row order llama.cpp's converter gives q/k weights (``LlamaModel.permute``): within each
    head, the two rotary halves interleaved."""
    rows = weights.shape[0]
    return (weights.reshape(n_head, 2, rows // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def llama_cpp_weights(hf_weights: dict[str, np.ndarray], n_head: int, n_head_kv: int) -> dict[str, np.ndarray]:
    """transformers projection weights (out, in) renamed and row-ordered as llama.cpp stores them."""
    converted: dict[str, np.ndarray] = {}
    for hf_name, weight in hf_weights.items():
        name = gguf_tensor_name(hf_name)
        if name.endswith(".attn_q.weight"):
            weight = permute_for_llama_cpp(weight, n_head)
        elif name.endswith(".attn_k.weight"):
            weight = permute_for_llama_cpp(weight, n_head_kv)
        converted[name] = np.ascontiguousarray(weight, dtype=np.float32)
    return converted


def write_gguf(base_path: Path, out_path: Path, replaced: dict[str, np.ndarray], stored: StoredType = "Q8_0") -> None:
    """``base_path`` with the tensors in ``replaced`` (llama.cpp names and layout) swapped in."""
    import gguf

    reader = gguf.GGUFReader(base_path, "r")
    unknown = set(replaced) - {t.name for t in reader.tensors}
    if unknown:
        raise ValueError(f"tensors not in the base model: {sorted(unknown)[:5]}")
    arch_field = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    if arch_field is None:
        raise ValueError(f"{base_path.name} names no architecture")
    arch = str(arch_field.contents())
    writer = gguf.GGUFWriter(out_path, arch=arch, endianess=reader.endianess)
    _copy_metadata(reader, writer)
    qtype = gguf.GGMLQuantizationType[stored]
    payloads: list[np.ndarray] = []
    for tensor in reader.tensors:
        if tensor.name in replaced:
            data = _encode(replaced[tensor.name], tensor, qtype)
            writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, qtype)
        else:
            data = tensor.data
            writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, tensor.tensor_type)
        payloads.append(data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for data in payloads:
        writer.write_tensor_data(data, tensor_endianess=reader.endianess)
    writer.close()


def _copy_metadata(reader: object, writer: object) -> None:
    """Every key as it was, but those the writer sets itself (architecture, the GGUF.* header)."""
    import gguf

    for field in reader.fields.values():  # type: ignore[attr-defined]
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)  # type: ignore[attr-defined]


def _encode(weight: np.ndarray, tensor: object, qtype: object) -> np.ndarray:
    import gguf

    expected = tuple(int(n) for n in reversed(tensor.shape))  # type: ignore[attr-defined]  # GGUF lists ne0 first
    if weight.shape != expected:
        raise ValueError(f"{tensor.name}: shape {weight.shape} does not match the base {expected}")  # type: ignore[attr-defined]
    return gguf.quants.quantize(weight.astype(np.float32), qtype)  # type: ignore[arg-type]
