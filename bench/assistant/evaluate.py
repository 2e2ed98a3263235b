"""The support assistant on the shipped Reelwave evaluation set: retrieval, citations, abstention.

    PYTHONPATH=src python bench/assistant/evaluate.py            # retrieval and abstention (~30 s)
    PYTHONPATH=src python bench/assistant/evaluate.py --llm 30   # also 30 LLM answers through the runtime

Builds the ``assistant/rag`` index with the recipe's default params (what ships), asks every
question, and prints:

* recall@3: answerable questions with an answering article among the 3 cited (target >= 0.9);
* citation precision: answered (not abstained) answerable questions whose citations include an
  answering article (target >= 0.8);
* abstention on the unanswerable questions (target >= 0.8), false abstention on answerable ones;
* a threshold sweep, to recalibrate ``DEFAULT_ABSTAIN_THRESHOLD``;
* with ``--llm N``: N answered questions run through the real ``assistant`` runtime (SmolLM2 on
  llama.cpp): latency, how many answers mark a citation ``[n]``, and how often a marked passage is
  an answering article.

The threshold is calibrated on this same set, so the abstention figures are in-sample; the last
line recalibrates it on random halves and measures the other half, the out-of-sample estimate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from limelight.assistant.indexing import build_index, passage_encoder
from limelight.assistant.retrieval import DEFAULT_ABSTAIN_THRESHOLD, Retriever
from limelight.assistant.shipped import EvalQuestion, articles, evaluation_questions
from limelight.recipes.assistant_rag import AssistantParams
from limelight.search.building import encode_with


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--llm", type=int, default=0, help="answer this many questions with the LLM")
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    params = AssistantParams().model_dump(mode="json")
    with tempfile.TemporaryDirectory() as tmp:
        encoder = passage_encoder(Path(tmp) / "cache")
        started = time.perf_counter()
        index = build_index(articles(), params, encoder)
        build_s = time.perf_counter() - started
        retriever = Retriever(index, encode_with(encoder), params["semantic_weight"])
        questions = evaluation_questions()
        started = time.perf_counter()
        found = [retriever.retrieve(q.question, args.k) for q in questions]
        per_question_ms = (time.perf_counter() - started) / len(questions) * 1000
        print(f"{len(articles())} articles, {index.size} passages, index built in {build_s:.1f} s; "
              f"retrieval {per_question_ms:.1f} ms per question")
        confidence = np.array([f.confidence for f in found])
        _table(questions, found, confidence, DEFAULT_ABSTAIN_THRESHOLD)
        _sweep(questions, confidence)
        _held_out(questions, confidence)
        _fresh_unanswerable(retriever, args.k)
        encoder.close()
        if args.llm:
            _llm(index, questions, args.llm, Path(tmp))


def _hit(question: EvalQuestion, doc_ids: list[str]) -> bool:
    return bool(set(question.answers) & set(doc_ids))


def _table(questions: list[EvalQuestion], found: list, confidence: np.ndarray, threshold: float) -> None:  # type: ignore[type-arg]
    answerable = np.array([q.answerable for q in questions])
    recall = np.mean([_hit(q, [h.doc_id for h in f.hits]) for q, f in zip(questions, found, strict=True)
                      if q.answerable])
    answered = [(q, f) for q, f, c in zip(questions, found, confidence, strict=True)
                if q.answerable and c >= threshold]
    precision = np.mean([_hit(q, [h.doc_id for h in f.hits]) for q, f in answered]) if answered else 0.0
    rows = [("recall@3 (answerable)", recall, ">= 0.90"),
            ("citation precision (answered)", precision, ">= 0.80"),
            ("abstention (unanswerable)", float(np.mean(confidence[~answerable] < threshold)), ">= 0.80"),
            ("false abstention (answerable)", float(np.mean(confidence[answerable] < threshold)), "low")]
    print(f"\nthreshold {threshold}  ({int(answerable.sum())} answerable, {int((~answerable).sum())} unanswerable)")
    print(f"{'metric':<32}{'value':>8}  target")
    for name, value, target in rows:
        print(f"{name:<32}{value:>8.3f}  {target}")


def _sweep(questions: list[EvalQuestion], confidence: np.ndarray) -> None:
    answerable = np.array([q.answerable for q in questions])
    print(f"\n{'threshold':>9} {'abstain(unans)':>15} {'false abstain':>14}")
    for threshold in np.arange(0.50, 0.76, 0.02):
        print(f"{threshold:>9.2f} {np.mean(confidence[~answerable] < threshold):>15.2f} "
              f"{np.mean(confidence[answerable] < threshold):>14.3f}")


def _held_out(questions: list[EvalQuestion], confidence: np.ndarray, splits: int = 200, seed: int = 0) -> None:
    """Abstention calibrated on one half of the questions and measured on the other (random halves,
    stratified by answerability): what a threshold chosen the shipped way does on questions it never saw."""
    answerable = np.array([q.answerable for q in questions])
    rng = np.random.default_rng(seed)
    grid = np.arange(0.40, 0.90, 0.005)
    abstain, false_abstain = [], []
    for _ in range(splits):
        calibrate = np.zeros(len(questions), dtype=bool)
        for group in (np.flatnonzero(answerable), np.flatnonzero(~answerable)):
            calibrate[rng.choice(group, size=len(group) // 2, replace=False)] = True
        unknown = confidence[calibrate & ~answerable]
        threshold = next((t for t in grid if np.mean(unknown < t) >= 0.8), grid[-1])
        test = ~calibrate
        abstain.append(np.mean(confidence[test & ~answerable] < threshold))
        false_abstain.append(np.mean(confidence[test & answerable] < threshold))
    print(f"\nheld out ({splits} random halves; threshold: lowest abstaining on 80% of the calibration half's "
          f"unanswerable): abstention {np.mean(abstain):.3f} (p10 {np.percentile(abstain, 10):.2f}), "
          f"false abstention {np.mean(false_abstain):.3f}")


HOLDOUT = Path(__file__).with_name("unanswerable_holdout.jsonl")


def _fresh_unanswerable(retriever: Retriever, k: int) -> None:
    """20 more out-of-scope questions, written after the threshold was fixed and never used to set it."""
    rows = [json.loads(line) for line in HOLDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    confidence = np.array([retriever.retrieve(row["question"], k).confidence for row in rows])
    missed = [row["question"] for row, c in zip(rows, confidence, strict=True) if c >= DEFAULT_ABSTAIN_THRESHOLD]
    print(f"\nfresh unanswerable set ({HOLDOUT.name}, {len(rows)} questions): abstention "
          f"{np.mean(confidence < DEFAULT_ABSTAIN_THRESHOLD):.3f} at threshold {DEFAULT_ABSTAIN_THRESHOLD}; "
          f"answered anyway: {missed}")


def _llm(index: object, questions: list[EvalQuestion], limit: int, tmp: Path) -> None:
    from limelight.assistant.artifact import save_index
    from limelight.runtimes.base import LoadContext, load_runtime

    path = tmp / "assistant.npz"
    save_index(path, index)  # type: ignore[arg-type]
    runtime = load_runtime("assistant", path, {}, LoadContext(cache_dir=tmp / "cache"))
    try:
        chosen = [q for q in questions if q.answerable][::max(1, 165 // limit)][:limit]
        latencies, marked, marked_right, abstained = [], 0, 0, 0
        for question in chosen:
            started = time.perf_counter()
            body = runtime.ask(question.question)  # type: ignore[attr-defined]
            latencies.append(time.perf_counter() - started)
            if body["abstained"]:
                abstained += 1
                continue
            cited = [c["doc_id"] for c in body["citations"] if c["cited"]]
            marked += bool(cited)
            marked_right += _hit(question, cited)
        answered = len(chosen) - abstained
        print(f"\nLLM answers ({runtime.llm}, max_tokens {runtime.max_tokens}) on {len(chosen)} answerable questions:")  # type: ignore[attr-defined]
        print(f"  abstained {abstained}; of {answered} answered: {marked} mark a citation [n], "
              f"{marked_right} mark an answering article")
        print(f"  latency per question: median {statistics.median(latencies):.2f} s, "
              f"max {max(latencies):.2f} s")
        print(f"  example: {chosen[0].question!r} -> {runtime.ask(chosen[0].question)['answer']!r}")  # type: ignore[attr-defined]
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
