"""OnnxTextScorer on a hand-built ONNX graph whose logits expose what the scorer fed it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from limelight.runtimes.sentence_embedding import bundled_minilm_dir
from limelight.text.onnx_scorer import OnnxTextScorer


def _probe_model() -> bytes:
    """logits[:, 0] = real tokens in the row, logits[:, 1] = padded width, logits[:, 2] = sum of type ids."""
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("ReduceSum", ["attention_mask", "axes"], ["real"], keepdims=1),
        helper.make_node("Shape", ["input_ids"], ["shape"]),
        helper.make_node("Gather", ["shape", "one"], ["seq"], axis=0),
        helper.make_node("Mul", ["real", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "seq"], ["width"]),  # seq broadcast to (batch, 1)
        helper.make_node("ReduceSum", ["token_type_ids", "axes"], ["types"], keepdims=1),
        helper.make_node("Concat", ["real", "width", "types"], ["cat"], axis=1),
        helper.make_node("Cast", ["cat"], ["logits"], to=TensorProto.FLOAT),
    ]
    inits = [axes, helper.make_tensor("one", TensorProto.INT64, [1], [1]),
             helper.make_tensor("zero", TensorProto.INT64, [], [0])]
    graph = helper.make_graph(nodes, "probe", inputs, [output], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.fixture(scope="module")
def scorer() -> OnnxTextScorer:
    tokenizer_json = (bundled_minilm_dir() / "tokenizer.json").read_text()
    return OnnxTextScorer.from_bytes(_probe_model(), tokenizer_json, max_length=8, threads=1)


def test_logits_shape_and_per_batch_padding(scorer: OnnxTextScorer) -> None:
    logits = scorer.logits(["hi", "a b c"])
    assert logits.dtype == np.float32 and logits.shape == (2, 3)
    # [CLS] hi [SEP] = 3 real tokens; the batch is padded to its longest (5), not to max_length
    assert logits[:, 0].tolist() == [3.0, 5.0]
    assert logits[:, 1].tolist() == [5.0, 5.0]
    assert logits[:, 2].tolist() == [0.0, 0.0]


def test_truncation_at_max_length(scorer: OnnxTextScorer) -> None:
    texts = ["a b c d e f", "a b c d e f g", "one", "a b c d e f g h i j k l"]
    assert scorer.truncated(texts) == [False, True, False, True]  # 6 words + 2 specials fit in 8
    logits = scorer.logits(texts)
    assert logits[:, 0].tolist() == [8.0, 8.0, 3.0, 8.0]


def test_many_texts_and_empty_input(scorer: OnnxTextScorer) -> None:
    texts = [" ".join(["w"] * (i % 5)) for i in range(150)]  # more than one inner batch
    logits = scorer.logits(texts)
    assert logits.shape == (150, 3)
    assert logits[:, 0].tolist() == [float(2 + i % 5) for i in range(150)]
    assert scorer.logits([]).shape == (0, 3)


def test_memory_estimate_covers_the_model(scorer: OnnxTextScorer) -> None:
    assert scorer.memory_bytes > len(_probe_model())


def test_scorer_does_not_import_torch() -> None:
    code = "import sys, limelight.text.onnx_scorer; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
