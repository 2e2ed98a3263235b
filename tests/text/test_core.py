"""Labels, split, metrics, calibration, the artifact round trip and tfidf parity with scikit-learn."""

from __future__ import annotations

import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from limelight.errors import InvalidParams, UnsafeArtifactFormat, ValidationFailed
from limelight.text.artifact import FORMAT, load_classifier, save_arrays
from limelight.text.calibration import best_threshold, calibrate_multi, fit_temperature, softmax
from limelight.text.data import Targets, build_targets, stratified_split
from limelight.text.evaluation import evaluate_multi, evaluate_single, reliability
from limelight.text.fitters import tfidf_fitter
from limelight.text.training import Split, calibrate_and_evaluate
from tests.text.synthetic import labeled_rows, multi_label_rows


def _split(rows: list[tuple[str, str]], multi_label: bool = False) -> Split:
    targets = build_targets([label for _, label in rows], multi_label)
    train, valid = stratified_split(targets, 0.25, seed=0)
    texts = [t for t, _ in rows]
    return Split([texts[i] for i in train], targets.y[train], [texts[i] for i in valid], targets.y[valid], targets)


def test_star_labels_order_numerically_and_a_single_class_is_refused():
    targets = build_targets(["10", "2", "1", "2"], multi_label=False)
    assert targets.classes == ["1", "2", "10"] and targets.y.tolist() == [2, 1, 0, 1]
    with pytest.raises(InvalidParams) as caught:
        build_targets(["spam", "spam"], multi_label=False)
    assert caught.value.details["reason"] == "single_class"


def test_multi_label_tags_split_on_pipe_and_comma():
    targets = build_targets(["a|b", "b, c", "a"], multi_label=True)
    assert targets.classes == ["a", "b", "c"]
    assert targets.y.tolist() == [[1, 1, 0], [0, 1, 1], [1, 0, 0]]


def test_split_is_stratified_and_disjoint():
    y = np.array([0] * 80 + [1] * 20)
    train, valid = stratified_split(Targets(["a", "b"], False, y), 0.25, seed=3)
    assert not set(train) & set(valid) and len(train) + len(valid) == 100
    assert (y[valid] == 0).sum() == 20 and (y[valid] == 1).sum() == 5


def test_single_label_metrics_by_hand():
    y = np.array([0, 0, 1, 1, 2])
    proba = np.array([[.9, .05, .05], [.2, .7, .1], [.1, .8, .1], [.1, .6, .3], [.1, .1, .8]])
    m = evaluate_single(y, proba, ["a", "b", "c"])
    assert m["accuracy"] == 0.8
    assert m["confusion_matrix"]["matrix"] == [[1, 1, 0], [0, 2, 0], [0, 0, 1]]
    assert m["per_class"]["b"] == {"precision": pytest.approx(2 / 3, abs=1e-6), "recall": 1.0,
                                   "f1": pytest.approx(0.8, abs=1e-6), "support": 2}
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 1.0) / 3, abs=1e-6)
    assert sum(b["count"] for b in m["calibration"]["bins"]) == 5


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    conf = np.full(10, 0.75)
    assert reliability(conf, np.array([1] * 7 + [0] * 3 + [])[:10].astype(float))["ece"] == pytest.approx(0.05)
    assert reliability(np.full(10, 0.99), np.zeros(10))["ece"] == pytest.approx(0.99)


def test_temperature_scaling_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=400)
    logits = rng.normal(size=(400, 3))
    logits[np.arange(400), y] += 1.0
    logits *= 8  # right 2/3 of the time but nearly always ~100% sure
    t = fit_temperature(logits, y)
    before = reliability(softmax(logits).max(1), (logits.argmax(1) == y).astype(float))["ece"]
    after = reliability(softmax(logits / t).max(1), (logits.argmax(1) == y).astype(float))["ece"]
    assert t > 2 and after < before / 2


