"""How a recommender spreads its attention over the catalog: coverage, concentration and drift.

Pure functions over per-item counts of what was shown. Coverage is the share of the catalog shown
at least once; the Gini coefficient of the shown counts over the whole catalog (never-shown items
count as zeros) is 0 when every item is shown equally and near 1 when a few items take everything;
drift is the Jensen-Shannon distance (base 2, so in [0, 1]) between two weeks' distributions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.spatial.distance import jensenshannon


def coverage(shown: Mapping[str, int], catalog_size: int | None) -> float | None:
    if not catalog_size:
        return None
    return min(1.0, sum(1 for n in shown.values() if n > 0) / catalog_size)


def gini(shown: Mapping[str, int], catalog_size: int | None = None) -> float | None:
    """Over ``catalog_size`` items when known (zeros for the unseen), else over the items shown."""
    counts = np.array([n for n in shown.values() if n > 0], dtype=float)
    if counts.sum() <= 0:
        return None
    size = max(catalog_size or 0, counts.size)
    values = np.sort(np.concatenate([np.zeros(size - counts.size), counts]))
    ranks = np.arange(1, size + 1)
    return float((2 * ranks - size - 1).dot(values) / (size * values.sum()))


def drift(before: Mapping[str, int], after: Mapping[str, int]) -> float | None:
    """Jensen-Shannon distance between two weeks' shown-item distributions (None if either is empty)."""
    items = sorted(set(before) | set(after))
    p = np.array([before.get(i, 0) for i in items], dtype=float)
    q = np.array([after.get(i, 0) for i in items], dtype=float)
    if p.sum() <= 0 or q.sum() <= 0:
        return None
    return float(jensenshannon(p, q, base=2))
