"""A finished job's results as the job page shows them: metrics, the candidates table, one chart.

``job.result`` holds ``metrics`` (the kept model's) and ``summary``; recipes that compare several
candidates (``recommend/auto``) put a ``candidates`` list in the summary, each with a name and
its metrics (flat or under ``metrics``). Anything else in a candidate is shown as-is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from limelight.schemas.jobs import JobRead
from limelight.ui.charts import BarChart, bar_chart

PREFERRED_METRICS = ("ndcg@10", "macro_f1", "accuracy", "auc", "f1", "r2", "map@10", "recall@10")
NAME_KEYS = ("name", "recipe", "candidate", "algorithm", "kind")
MAX_COLUMNS = 7
# numbers a candidate carries that are not quality metrics (counts, hyperparameters)
NOT_METRICS = ("trials", "users", "k", "features", "steps", "evaluations", "C", "best_metric")


@dataclass(frozen=True)
class Candidate:
    name: str
    metrics: dict[str, float]
    chosen: bool


@dataclass(frozen=True)
class JobResults:
    metrics: dict[str, Any]
    candidates: list[Candidate]
    metric_names: list[str]
    chart: BarChart | None
    chart_metric: str | None
    model_ref: str | None
    version: int | None
    promotion: dict[str, Any] | None
    dataset: str | None = None  # a scoring job stored this dataset version (read ``version`` of ``model_ref``)
    dataset_version: int | None = None
    rows: int | None = None


def job_results(job: JobRead) -> JobResults | None:
    if not job.result:
        return None
    result = job.result
    metrics = {k: v for k, v in (result.get("metrics") or {}).items() if isinstance(k, str)}
    summary = result.get("summary") or {}
    winner = summary.get("winner") or summary.get("best") or summary.get("chosen")
    candidates = _candidates(summary.get("candidates"), winner)
    names = _metric_names([c.metrics for c in candidates] or [_numeric(metrics)])
    if candidates:
        names = _table_columns(names)
    chart_metric = next((m for m in PREFERRED_METRICS if m in names), names[0] if names else None)
    chart = None
    if candidates and chart_metric:
        chart = bar_chart([(c.name, c.metrics.get(chart_metric, 0.0)) for c in candidates], title=chart_metric)
    elif metrics:
        chart = bar_chart([(k, v) for k, v in _numeric(metrics).items() if 0 <= v <= 1], title="holdout metrics")
    return JobResults(metrics=metrics, candidates=candidates, metric_names=names, chart=chart,
                      chart_metric=chart_metric if candidates else None, model_ref=result.get("model"),
                      version=result.get("version"), promotion=result.get("promotion"),
                      dataset=result.get("dataset"), dataset_version=result.get("dataset_version"),
                      rows=result.get("rows"))


def _candidates(raw: Any, best: Any) -> list[Candidate]:
    if not isinstance(raw, list):
        return []
    found = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            continue
        name = next((str(entry[k]) for k in NAME_KEYS if entry.get(k)), f"candidate {i + 1}")
        metrics = _numeric(entry["metrics"]) if isinstance(entry.get("metrics"), dict) else _numeric(entry)
        found.append(Candidate(name=name, metrics=metrics, chosen=bool(entry.get("chosen")) or name == best))
    return found


def _table_columns(names: list[str]) -> list[str]:
    """The comparison's columns: metrics at a cut-off (``ndcg@10``) rather than their bare twins
    (``ndcg``), then the training time; at most ``MAX_COLUMNS``."""
    at_k = {n.split("@")[0] for n in names if "@" in n}
    kept = [n for n in names if n not in at_k and not n.endswith("seconds") and n not in NOT_METRICS]
    timing = [n for n in ("train_seconds", "seconds", "fit_seconds") if n in names][:1]
    return kept[: MAX_COLUMNS - len(timing)] + timing


def _numeric(values: dict[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _metric_names(rows: list[dict[str, float]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        for name in row:
            names.setdefault(name, None)
    return sorted(names, key=lambda n: (n not in PREFERRED_METRICS, PREFERRED_METRICS.index(n)
                                        if n in PREFERRED_METRICS else 0, n))