def test_thresholds_maximise_f1_and_platt_is_monotone():
    p = np.array([0.1, 0.2, 0.35, 0.4, 0.9])
    y = np.array([0, 0, 1, 1, 1])
    assert best_threshold(p, y) == pytest.approx(0.35)
    logits = np.array([[-3.0], [-1.0], [0.5], [1.0], [4.0]])
    a, _b, thresholds = calibrate_multi(logits, y[:, None].astype(float))
    assert a[0] > 0 and 0 < thresholds[0] < 1


def test_tfidf_runtime_matches_the_sklearn_pipeline(tmp_path: Path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    split = _split(labeled_rows(240))
    pipeline = make_pipeline(FeatureUnion([
        ("word", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))),
        ("char", TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5)))]),
        LogisticRegression(C=10.0, max_iter=2000, random_state=0)).fit(split.train_texts, split.train_y)
    fitted = tfidf_fitter(c=10.0, max_features=200_000, class_weight=None, seed=0)(split)
    metadata = {"kind": "tfidf", "labels": split.labels, "multi_label": False, "max_length": 20_000,
                "calibration": {"temperature": 1.0}, "recipe": "test"}
    save_arrays(tmp_path / "m.npz", metadata, fitted.members)
    model = load_classifier(tmp_path / "m.npz")
    texts = split.valid_texts + ["something never seen before", "GREAT film!!"]
    np.testing.assert_allclose(model.probabilities(texts), pipeline.predict_proba(texts), rtol=1e-6, atol=1e-8)


def test_tfidf_binary_parity_and_multi_label_decisions(tmp_path: Path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    rows = [r for r in labeled_rows(200) if r[1] != "neu"]
    split = _split(rows)
    pipeline = make_pipeline(FeatureUnion([
        ("word", TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))),
        ("char", TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5)))]),
        LogisticRegression(C=10.0, max_iter=2000, random_state=0)).fit(split.train_texts, split.train_y)
    fitted = tfidf_fitter(c=10.0, max_features=200_000, class_weight=None, seed=0)(split)
    np.testing.assert_allclose(softmax(fitted.valid_logits), pipeline.predict_proba(split.valid_texts), atol=1e-8)

    multi = _split(multi_label_rows(), multi_label=True)
    result = calibrate_and_evaluate(multi, tfidf_fitter(c=10.0, max_features=200_000, class_weight=None,
                                                        seed=0)(multi), 0.0)
    assert result.metrics["macro_f1"] > 0.9 and len(result.metrics["confusion_matrix"]["matrix"]) == 3
    metadata = {"kind": "tfidf", "labels": multi.labels, "multi_label": True, "max_length": 20_000,
                "calibration": result.calibration.to_json(), "recipe": "test"}
    save_arrays(tmp_path / "multi.npz", metadata, result.fitted.members)
    model = load_classifier(tmp_path / "multi.npz")
    [prediction] = model.predict(["We had rude waiter and expensive wine tonight"])
    assert {x["label"] for x in prediction["labels"]} == {"service", "price"}
    [loose] = model.predict(["We had rude waiter tonight"], threshold=[0.0])
    assert len(loose["labels"]) == 3


def _artifact(tmp_path: Path, **members: np.ndarray) -> Path:
    path = tmp_path / "bad.npz"
    buffer = io.BytesIO()
    np.savez(buffer, **members)  # type: ignore[arg-type]
    path.write_bytes(buffer.getvalue())
    return path


def test_loading_refuses_other_formats_pickles_and_object_arrays(tmp_path: Path):
    meta = np.array(json.dumps({"kind": "tfidf", "labels": ["a", "b"], "multi_label": False, "max_length": 5}))
    with pytest.raises(ValidationFailed, match="limelight.text/1"):
        load_classifier(_artifact(tmp_path, format=np.array("limelight.recsys/1"), metadata=meta))
    with pytest.raises(UnsafeArtifactFormat):
        load_classifier(_artifact(tmp_path, format=np.array(FORMAT), metadata=meta,
                                  **{"head.coef": np.array([object()], dtype=object)}))
    (tmp_path / "p.npz").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(UnsafeArtifactFormat):
        load_classifier(tmp_path / "p.npz")
    with pytest.raises(ValidationFailed, match="head"):
        load_classifier(_artifact(tmp_path, format=np.array(FORMAT), metadata=meta,
                                  **{"head.coef": np.zeros((3, 2)), "head.intercept": np.zeros(3)}))


