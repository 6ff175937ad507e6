"""What an experiment's rows become: per-run tables, reach-curve bands, medians and paired differences.

No IO, no printing; pandas is imported only when a table is made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from viralsim.experiments.plan import BASE, Plan
from viralsim.views import SOURCES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "COMPARE_METRICS",
    "CURVES",
    "QUANTILES",
    "QUANTILE_METHOD",
    "EnsembleResult",
    "bands",
    "paired_differences",
    "quantiles",
    "summary_table",
]

#: Quantiles of the reach-curve bands (and the column names ``q05`` ... ``q95``).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The one quantile method of tables, paired differences and bands: numpy's default (Hyndman and Fan's
#: type 7, as in pandas and R), linear between order statistics, so its 50 % is the usual median (the mean
#: of the middle two of an even count) and a band's 5 % at a time equals the table's 5 % of the same values.
QUANTILE_METHOD: Final = "linear"
#: What ``compare`` puts side by side.
COMPARE_METRICS = ("views", "shares", "share_to_view", "algorithmic_share", "stages_reached", "structural_virality")
#: The reach curves kept per run: the total and one per source.
CURVES = ("total", *SOURCES)


def bands(rows: Sequence[Mapping[str, Any]], plan: Plan) -> pd.DataFrame:
    """Reach-curve quantile bands per (variant, point, source), long format (pandas).

    ``time_h`` is the grid on the simulation clock (the runs' reach curves); ``after_upload_h`` the same
    grid in hours after that variant's and grid point's upload (``video.upload_h`` may differ between them).
    """
    import pandas as pd

    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["variant"], r["point"]), []).append(r)
    frames = []
    for label, point in [(v, p) for v in plan.variants for p in range(len(plan.points))]:
        members = groups.get((label, point))
        if not members:
            continue
        grid = np.asarray(members[0]["curve_time_h"], dtype=np.float64)
        after = grid - plan.resolved(label, point).video.upload_h
        for name in CURVES:
            curves = np.stack([np.asarray(m[f"curve_{name}"]) for m in members]).astype(np.float64)
            q = quantiles(curves, QUANTILES)
            frame = {"variant": label, "point": point, "source": name, "time_h": grid, "after_upload_h": after}
            frame.update({_qname(p): q[i] for i, p in enumerate(QUANTILES)})
            frame["mean"] = curves.mean(axis=0)
            frames.append(pd.DataFrame(frame))
    cols = ["variant", "point", "source", "time_h", "after_upload_h", *map(_qname, QUANTILES), "mean"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def quantiles(x: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Quantiles ``probs`` of ``x`` along its first axis (one row per probability), by :data:`QUANTILE_METHOD`.

    Every quantile of an ensemble (tables, paired differences, reach-curve bands) is taken here, so that a
    band's 5 % at the horizon and the table's 5 % of the runs' views are the same number. No NaN handling:
    callers drop missing values first.
    """
    return np.quantile(np.asarray(x, dtype=np.float64), list(probs), axis=0, method=QUANTILE_METHOD)


def _qname(q: float) -> str:
    return f"q{round(q * 100):02d}"


@dataclass(frozen=True)
class EnsembleResult:
    """Per-run summaries (``runs``, one row per run) and reach-curve quantile bands (``bands``)."""

    plan: Plan
    runs: pd.DataFrame
    bands: pd.DataFrame

    @classmethod
    def from_rows(cls, plan: Plan, rows: Sequence[Mapping[str, Any]]) -> EnsembleResult:
        import pandas as pd

        rows = plan.in_order(rows)
        table = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("curve_")} for r in rows])
        return cls(plan=plan, runs=table, bands=bands(rows, plan))

    def manifest(self) -> dict[str, Any]:
        return self.plan.manifest()

    def table(self, metrics: Sequence[str] = COMPARE_METRICS) -> pd.DataFrame:
        """Median and 90 % interval of each metric, one row per variant (and grid point)."""
        return summary_table(self.runs, metrics, by=self._by())

    def differences(self, metrics: Sequence[str] = COMPARE_METRICS, baseline: str = BASE) -> pd.DataFrame:
        """Paired differences ``variant - baseline`` over the same runs: median and 90 % interval."""
        return paired_differences(self.runs, metrics, baseline=baseline)

    def _by(self) -> list[str]:
        return ["variant", "point", *self.plan.params] if self.plan.params else ["variant"]


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    """5 %, 50 % and 95 % quantiles of ``x`` (NaN-free) by :func:`quantiles`; all NaN when ``x`` is empty."""
    if not len(x):
        return math.nan, math.nan, math.nan
    lo, med, hi = quantiles(x, (0.05, 0.5, 0.95))
    return float(lo), float(med), float(hi)


def summary_table(runs: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] = ("variant",)) -> pd.DataFrame:
    """Median, 5 % and 95 % quantiles of ``metrics`` per group, groups in their first-seen order."""
    import pandas as pd

    out = []
    for key, group in runs.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        row["runs"] = len(group)
        for m in metrics:
            x = pd.to_numeric(group[m], errors="coerce").to_numpy(dtype=np.float64)
            x = x[~np.isnan(x)]
            lo, med, hi = _interval(x)
            row[f"{m}_median"], row[f"{m}_q05"], row[f"{m}_q95"] = med, lo, hi
        out.append(row)
    return pd.DataFrame(out)


def paired_differences(runs: pd.DataFrame, metrics: Sequence[str], baseline: str = BASE) -> pd.DataFrame:
    """Per variant: median and 90 % interval of ``metric(variant, run) - metric(baseline, run)``."""
    import pandas as pd

    base = runs[runs["variant"] == baseline].set_index(["point", "run"])
    out = []
    for label, group in runs[runs["variant"] != baseline].groupby("variant", sort=False):
        g = group.set_index(["point", "run"])
        common = g.index.intersection(base.index)
        row: dict[str, Any] = {"variant": label, "baseline": baseline, "pairs": len(common)}
        for m in metrics:
            d = (
                pd.to_numeric(g.loc[common, m], errors="coerce") - pd.to_numeric(base.loc[common, m], errors="coerce")
            ).to_numpy(dtype=np.float64)
            d = d[~np.isnan(d)]
            lo, med, hi = _interval(d)
            row[f"{m}_median"], row[f"{m}_q05"], row[f"{m}_q95"] = med, lo, hi
        out.append(row)
    return pd.DataFrame(out)
