"""How unequally views are spread: the Gini coefficient, the CCDF, the concentration over videos and creators.

Pure functions over arrays or an agent run's log (:mod:`viralsim.analysis.logs`). The one
Gini implementation is :func:`viralsim.model.metrics.gini` (the agent engine's
``gini_views`` uses it too); here it gives NaN when there are no values. No IO, no
printing, no matplotlib.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from viralsim.analysis.logs import log_of
from viralsim.model import metrics

__all__ = ["ccdf", "concentration", "gini"]


def gini(values: Any) -> float:
    """Gini coefficient of non-negative values (0: all equal; (n-1)/n: one holds everything).

    :func:`viralsim.model.metrics.gini`, with NaN for no values. All zeros give 0.
    Raises ValueError for negative or non-finite values.
    """
    return metrics.gini(values, empty=math.nan)


def ccdf(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Complementary distribution: the distinct values ``x`` (ascending) and ``P(X ≥ x)`` for each.

    ``P`` is the fraction of *all* values at least ``x``, so it starts at 1 and ends at
    (count of the maximum) / n. Empty input gives two empty arrays.
    """
    v = np.sort(np.asarray(values).ravel())
    if len(v) == 0:
        return v, np.empty(0)
    x, first = np.unique(v, return_index=True)  # first position of each distinct value in the sorted array
    return x, 1.0 - first / len(v)


def _top_share(views: np.ndarray, fraction: float) -> float:
    """Share of all views that went to the top ``fraction`` of items (at least one item)."""
    total = float(views.sum())
    if total == 0:
        return math.nan
    k = max(1, math.ceil(fraction * len(views)))
    return float(np.sort(views)[::-1][:k].sum() / total)


def concentration(log: Any) -> dict[str, float]:
    """How unequally views are spread over videos and creators.

    Returns
    -------
    dict
        ``videos``, ``views`` (total), ``gini`` (views per video), ``top1_share`` and
        ``top10_share`` (share of all views that went to the top 1 % / 10 % of videos,
        at least one video each), ``unseen`` (fraction of videos with no view),
        ``gini_creators`` (views per creator, summed over their videos; a video whose
        creator is -1, outside the population, counts as its own creator).
    """
    log = log_of(log)
    views = np.asarray(log.videos["views"], dtype=np.int64)
    creator = np.asarray(log.videos["creator"], dtype=np.int64)
    creator = np.where(creator >= 0, creator, -1 - np.arange(len(creator)))  # -1 (outside the population): each its own
    _, per_creator = np.unique(creator, return_inverse=True)
    by_creator = np.bincount(per_creator, weights=views) if len(views) else np.empty(0)
    return {
        "videos": len(views),
        "views": int(views.sum()),
        "gini": gini(views),
        "top1_share": _top_share(views, 0.01),
        "top10_share": _top_share(views, 0.10),
        "unseen": float(np.mean(views == 0)) if len(views) else math.nan,
        "gini_creators": gini(by_creator),
    }
