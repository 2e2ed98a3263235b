"""Which head the frozen MiniLM features support on SST-2: the ``classify-text/embeddings`` encoder
(bundled all-MiniLM-L6-v2, ONNX, max length 256) embeds a seeded subsample of train.tsv and all of
dev.tsv once, as the unit-length sentence embedding (``--pooling mean``) or as every layer's mean side
by side (``--pooling layers``, the recipe's default features), then each candidate head is fitted on
the train vectors and scored on dev. It answers how far a head alone can move dev accuracy; the
recipe's own figure (with its validation split and calibration) comes from accuracy.py.

Usage (from the repository root; about 7 minutes of encoding for 20,000 texts on 2 idle cores):
  PYTHONPATH=src .venv/bin/python bench/text/embedding_heads.py --train 20000 --pooling layers
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import DATA, read_tsv  # noqa: E402


def candidates() -> list[tuple[str, Any]]:
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    heads: list[tuple[str, Any]] = [(f"logistic C={c}", LogisticRegression(C=c, max_iter=3000)) for c in (0.5, 1, 2, 4)]
    heads += [(f"standardised logistic C={c}", make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000)))
              for c in (0.005, 0.01, 0.02, 0.05, 0.2)]
    heads += [("MLP 256, alpha 1e-3 (the recipe's mlp head)", MLPClassifier((256,), alpha=1e-3, max_iter=300,
                                                                              random_state=42)),
              ("MLP 256, alpha 1e-3, early stopping", MLPClassifier((256,), alpha=1e-3, max_iter=300,
                                                                    early_stopping=True, random_state=42))]
    heads += [(f"RBF (Nystroem 2000, gamma {g}) + logistic C=1",
               make_pipeline(Nystroem(gamma=g, n_components=2000, random_state=0), LogisticRegression(max_iter=3000)))
              for g in (0.5, 1.0)]
    return heads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=20_000, help="train.tsv rows to embed (seeded subsample; 0: all)")
    parser.add_argument("--pooling", choices=("mean", "layers"), default="mean",
                        help="mean: the sentence embedding; layers: every layer's mean side by side")
    args = parser.parse_args()
    from limelight.text.embedding_head import embed, load_encoder

    texts, labels = read_tsv(DATA / "sst2" / "train.tsv")
    dev_texts, dev_labels = read_tsv(DATA / "sst2" / "dev.tsv")
    if args.train:
        pick = np.random.default_rng(0).permutation(len(texts))[: args.train]
        texts, labels = [texts[i] for i in pick], [labels[i] for i in pick]
    with tempfile.TemporaryDirectory() as cache:
        encoder = load_encoder(256, Path(cache), pooling=args.pooling)
        started = time.perf_counter()
        x, dev_x = embed(encoder, texts), embed(encoder, dev_texts)
        encoder.close()
    print(f"embedded {len(texts)} train and {len(dev_texts)} dev texts in {time.perf_counter() - started:.0f} s")
    print("| head | dev accuracy | fit s |\n|---|---:|---:|")
    y, dev_y = np.array(labels), np.array(dev_labels)
    for name, head in candidates():
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's convergence notes
            head.fit(x, y)
        print(f"| {name} | {head.score(dev_x, dev_y):.4f} | {time.perf_counter() - started:.1f} |", flush=True)


if __name__ == "__main__":
    main()
