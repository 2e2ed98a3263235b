"""The statistics of online experiments against hand-computed and scipy reference values, the sticky
assignment, the fixed-horizon decision, and Monte-Carlo checks of power and the A/A false-positive rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sp

from limelight.experiments.stats import (
    Guardrails,
    VariantStats,
    assign_variant,
    compare_means,
    compare_proportions,
    decide,
    mean_interval,
    power_of,
    proportion_interval,
    sample_size_per_variant,
)


def test_wilson_interval_matches_the_textbook_value():
    interval = proportion_interval(10, 100)
    assert interval.estimate == 0.1
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.0552, 0.1744)
    assert proportion_interval(0, 50).low == pytest.approx(0.0, abs=1e-12) and proportion_interval(50, 50).high == 1.0
    assert proportion_interval(0, 50).high == pytest.approx(0.0713, abs=1e-4)  # never a zero-width interval
    assert math.isnan(proportion_interval(0, 0).estimate)


def test_two_proportion_z_test_matches_a_hand_computation():
    # 100/1000 vs 130/1000: pooled 0.115, se = sqrt(.115 * .885 * 2 / 1000) = 0.014267, z = 2.1028
    result = compare_proportions(100, 1000, 130, 1000)
    assert result.difference == pytest.approx(0.03)
    assert result.p_value == pytest.approx(2 * sp.norm.sf(0.03 / math.sqrt(0.115 * 0.885 * 0.002)), rel=1e-9)
    assert result.p_value == pytest.approx(0.03548, abs=1e-4) and result.significant
    assert result.low < 0.03 < result.high and not compare_proportions(100, 1000, 105, 1000).significant


def test_welch_from_sufficient_statistics_matches_scipy_on_raw_data():
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2.0, 30.0, 400), rng.gamma(2.2, 30.0, 300)
    stats_of = lambda x: (len(x), float(x.sum()), float((x * x).sum()))  # noqa: E731
    result = compare_means(stats_of(a), stats_of(b))
    reference = sp.ttest_ind(b, a, equal_var=False)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-6)
    assert result.difference == pytest.approx(b.mean() - a.mean())
    interval = mean_interval(*stats_of(a))
    assert interval.low < a.mean() < interval.high
    assert interval.high - interval.low == pytest.approx(2 * sp.t.ppf(0.975, 399) * a.std(ddof=1) / 20, rel=1e-6)


def test_sample_size_and_power_agree_with_each_other():
    n = sample_size_per_variant(0.10, 0.02)
    assert 3800 <= n <= 3900  # the classic figure for 10% -> 12% at alpha .05, power .8
    assert power_of(0.10, 0.02, n) >= 0.8 > power_of(0.10, 0.02, n - 50)
    assert power_of(0.10, 0.02, n // 2) < 0.55
    assert sample_size_per_variant(0.10, 0.02, variants=3) > n  # Bonferroni costs impressions


def test_assignment_is_sticky_weighted_and_independent_across_experiments():
    assert all(assign_variant("exp-1", f"u{i}", [1, 1]) == assign_variant("exp-1", f"u{i}", [1, 1])
               for i in range(200))
    counts = np.bincount([assign_variant("exp-w", f"u{i}", [0.7, 0.2, 0.1]) for i in range(100_000)], minlength=3)
    chi2 = sp.chisquare(counts, f_exp=np.array([0.7, 0.2, 0.1]) * 100_000)
    assert chi2.pvalue > 0.001, counts
    first = np.array([assign_variant("exp-a", f"u{i}", [1, 1]) for i in range(20_000)])
    second = np.array([assign_variant("exp-b", f"u{i}", [1, 1]) for i in range(20_000)])
    assert abs(float(np.mean(first == second)) - 0.5) < 0.02  # knowing one says nothing of the other


def test_the_decision_waits_promotes_keeps_control_and_rolls_back():
    rails = Guardrails(max_error_rate=0.01, max_p99_ms=200)
    early = [VariantStats("a", 1000, 100), VariantStats("b", 1000, 200)]
    assert decide(early, planned_n=3841).action == "wait"  # a big early gap is no reason to stop
    win = decide([VariantStats("a", 4000, 400), VariantStats("b", 4000, 500)], planned_n=3841)
    assert (win.action, win.variant) == ("promote", "b")
    same = decide([VariantStats("a", 4000, 400), VariantStats("b", 4000, 410)], planned_n=3841)
    assert (same.action, same.variant) == ("keep_control", None)
    worse = decide([VariantStats("a", 4000, 500), VariantStats("b", 4000, 400)], planned_n=3841)
    assert worse.action == "keep_control"  # significantly worse is never promoted
    broken = decide([VariantStats("a", 100, 10, errors=0, requests=100),
                     VariantStats("b", 100, 10, errors=5, requests=100)], planned_n=3841, guardrails=rails)
    assert (broken.action, broken.variant) == ("rollback", "b") and "error rate" in broken.reason
    slow = decide([VariantStats("a", 100, 10), VariantStats("b", 100, 10, p99_latency_ms=450)],
                  planned_n=3841, guardrails=rails)
    assert (slow.action, slow.variant) == ("rollback", "b")


@pytest.mark.parametrize("call", [
    lambda: assign_variant("e", "u", []),
    lambda: assign_variant("e", "u", [1, -1]),
    lambda: assign_variant("e", "u", [0, 0]),
    lambda: proportion_interval(11, 10),
    lambda: compare_proportions(1, 10, 1, 10, alpha=1.5),
    lambda: sample_size_per_variant(0.95, 0.1),
    lambda: decide([VariantStats("a", 1, 1)], planned_n=1),
])
def test_bad_input_raises_a_clear_value_error(call):
    with pytest.raises(ValueError, match=r"\w+"):
        call()


def test_monte_carlo_power_and_aa_false_positive_rate():
    """1,000 simulated experiments at the planned size (binomial counts, fixed seed)."""
    rng = np.random.default_rng(11)
    n, runs = sample_size_per_variant(0.10, 0.02), 1000
    control, same, better = (rng.binomial(n, p, runs) for p in (0.10, 0.10, 0.12))
    aa = [compare_proportions(int(c), n, int(t), n).significant for c, t in zip(control, same, strict=True)]
    ab = [compare_proportions(int(c), n, int(t), n).significant for c, t in zip(control, better, strict=True)]
    se = math.sqrt(0.05 * 0.95 / runs)
    assert float(np.mean(aa)) <= 0.05 + 3 * se, np.mean(aa)
    assert float(np.mean(ab)) >= 0.8 - 3 * math.sqrt(0.8 * 0.2 / runs), np.mean(ab)
