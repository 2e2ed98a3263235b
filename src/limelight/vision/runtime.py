"""The ``image-classifier`` runtime: one ONNX file with its manifest, image bytes in, labels out.

A batch goes: bytes -> the decode pool (children, in parallel: decode, EXIF-upright, resize, centre
crop; ``vision.decode_pool``) -> ``Preprocessing.normalise`` here -> one onnxruntime run for every
image that decoded -> ``{"label", "score", "labels": [{"label", "score"}, ...]}`` per image. An image
its decoder refused is answered with that refusal (a ``LimelightError`` in its place): the serving
engine fails the request that sent it, naming its index, and the batch's other requests go on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from limelight.errors import ArtifactInvalid, LimelightError, ValidationFailed
from limelight.imaging.decode import ImageLimits
from limelight.runtimes.base import LoadContext, int_param, io_spec
from limelight.runtimes.onnx_model import read_checked_model, session_options
from limelight.vision import manifest as manifest_io
from limelight.vision.decode_pool import DecodeLimits, DecodePool
from limelight.vision.manifest import ImageClassifierManifest
from limelight.vision.payload import image_bytes

__all__ = ["DEFAULT_TOP_K", "ImageClassifierRuntime", "ImageItem"]

DEFAULT_TOP_K = 5  # single-label: the ranked labels a response lists unless top_k says otherwise


@dataclass(frozen=True)
class ImageItem:
    """One image to classify and its per-request option (made by the ``:classify`` verb)."""

    data: bytes
    top_k: int | None = None


class ImageClassifierRuntime:
    def __init__(self, session: Any, manifest: ImageClassifierManifest, pool: DecodePool, *,
                 memory_bytes: int, max_batch_size: int) -> None:
        self._session = session
        self.manifest = manifest
        self._pool = pool
        self._input = session.get_inputs()[0].name
        self._output = _output_name(session)
        self.memory_bytes = memory_bytes
        self.max_batch_size = max_batch_size

    @classmethod
    def load(cls, artifact_path: Path, params: dict[str, Any], context: LoadContext) -> ImageClassifierRuntime:
        import onnxruntime as ort

        data = read_checked_model(artifact_path)
        so = session_options(int_param(params, "threads", 2, 1, 64))
        session = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        manifest = manifest_io.read(session)
        _check_graph(session, manifest)
        defaults = ImageLimits()
        limits = DecodeLimits(
            image=ImageLimits(max_bytes=int_param(params, "max_image_bytes", defaults.max_bytes, 1024, 64 << 20),
                              max_pixels=int_param(params, "max_image_pixels", defaults.max_pixels, 4096, 100_000_000)),
            workers=int_param(params, "decode_workers", 2, 1, 16))
        pool = DecodePool(manifest.preprocessing, limits)
        pool.start()
        return cls(session, manifest, pool, memory_bytes=2 * len(data) + (64 << 20),
                   max_batch_size=int_param(params, "max_batch_size", 16, 1, 256))

    @property
    def labels(self) -> tuple[str, ...]:
        return self.manifest.labels

    @property
    def image_limits(self) -> ImageLimits:
        return self._pool.limits.image

    def signature(self) -> dict[str, Any]:
        size = self.manifest.preprocessing.size
        return {
            "inputs": [io_spec("image", "bytes", [-1])],
            "outputs": [io_spec("label", "string", [-1]), io_spec("score", "float32", [-1]),
                        io_spec("labels", "object", [-1])],
            "labels": list(self.labels),
            "multi_label": self.manifest.multi_label,
            "architecture": self.manifest.architecture,
            "preprocessing": self.manifest.preprocessing.to_json(),
            "pixels": [-1, 3, size, size],
            "limits": self.image_limits.to_json(),
        }

    def sample_inputs(self) -> list[bytes]:
        """Made-up pictures for the sandbox validator and the warm-up (a PNG and a JPEG)."""
        from PIL import Image

        ramp = np.linspace(0, 255, 64 * 48 * 3).astype(np.uint8).reshape(48, 64, 3)
        noise = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
        out = []
        for pixels, fmt in ((ramp, "PNG"), (noise, "JPEG")):
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format=fmt)
            out.append(buffer.getvalue())
        return out

    def validate_input(self, item: Any) -> ImageItem:
        if isinstance(item, ImageItem):
            if len(item.data) > self.image_limits.max_bytes:
                image_bytes(item.data, "images", self.image_limits.max_bytes)  # raises the 413 with the limit
            if item.top_k is not None and not 1 <= item.top_k <= len(self.labels):
                raise ValidationFailed(f"top_k must be an integer in 1..{len(self.labels)}", details={"field": "top_k"})
            return item
        return ImageItem(image_bytes(item, "inputs", self.image_limits.max_bytes))

    def predict_batch(self, inputs: list[Any]) -> list[Any]:
        items = [i if isinstance(i, ImageItem) else self.validate_input(i) for i in inputs]
        decoded = self._pool.decode_many([i.data for i in items])
        outputs: list[Any] = list(decoded)  # refusals stay in their place
        good = [k for k, d in enumerate(decoded) if not isinstance(d, LimelightError)]
        if good:
            prep = self.manifest.preprocessing
            batch = np.stack([prep.normalise(decoded[k]) for k in good])  # type: ignore[arg-type]
            probabilities = self._session.run([self._output], {self._input: batch})[0]
            if probabilities.shape != (len(good), len(self.labels)):
                raise ArtifactInvalid(f"the model gave probabilities of shape {list(probabilities.shape)} for "
                                      f"{len(good)} images and {len(self.labels)} labels")
            for k, row in zip(good, probabilities, strict=True):
                outputs[k] = self._decide(row, items[k].top_k)
        return outputs

    def _decide(self, row: np.ndarray, top_k: int | None) -> dict[str, Any]:
        order = np.argsort(-row, kind="stable")
        ranked = [{"label": self.labels[j], "score": round(float(row[j]), 6)} for j in order]
        if self.manifest.multi_label:
            chosen = [r for r in ranked if r["score"] >= self.manifest.cut(r["label"])]
            chosen = chosen[:top_k] if top_k is not None else chosen
        else:
            chosen = ranked[: top_k or DEFAULT_TOP_K]
        return {"label": ranked[0]["label"], "score": ranked[0]["score"], "labels": chosen}

    def close(self) -> None:
        self._pool.close()
        self._session = None


def _output_name(session: Any) -> str:
    names = [o.name for o in session.get_outputs()]
    return "probabilities" if "probabilities" in names else names[0]


def _check_graph(session: Any, manifest: ImageClassifierManifest) -> None:
    """The graph takes ``[N, 3, size, size]`` float32 and gives ``[N, len(labels)]``."""
    inputs = session.get_inputs()
    size = manifest.preprocessing.size
    if len(inputs) != 1 or inputs[0].type != "tensor(float)" or len(inputs[0].shape) != 4:
        raise ArtifactInvalid("an image classifier takes one float32 input [N, 3, size, size]",
                              details={"field": "artifact", "inputs": [(i.name, i.type, i.shape) for i in inputs]})
    want = [3, size, size]
    got = inputs[0].shape[1:]
    if any(isinstance(g, int) and g != w for g, w in zip(got, want, strict=True)):
        raise ArtifactInvalid(f"the model's input is {inputs[0].shape}, the manifest's preprocessing makes "
                              f"[N, 3, {size}, {size}]", details={"field": "artifact"})
    output = next(o for o in session.get_outputs() if o.name == _output_name(session))
    width = output.shape[-1] if output.shape else None
    if len(output.shape) != 2 or (isinstance(width, int) and width != len(manifest.labels)):
        raise ArtifactInvalid(f"the model's output is {output.shape}; the manifest has {len(manifest.labels)} labels",
                              details={"field": "artifact", "labels": len(manifest.labels)})
