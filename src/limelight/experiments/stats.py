"""The statistics of online experiments: intervals, two-sided tests, sample sizes and the decision rule.

Pure functions over counts and sufficient statistics (n, sum, sum of squares): the service stores
only those per variant. A/B/n compares each treatment with the control (the first variant) at
``alpha / (k - 1)`` (Bonferroni), and the planned sample size accounts for it.

The decision is fixed-horizon: it says "wait" until every variant has reached the planned sample
size and is then taken once, on the data at that point. Looking at a running test and stopping at
the first significant p-value ("peeking") makes false positives several times more frequent than
``alpha`` (``bench/experiments`` shows it); guardrails are different, they are safety stops that
may end a variant at any time because acting on them never claims a winner.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

from scipy import stats as sp

from limelight.serving.routing import unit_hash


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """Treatment minus control, its confidence interval, the two-sided p-value and the verdict."""

    difference: float
    low: float
    high: float
    p_value: float
    significant: bool


def _check_level(level: float, name: str = "level") -> None:
    if not 0 < level < 1:
        raise ValueError(f"{name} must be between 0 and 1 (exclusive), not {level}")


def _check_counts(successes: int, trials: int) -> None:
    if trials < 0 or successes < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")


def proportion_interval(successes: int, trials: int, level: float = 0.95) -> Interval:
    """Wilson score interval: unlike the Wald interval it stays inside [0, 1] and keeps its coverage
    for rare events (a 2 % click rate) and small samples. No trials: estimate NaN, interval [0, 1]."""
    _check_counts(successes, trials)
    _check_level(level)
    if trials == 0:
        return Interval(math.nan, 0.0, 1.0)
    z = float(sp.norm.ppf(0.5 + level / 2))
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def mean_interval(n: int, total: float, total_sq: float, level: float = 0.95) -> Interval:
    """Student-t interval of a mean from its sufficient statistics (e.g. watch seconds per impression)."""
    _check_level(level)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n == 0:
        return Interval(math.nan, math.nan, math.nan)
    mean = total / n
    if n == 1:
        return Interval(mean, -math.inf, math.inf)
    variance = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = float(sp.t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(variance / n)
    return Interval(mean, mean - half, mean + half)


def compare_proportions(control_successes: int, control_trials: int, treatment_successes: int,
                        treatment_trials: int, alpha: float = 0.05) -> Comparison:
    """Two-sided two-proportion z-test (pooled variance under H0) and the unpooled Wald interval of
    the difference at 1 - alpha."""
    _check_counts(control_successes, control_trials)
    _check_counts(treatment_successes, treatment_trials)
    _check_level(alpha, "alpha")
    if control_trials == 0 or treatment_trials == 0:
        return Comparison(math.nan, -math.inf, math.inf, 1.0, False)
    p_c, p_t = control_successes / control_trials, treatment_successes / treatment_trials
    pooled = (control_successes + treatment_successes) / (control_trials + treatment_trials)
    se_null = math.sqrt(pooled * (1 - pooled) * (1 / control_trials + 1 / treatment_trials))
    diff = p_t - p_c
    p_value = 1.0 if se_null == 0 else float(2 * sp.norm.sf(abs(diff) / se_null))
    se = math.sqrt(p_c * (1 - p_c) / control_trials + p_t * (1 - p_t) / treatment_trials)
    z = float(sp.norm.ppf(1 - alpha / 2))
    return Comparison(diff, diff - z * se, diff + z * se, p_value, p_value < alpha)


def compare_means(control: tuple[int, float, float], treatment: tuple[int, float, float],
                  alpha: float = 0.05) -> Comparison:
    """Welch's t-test from (n, sum, sum of squares) of each arm; unequal variances allowed."""
    _check_level(alpha, "alpha")
    (n_c, s_c, q_c), (n_t, s_t, q_t) = control, treatment
    if n_c < 2 or n_t < 2:
        return Comparison(math.nan, -math.inf, math.inf, 1.0, False)
    m_c, m_t = s_c / n_c, s_t / n_t
    v_c = max(0.0, (q_c - n_c * m_c * m_c) / (n_c - 1)) / n_c
    v_t = max(0.0, (q_t - n_t * m_t * m_t) / (n_t - 1)) / n_t
    diff, se = m_t - m_c, math.sqrt(v_c + v_t)
    if se == 0:
        return Comparison(diff, diff, diff, 1.0 if diff == 0 else 0.0, diff != 0)
    dof = (v_c + v_t) ** 2 / ((v_c * v_c / (n_c - 1) if v_c else 0.0) + (v_t * v_t / (n_t - 1) if v_t else 0.0))
    p_value = float(2 * sp.t.sf(abs(diff) / se, dof))
    half = float(sp.t.ppf(1 - alpha / 2, dof)) * se
    return Comparison(diff, diff - half, diff + half, p_value, p_value < alpha)


def per_comparison_alpha(alpha: float, variants: int) -> float:
    """Bonferroni: each of the ``variants - 1`` treatment-vs-control tests runs at this level."""
    _check_level(alpha, "alpha")
    if variants < 2:
        raise ValueError(f"an experiment needs at least 2 variants, got {variants}")
    return alpha / (variants - 1)


