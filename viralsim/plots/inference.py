"""Figures of ``fit`` and ``sensitivity``: the posterior's pair plot, predictive bands, sensitivity bars."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from viralsim.plots._base import PALETTE, count_axis, pyplot

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from viralsim.inference import Fit, Observed

__all__ = ["plot_pairs", "plot_predictive", "plot_sensitivity"]


def plot_pairs(fit: Fit, truth: Mapping[str, float] | None = None, bins: int = 25) -> Figure:
    """The posterior: each field's weighted histogram on the diagonal, weighted particles below it.

    The prior's range is each axis; the 90 % interval is shaded on the diagonal; ``truth``
    (field -> value, e.g. for a synthetic observation) is marked in red.
    """
    plt = pyplot()
    names = [p.path for p in fit.priors]
    d = len(names)
    fig, axes = plt.subplots(d, d, figsize=(2.6 * d + 1, 2.6 * d + 0.6), squeeze=False, layout="constrained")
    w = fit.samples["weight"].to_numpy(dtype=np.float64)
    summary = fit.summary().set_index("param")
    for i, pi in enumerate(fit.priors):
        xi = fit.samples[pi.path].to_numpy(dtype=np.float64)
        for j, pj in enumerate(fit.priors):
            ax = axes[i][j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(xi, bins=np.linspace(pi.lo, pi.hi, bins + 1), weights=w, color=PALETTE[2], alpha=0.8)
                row = summary.loc[pi.path]
                ax.axvspan(row["q05"], row["q95"], color=PALETTE[2], alpha=0.12, label="90 % interval")
                ax.axvline(row["median"], color=PALETTE[0], lw=1.2, label="median")
                ax.set_yticks([])
                ax.set_xlim(pi.lo, pi.hi)
            else:
                xj = fit.samples[pj.path].to_numpy(dtype=np.float64)
                ax.scatter(xj, xi, s=8 + 400 * w, color=PALETTE[2], alpha=0.5, linewidths=0)
                ax.set_xlim(pj.lo, pj.hi)
                ax.set_ylim(pi.lo, pi.hi)
                if truth and pj.path in truth and pi.path in truth:
                    ax.plot(truth[pj.path], truth[pi.path], "x", color=PALETTE[1], ms=9, mew=2)
            if truth and i == j and pi.path in truth:
                ax.axvline(truth[pi.path], color=PALETTE[1], lw=1.5, ls="--", label="true value")
            if i == d - 1:
                ax.set_xlabel(pj.path)
            if j == 0 and i > 0:
                ax.set_ylabel(pi.path)
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Posterior of {d} field{'s' * (d > 1)}: {len(w)} particles, {fit.simulations:,} simulations")
    return fig


def plot_predictive(bands: pd.DataFrame, observed: Observed, title: str = "") -> Figure:
    """Posterior-predictive cumulative views (median, 25-75 % and 5-95 % bands) with the observed curve."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    total = bands[bands["curve"] == "total"]
    hour = total["hour"].to_numpy()
    ax.fill_between(hour, total["q05"], total["q95"], color=PALETTE[2], alpha=0.15, lw=0, label="5-95 %")
    ax.fill_between(hour, total["q25"], total["q75"], color=PALETTE[2], alpha=0.3, lw=0, label="25-75 %")
    ax.plot(hour, total["q50"], color=PALETTE[2], lw=1.8, label="posterior-predictive median")
    ax.plot(observed.hours, observed.views, "o", color=PALETTE[0], ms=3.5, label=f"observed ({observed.name})")
    ax.set_xlabel("hours since the upload")
    ax.set_ylabel("cumulative views")
    count_axis(ax)
    ax.set_xlim(0, max(float(hour.max()), float(np.max(observed.hours))))
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title or "Posterior-predictive reach against the observed curve")
    return fig


def plot_sensitivity(table: pd.DataFrame, title: str = "") -> Figure:
    """Sensitivity indices per field, with their 95 % confidence intervals (Sobol: first order and total)."""
    plt = pyplot()
    method = table.attrs.get("method", "sobol" if "S1" in table else "morris")
    names = list(table["param"])
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.7 * len(names)), layout="constrained")
    if method == "sobol":
        h = 0.38
        ax.barh(y - h / 2, table["S1"], h, xerr=table["S1_conf"], color=PALETTE[2], label="first order S1")
        ax.barh(y + h / 2, table["ST"], h, xerr=table["ST_conf"], color=PALETTE[1], label="total ST")
        ax.set_xlabel("Sobol index (share of the metric's variance), 95 % interval")
        ax.set_xlim(left=min(0.0, float(np.min(table["S1"] - table["S1_conf"]))))
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.barh(y, table["mu_star"], 0.6, xerr=table["mu_star_conf"], color=PALETTE[2], label="μ*")
        ax.set_xlabel("Morris μ* (mean |elementary effect|), 95 % interval")
    ax.axvline(0, color="#9ca3af", lw=0.8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    metric = table.attrs.get("metric", "the metric")
    ax.set_title(title or f"What moves {metric}? ({method}, {table.attrs.get('points', '?')} points)")
    return fig
