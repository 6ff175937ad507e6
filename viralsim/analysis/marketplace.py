"""What a marketplace run shows: what predicts a video's views, narrowing feeds, runs and modes compared.

Pure functions over an agent run's log (``RunResult.agents``, an ``AgentLog``; see
:mod:`viralsim.analysis.logs`). The concentration of views (Gini, CCDF) is in
:mod:`viralsim.analysis.inequality`, one user's day in :mod:`viralsim.analysis.day`.
Nothing here does IO, prints or imports matplotlib; the figures are in
:mod:`viralsim.plots.marketplace`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from viralsim.analysis.inequality import concentration
from viralsim.analysis.logs import log_of
from viralsim.views import SOURCES

__all__ = [
    "Correlation",
    "FeedNarrowing",
    "compare_modes",
    "feed_narrowing",
    "rank_correlations",
    "run_metrics",
    "runs_table",
]


# -- what predicts views --------------------------------------------------------------------------
@dataclass(frozen=True)
class Correlation:
    """A Spearman rank correlation: ``rho`` in [-1, 1], its two-sided ``p`` value, ``n`` pairs."""

    rho: float
    p: float
    n: int


def _spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    n = len(x)
    if n < 3 or np.all(x == x[0]) or np.all(y == y[0]):  # undefined: fewer than 3 pairs or no variation
        return Correlation(math.nan, math.nan, n)
    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about ties in small samples; the value is still right
        res = spearmanr(x, y)
    return Correlation(float(res.statistic), float(res.pvalue), n)


def rank_correlations(log: Any, *, uploaded_before_h: float | None = None) -> dict[str, Correlation]:
    """Spearman correlations of a video's views with its creator's followers and with its appeal.

    Parameters
    ----------
    log
        An agent log (or a run with one).
    uploaded_before_h
        Keep only videos uploaded before this hour (hours since the start), e.g. to
        leave out the ones uploaded too late to be pushed; default all.

    Returns
    -------
    dict
        ``{"followers": Correlation, "appeal": Correlation}`` (NaN when undefined:
        fewer than three videos or no variation).
    """
    v = log_of(log).videos
    keep = slice(None) if uploaded_before_h is None else np.asarray(v["upload_h"]) < uploaded_before_h
    views = np.asarray(v["views"])[keep]
    return {
        "followers": _spearman(np.asarray(v["creator_followers"])[keep], views),
        "appeal": _spearman(np.asarray(v["appeal"], dtype=np.float64)[keep], views),
    }


# -- narrowing feeds ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedNarrowing:
    """How much narrower users' interests became over the run (the "what you watch" loop).

    ``entropy_*``: mean entropy of a user's interest vector at the start and end (lower:
    narrower); ``top_share_*``: mean weight of a user's favourite topic (higher: narrower);
    ``narrowed``: fraction of users whose entropy fell; ``drift``: the engine's curve
    (``time_h``, ``mean_entropy``, ``mean_top_share`` on a grid).
    """

    entropy_start: float
    entropy_end: float
    top_share_start: float
    top_share_end: float
    narrowed: float
    drift: dict[str, np.ndarray]

    @property
    def entropy_change(self) -> float:
        """End minus start (negative: feeds narrowed)."""
        return self.entropy_end - self.entropy_start

    @property
    def top_share_change(self) -> float:
        """End minus start (positive: feeds narrowed)."""
        return self.top_share_end - self.top_share_start


def feed_narrowing(log: Any) -> FeedNarrowing:
    """Start vs end of users' interest entropy and favourite-topic share, with the drift curve."""
    log = log_of(log)
    u = log.users

    def mean(col: str) -> float:
        a = np.asarray(u[col], dtype=np.float64)
        return float(a.mean()) if len(a) else math.nan

    e0, e1 = np.asarray(u["entropy_start"], np.float64), np.asarray(u["entropy_end"], np.float64)
    return FeedNarrowing(
        entropy_start=mean("entropy_start"),
        entropy_end=mean("entropy_end"),
        top_share_start=mean("top_share_start"),
        top_share_end=mean("top_share_end"),
        narrowed=float(np.mean(e1 < e0)) if len(e0) else math.nan,
        drift={k: np.asarray(a) for k, a in log.drift.items()},
    )


# -- comparing modes ------------------------------------------------------------------------------
def run_metrics(result: Any) -> dict[str, Any]:
    """The marketplace numbers of one run: concentration, correlations, sources, sessions, narrowing."""
    log = log_of(result)
    c = concentration(log)
    r = rank_correlations(log)
    v = log.videos
    total = max(c["views"], 1)
    sessions = log.sessions
    watched = np.asarray(sessions["watched"])
    narrowing = feed_narrowing(log)
    return {
        "mode": str(log.mode),
        "seed": getattr(result, "seed", None),
        **c,
        "rho_followers": r["followers"].rho,
        "p_followers": r["followers"].p,
        "rho_appeal": r["appeal"].rho,
        "p_appeal": r["appeal"].p,
        **{f"{s}_share": float(np.sum(v[f"views_{s}"])) / total for s in SOURCES},
        "sessions": len(watched),
        "views_per_session": float(watched.mean()) if len(watched) else math.nan,
        "entropy_change": narrowing.entropy_change,
        "top_share_change": narrowing.top_share_change,
    }


def _runs(results: Any) -> list[Any]:
    return list(results) if isinstance(results, Sequence) else [results]


def runs_table(results_by_mode: Mapping[str, Any]) -> Any:
    """One row per run: ``mode`` (the mapping's key), ``run`` and :func:`run_metrics` (a pandas DataFrame).

    ``results_by_mode`` maps a name to one run or a sequence of runs.
    """
    import pandas as pd

    rows = [
        {**run_metrics(r), "mode": mode, "run": i}
        for mode, results in results_by_mode.items()
        for i, r in enumerate(_runs(results))
    ]
    return pd.DataFrame(rows)


def compare_modes(results_by_mode: Mapping[str, Any]) -> Any:
    """One row per mode (index: the mapping's keys, in order): the median of each run metric over its runs.

    ``results_by_mode`` maps a name (e.g. ``"content"``) to one run or a sequence of runs
    (seeds). Columns: ``runs`` and the numeric columns of :func:`run_metrics` (``gini``,
    ``rho_followers``, ``rho_appeal``, ``views``, ``for_you_share``, ...).
    """
    table = runs_table(results_by_mode)
    numeric = [c for c in table.columns if c not in {"mode", "run", "seed"}]
    out = table.groupby("mode", sort=False)[numeric].median()
    out.insert(0, "runs", table.groupby("mode", sort=False).size())
    return out.reindex(list(results_by_mode))
