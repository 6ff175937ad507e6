"""The KPI gate of the staged push: rates of a stage's views against thresholds.

Pure functions: given the number of views a stage has collected so far and
the sums of their outcome columns, compute every KPI (rates per view), the
composite score ``sum(weight x rate)``, whether each threshold is met and by
how far (the margin a graded push scales the next cohort by).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viralsim.scenario import KPI_NAMES, ScoreWeights, Thresholds

__all__ = ["KPI_COLUMNS", "GateResult", "evaluate_counts", "evaluate_gate", "gate_margin", "kpi_rates"]

#: Column of the views log behind each KPI, in the order of ``KPI_NAMES``.
KPI_COLUMNS = ("completed", "watch_s", "liked", "commented", "shared", "followed", "profile_click")


@dataclass(frozen=True)
class GateResult:
    """A KPI evaluation: the rates, the score, and which thresholds failed."""

    views: int
    rates: dict[str, float]
    score: float
    failed: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when every set threshold is met."""
        return not self.failed


def kpi_rates(views: int, sums: dict[str, float], duration_s: float) -> dict[str, float]:
    """Every KPI as a rate per view from column sums (NaN when there are no views).

    ``watch_fraction`` is the mean share of the video watched: sum of ``watch_s``
    over ``views x duration_s``.
    """
    if views == 0:
        return {k: float("nan") for k in KPI_NAMES}
    rates = {k: sums[c] / views for k, c in zip(KPI_NAMES, KPI_COLUMNS, strict=True)}
    rates["watch_fraction"] /= duration_s
    return rates


def evaluate_counts(
    views: int, sums: dict[str, float], duration_s: float, thresholds: Thresholds, weights: ScoreWeights
) -> GateResult:
    """Evaluate the gate from a view count and column sums; no views fails every set threshold."""
    rates = kpi_rates(views, sums, duration_s)
    score = float(sum(getattr(weights, k) * rates[k] for k in KPI_NAMES)) if views else float("nan")
    failed = []
    for name in (*KPI_NAMES, "score"):
        limit = getattr(thresholds, name)
        if limit is None:
            continue
        value = score if name == "score" else rates[name]
        if views == 0 or value < limit:
            failed.append(name)
    return GateResult(views=views, rates=rates, score=score, failed=tuple(failed))


def gate_margin(gate: GateResult, thresholds: Thresholds) -> float:
    """How far a gate was cleared: the least ratio of a KPI (or the score) to its threshold.

    Thresholds that are unset or 0 do not count; ``inf`` when none counts, NaN without views.
    A passed gate has a margin >= 1.
    """
    if gate.views == 0:
        return float("nan")
    ratios = [
        (gate.score if name == "score" else gate.rates[name]) / limit
        for name in (*KPI_NAMES, "score")
        if (limit := getattr(thresholds, name)) is not None and limit > 0
    ]
    return min(ratios, default=float("inf"))


def evaluate_gate(
    cols: dict[str, np.ndarray], duration_s: float, thresholds: Thresholds, weights: ScoreWeights
) -> GateResult:
    """Evaluate the gate on the outcome columns of a set of views."""
    n = len(cols["completed"])
    sums = {c: float(np.sum(cols[c], dtype=float)) for c in KPI_COLUMNS}
    return evaluate_counts(n, sums, duration_s, thresholds, weights)