def sample_size_per_variant(baseline: float, lift: float, alpha: float = 0.05, power: float = 0.8,
                            variants: int = 2) -> int:
    """Impressions per variant to detect an absolute ``lift`` over ``baseline`` with ``power``
    (two-sided normal approximation: pooled variance under H0, unpooled under H1)."""
    _check_level(power, "power")
    if not 0 < baseline < 1 or not 0 < baseline + lift < 1 or lift == 0:
        raise ValueError(f"need 0 < baseline < 1, lift != 0 and 0 < baseline + lift < 1 ({baseline}, {lift})")
    a = per_comparison_alpha(alpha, variants)
    p1, p2 = baseline, baseline + lift
    pooled = (p1 + p2) / 2
    z_a, z_b = float(sp.norm.ppf(1 - a / 2)), float(sp.norm.ppf(power))
    top = z_a * math.sqrt(2 * pooled * (1 - pooled)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(top * top / (lift * lift))


def power_of(baseline: float, lift: float, n_per_variant: int, alpha: float = 0.05, variants: int = 2) -> float:
    """The probability the test flags a true ``lift`` with ``n_per_variant`` impressions per variant."""
    if n_per_variant <= 0:
        raise ValueError(f"n_per_variant must be positive, got {n_per_variant}")
    a = per_comparison_alpha(alpha, variants)
    p1, p2 = baseline, baseline + lift
    pooled = (p1 + p2) / 2
    z_a = float(sp.norm.ppf(1 - a / 2))
    se_null = math.sqrt(2 * pooled * (1 - pooled) / n_per_variant)
    se_alt = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n_per_variant)
    return float(sp.norm.sf((z_a * se_null - abs(lift)) / se_alt) + sp.norm.cdf((-z_a * se_null - abs(lift)) / se_alt))


# ---- the decision --------------------------------------------------------------------------

@dataclass(frozen=True)
class VariantStats:
    name: str
    impressions: int
    clicks: int  # successes of a proportion metric (clicks for CTR, completions for completion rate)
    errors: int = 0
    requests: int = 0  # every request served, answered or failed (impressions count answered ones)
    p99_latency_ms: float | None = None
    total: float = 0.0  # a mean metric's sum over impressions (watch seconds) ...
    total_sq: float = 0.0  # ... and sum of squares


@dataclass(frozen=True)
class Guardrails:
    max_error_rate: float = 0.01
    max_p99_ms: float | None = None
    min_requests: int = 0  # fewer requests than this say nothing yet (one error in two is not 50 %)


@dataclass(frozen=True)
class Decision:
    action: Literal["wait", "promote", "keep_control", "rollback"]
    variant: str | None
    reason: str


def decide(variants: Sequence[VariantStats], *, planned_n: int, alpha: float = 0.05,
           guardrails: Guardrails | None = None, metric: Literal["proportion", "mean"] = "proportion",
           label: str = "CTR") -> Decision:
    """Roll back a treatment breaching a guardrail (any time); else wait for ``planned_n`` impressions
    in every variant, then promote the best treatment that beats control significantly, or keep control.
    ``metric``: a proportion (``clicks`` of ``impressions``, z-test) or a mean (``total``/``total_sq``
    over ``impressions``, Welch's test)."""
    if len(variants) < 2:
        raise ValueError("an experiment needs at least 2 variants")
    rails = guardrails or Guardrails()
    for v in variants[1:]:
        if v.requests < rails.min_requests:
            continue
        if v.requests and v.errors / v.requests > rails.max_error_rate:
            return Decision("rollback", v.name, f"error rate {v.errors / v.requests:.2%} is above the guardrail "
                                                f"{rails.max_error_rate:.2%}")
        if rails.max_p99_ms is not None and v.p99_latency_ms is not None and v.p99_latency_ms > rails.max_p99_ms:
            return Decision("rollback", v.name, f"p99 latency {v.p99_latency_ms:.0f} ms is above the guardrail "
                                                f"{rails.max_p99_ms:.0f} ms")
    short = [v.name for v in variants if v.impressions < planned_n]
    if short:
        return Decision("wait", None, f"{', '.join(short)} below the planned {planned_n} impressions")
    control, a = variants[0], per_comparison_alpha(alpha, len(variants))
    winners = []
    for v in variants[1:]:
        result = compare(control, v, a, metric)
        if result.significant and result.difference > 0:
            winners.append((result.difference, v.name))
    if winners:
        difference, name = max(winners)
        shown = f"{difference:+.2%}" if metric == "proportion" else f"{difference:+.3g}"
        return Decision("promote", name, f"{label} {shown} over control, significant at {a:g}")
    return Decision("keep_control", None, f"no treatment beats control at {a:g}")


def compare(control: VariantStats, treatment: VariantStats, alpha: float,
            metric: Literal["proportion", "mean"] = "proportion") -> Comparison:
    """Treatment against control on the primary metric, two-sided at ``alpha``."""
    if metric == "mean":
        return compare_means((control.impressions, control.total, control.total_sq),
                             (treatment.impressions, treatment.total, treatment.total_sq), alpha)
    return compare_proportions(control.clicks, control.impressions, treatment.clicks, treatment.impressions, alpha)


def assign_variant(experiment_key: str, end_user: str, weights: Sequence[float]) -> int:
    """A sticky, stateless assignment: the same user gets the same variant in every process, and
    different experiments assign independently (the key is hashed in)."""
    if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    bounds = list(accumulate(float(w) for w in weights))
    # the same stable hash the serving router splits canary traffic with
    return min(bisect.bisect_right(bounds, unit_hash(experiment_key, end_user) * bounds[-1]), len(weights) - 1)