def test_multi_label_metrics_use_thresholds():
    y = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    proba = np.array([[0.6, 0.1], [0.3, 0.9], [0.45, 0.8]])
    m = evaluate_multi(y, proba, np.array([0.4, 0.5]), ["x", "z"])
    assert m["accuracy"] == 1.0 and m["macro_f1"] == 1.0
    assert evaluate_multi(y, proba, np.array([0.5, 0.5]), ["x", "z"])["accuracy"] == pytest.approx(2 / 3, abs=1e-6)


def test_embedding_in_length_sorted_batches_keeps_each_text_on_its_own_row():
    pytest.importorskip("torch")
    from limelight.text.embedding_head import embed, load_encoder

    texts = ["a", "a much longer sentence about a film with many words in it", "mid length text", "b" * 300,
             "short", "another fairly long sentence to pad the batch"] * 20
    encoder = load_encoder(64, None, threads=1)
    try:
        together = embed(encoder, texts)
        alone = np.vstack([encoder.predict_batch([t]) for t in texts[:6]])
    finally:
        encoder.close()
    assert together.shape == (120, 384)
    assert np.allclose(together[:6], alone, atol=1e-4) and np.allclose(together[6:12], alone, atol=1e-4)


@pytest.mark.parametrize("kind", ["logistic", "mlp"])
def test_a_head_fitted_on_standardised_features_answers_the_same_on_raw_ones(kind):
    from limelight.text.heads import fit_logistic, fit_mlp, fold_standardisation, head_logits, standardiser

    rng = np.random.default_rng(3)
    x = rng.normal(loc=[5.0, -2.0, 0.0, 100.0], scale=[0.1, 3.0, 1.0, 20.0], size=(300, 4))
    x[:, 2] = 7.0  # a constant column: its scale is 1, not a division by zero
    y = (x[:, 0] - 5 + (x[:, 1] + 2) / 30 + (x[:, 3] - 100) / 200 > 0).astype(int)
    mean, scale = standardiser(x)
    z = (x - mean) / scale
    head = fit_logistic(z, y, 2, False, 1.0, 0) if kind == "logistic" else fit_mlp(z, y, 2, False, 8, 0)
    folded = fold_standardisation(head, mean, scale)
    np.testing.assert_allclose(head_logits(folded, x), head_logits(head, z), rtol=1e-9, atol=1e-9)
    assert set(folded) == set(head) and np.isfinite(folded["intercept"]).all()
    assert (head_logits(folded, x).argmax(1) == y).mean() > 0.9


def test_an_embedding_head_artifact_without_pooling_loads_the_sentence_encoder(tmp_path):
    pytest.importorskip("torch")
    head = {"head.coef": np.zeros((2, 384)), "head.intercept": np.array([0.0, 1.0])}
    path = tmp_path / "old.npz"
    save_arrays(path, {"kind": "embedding-head", "labels": ["neg", "pos"], "multi_label": False,
                       "calibration": {"temperature": 1.0}, "max_length": 32}, head)
    model = load_classifier(path)
    try:
        assert model.scorer.encoder.pooling == "mean" and model.predict(["fine"])[0]["label"] == "pos"
    finally:
        model.close()
    save_arrays(path, {"kind": "embedding-head", "labels": ["neg", "pos"], "multi_label": False,
                       "calibration": {"temperature": 1.0}, "max_length": 32, "pooling": "cls"}, head)
    with pytest.raises(ValidationFailed):
        load_classifier(path)
