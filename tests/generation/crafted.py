"""Hostile and broken GGUF files, built from the real model's bytes or with gguf's own writer."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_HEAD_BYTES = 2 << 20  # the real model's metadata ends at ~1.8 MB; its tensors follow
_TENSOR_COUNT_AT = 8  # after the magic and the version
_FIRST_VALUE_LENGTH_AT = 56  # magic, version, 2 counts, key length, "general.architecture", value type


def _head(model: Path) -> bytearray:
    with open(model, "rb") as handle:
        return bytearray(handle.read(_HEAD_BYTES))


def truncated(model: Path) -> bytes:
    """The real model cut after its metadata: every tensor points past the end."""
    return bytes(_head(model))


def garbage_after_magic(model: Path) -> bytes:
    return b"GGUF" + np.random.default_rng(7).bytes(4096)


def absurd_tensor_count(model: Path) -> bytes:
    data = _head(model)
    struct.pack_into("<Q", data, _TENSOR_COUNT_AT, 1 << 60)
    return bytes(data)


def one_tensor_too_many(model: Path) -> bytes:
    """A count the size could hold, so only reading the descriptions shows the lie."""
    data = _head(model)
    struct.pack_into("<Q", data, _TENSOR_COUNT_AT, 273)
    return bytes(data)


def absurd_string_length(model: Path) -> bytes:
    data = _head(model)
    struct.pack_into("<Q", data, _FIRST_VALUE_LENGTH_AT, 1 << 40)
    return bytes(data)


def text_starting_like_gguf(model: Path) -> bytes:
    """A text file named .gguf whose first word happens to be the magic."""
    return b"GGUF files hold llama.cpp models; this one is only a note about them.\n" * 20


def gguf_llama_cpp_refuses(model: Path) -> bytes:
    """Well-formed GGUF that no model architecture can use: only llama.cpp's loader says no."""
    import tempfile

    import gguf

    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "tiny.gguf"
        writer = gguf.GGUFWriter(str(target), "llama")
        writer.add_context_length(128)
        writer.add_tensor("mystery.weight", np.zeros(16, dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return target.read_bytes()


@dataclass(frozen=True)
class CraftedGGUF:
    name: str
    build: Callable[[Path], bytes]
    reason: str  # a fragment of the refusal's message


CRAFTED = [
    CraftedGGUF("truncated", truncated, "does not parse"),
    CraftedGGUF("garbage-after-magic", garbage_after_magic, "version"),
    CraftedGGUF("absurd-tensor-count", absurd_tensor_count, "tensors"),
    CraftedGGUF("one-tensor-too-many", one_tensor_too_many, "Refused GGUF file"),
    CraftedGGUF("absurd-string-length", absurd_string_length, "Refused GGUF file"),
    CraftedGGUF("text-named-gguf", text_starting_like_gguf, "version"),
]
