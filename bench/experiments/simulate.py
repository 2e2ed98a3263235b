"""Simulated online experiments through limelight's own assignment and decision rule.

Each run is one experiment: synthetic end users are assigned with ``assign_variant`` (sticky hashing,
a new experiment key per run), each exposure is clicked with its variant's true CTR, and once every
variant has the planned impressions (``sample_size_per_variant``) ``decide`` is applied once. Over
many runs, the share of runs that promote the better treatment is the power; in A/A, the share of
runs where a treatment differs significantly from control in either direction is the
false-positive rate. A "peeking" row applies the naive test after every 500 impressions instead, to show why the
rule is fixed-horizon.

  .venv/bin/python bench/experiments/simulate.py --runs 1000 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from limelight.experiments.stats import (  # noqa: E402
    VariantStats,
    assign_variant,
    compare_proportions,
    decide,
    per_comparison_alpha,
    power_of,
    proportion_interval,
    sample_size_per_variant,
)

ALPHA, POWER, BASELINE, LIFT = 0.05, 0.8, 0.10, 0.02
PEEK_EVERY = 500


@dataclass(frozen=True)
class Scenario:
    name: str
    ctrs: tuple[float, ...]
    target: str


SCENARIOS = (
    Scenario("A/A (10% vs 10%)", (0.10, 0.10), "flagged (either direction) in <= 5% of runs"),
    Scenario("A/B (10% vs 12%)", (0.10, 0.12), "promotes B in >= 80% of runs"),
    Scenario("A/B/C (10%, 10%, 12%)", (0.10, 0.10, 0.12), "promotes C in >= 80% of runs"),
)


def impressions_until_planned(key: str, k: int, planned: int) -> np.ndarray:
    """Per-variant impressions when the last variant reaches ``planned``, users arriving one by one.

    Users are assigned in batches (one ``assign_variant`` call each) and the arrival order is kept, so
    the cumulative counts give exactly the point where the slowest variant reaches ``planned``."""
    weights = [1.0] * k
    assigned: list[int] = []
    while True:
        start = len(assigned)
        batch = max(k * planned - start, 256 * k)
        assigned += [assign_variant(key, f"user-{u}", weights) for u in range(start, start + batch)]
        arms = np.asarray(assigned)
        cumulative = np.cumsum(arms[:, None] == np.arange(k), axis=0)
        done = np.flatnonzero(cumulative.min(axis=1) >= planned)
        if done.size:
            return cumulative[done[0]].astype(np.int64)


def run_scenario(scenario: Scenario, runs: int, rng: np.random.Generator) -> dict[str, object]:
    k = len(scenario.ctrs)
    planned = sample_size_per_variant(BASELINE, LIFT, ALPHA, POWER, variants=k)
    flagged, right, promoted = 0, 0, 0
    best = int(np.argmax(scenario.ctrs)) if len(set(scenario.ctrs)) > 1 else None
    per_test = per_comparison_alpha(ALPHA, k)
    for run in range(runs):
        counts = impressions_until_planned(f"{scenario.name}-{run}", k, planned)
        clicks = rng.binomial(counts, scenario.ctrs)
        decision = decide([VariantStats(f"v{i}", int(n), int(c)) for i, (n, c) in enumerate(zip(counts, clicks, strict=True))],
                          planned_n=planned, alpha=ALPHA)
        promoted += decision.action == "promote"
        right += decision.action == "promote" and decision.variant == f"v{best}"
        # flagged: any treatment significantly different from control, in either direction
        flagged += any(compare_proportions(int(clicks[0]), int(counts[0]), int(clicks[i]), int(counts[i]),
                                           per_test).significant for i in range(1, k))
    rate = right if best is not None else flagged
    interval = proportion_interval(rate, runs)
    return {"scenario": scenario.name, "runs": runs, "planned": planned,
            "predicted": power_of(BASELINE, LIFT, planned, ALPHA, variants=k) if best is not None else ALPHA,
            "rate": interval, "promoted": proportion_interval(promoted, runs), "target": scenario.target}


def peeking_aa(runs: int, rng: np.random.Generator) -> dict[str, object]:
    """A/A with the naive two-proportion test after every PEEK_EVERY impressions per variant, stopping
    at the first p < alpha: the stopping rule the fixed horizon avoids."""
    planned = sample_size_per_variant(BASELINE, LIFT, ALPHA, POWER)
    looks = np.arange(PEEK_EVERY, planned + 1, PEEK_EVERY)
    a = np.cumsum(rng.random((runs, planned)) < BASELINE, axis=1)[:, looks - 1]
    b = np.cumsum(rng.random((runs, planned)) < BASELINE, axis=1)[:, looks - 1]
    pooled = (a + b) / (2 * looks)
    se = np.sqrt(pooled * (1 - pooled) * 2 / looks)
    z = np.abs(b - a) / looks / np.where(se > 0, se, np.inf)
    flagged = int(((2 * sp.norm.sf(z)) < ALPHA).any(axis=1).sum())
    return {"scenario": f"A/A, naive test every {PEEK_EVERY} impressions ({len(looks)} looks)", "runs": runs,
            "planned": planned, "predicted": None, "rate": proportion_interval(flagged, runs),
            "target": "shows the inflation the fixed horizon avoids"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    rows = [run_scenario(s, args.runs, rng) for s in SCENARIOS] + [peeking_aa(args.runs, rng)]
    print(f"alpha {ALPHA} (per comparison: Bonferroni, {per_comparison_alpha(ALPHA, 3):.3f} with 3 variants), "
          f"power {POWER}, baseline CTR {BASELINE:.0%}, lift {LIFT:+.0%} absolute; seed {args.seed}\n")
    print("| scenario | runs | planned n per variant | predicted | measured rate [95% CI] | target |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        rate = r["rate"]
        predicted = "—" if r["predicted"] is None else f"{r['predicted']:.3f}"
        print(f"| {r['scenario']} | {r['runs']} | {r['planned']:,} | {predicted} | "
              f"{rate.estimate:.3f} [{rate.low:.3f}, {rate.high:.3f}] | {r['target']} |")
    aa = rows[0]["promoted"]
    print(f"\nA/A runs that `decide` promoted (a false win, only the upward half of the flagged runs): "
          f"{aa.estimate:.3f} [{aa.low:.3f}, {aa.high:.3f}]")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
