"""The staged push: cohorts and KPIs against thresholds per stage (one run), stages reached (many runs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from viralsim.plots._base import (
    FAIL_COLOUR,
    KPIS,
    PASS_COLOUR,
    count_axis,
    fmt_num,
    fmt_thousands,
    pick_series,
    pyplot,
    select_series,
)
from viralsim.records.words import stop_in_words

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["plot_funnel"]


def _rate_label(value: float, threshold: float) -> str:
    """A KPI value with enough decimals not to look equal to a threshold it missed."""
    digits = 1 if value >= 10 else 2
    while (
        np.isfinite(threshold)
        and digits < 6
        and value != threshold
        and round(value, digits) == round(threshold, digits)
    ):
        digits += 1
    return f"{value:.{digits}f}"


def _thresholds(stages: pd.DataFrame, kpi: str) -> np.ndarray:
    col = f"threshold_{kpi}"
    if col not in stages.columns:
        return np.full(len(stages), np.nan)
    return np.array([np.nan if x is None else float(x) for x in stages[col]], dtype=float)


def _funnel_run(stages: pd.DataFrame, kpis: Sequence[str] | None, title: str | None) -> Figure:
    plt = pyplot()
    if stages.empty:
        raise ValueError("no stages: the push never started (moderation removed the video, or mode is social)")
    st = stages.sort_values("stage").reset_index(drop=True)
    if kpis is None:
        kpis = [k for k in KPIS if k in st.columns and np.isfinite(_thresholds(st, k)).any()]
        kpis = kpis or [k for k in ("completion", "like") if k in st.columns]
    x = np.arange(len(st))
    passed = st["passed"].to_numpy(bool)
    fig, axes = plt.subplots(
        1 + len(kpis),
        1,
        figsize=(8, 2.6 + 2.0 * len(kpis)),
        sharex=True,
        constrained_layout=True,
        gridspec_kw={"height_ratios": [1.4] + [1.0] * len(kpis)},
    )
    axes = np.atleast_1d(axes)
    ax = axes[0]
    colours = [PASS_COLOUR if ok else FAIL_COLOUR for ok in passed]
    cohort = st["cohort_size"].to_numpy(float)
    ax.bar(x, cohort, width=0.7, color=colours, alpha=0.35, edgecolor=colours, lw=1.2)
    if "views_evaluated" in st.columns:
        ax.bar(x, st["views_evaluated"].to_numpy(float), width=0.35, color=colours, alpha=0.95)
    for i, c in enumerate(cohort):
        ax.text(i, c * 1.15, fmt_thousands(c), ha="center", va="bottom", fontsize=9)
    ax.set_yscale("log")
    ax.set_ylim(max(1.0, float(np.nanmin(cohort)) / 5), float(np.nanmax(cohort)) * 4)
    count_axis(ax)
    ax.set_ylabel("users (log)")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(facecolor=PASS_COLOUR, alpha=0.35, edgecolor=PASS_COLOUR, label="cohort size: passed"),
            Patch(facecolor=FAIL_COLOUR, alpha=0.35, edgecolor=FAIL_COLOUR, label="cohort size: push stopped"),
            Patch(facecolor="grey", label="views when evaluated"),
        ],
        loc="upper left",
        fontsize=8,
        frameon=True,
    )
    for a, k in zip(axes[1:], kpis, strict=True):
        pct = k != "score"
        scale = 100.0 if pct else 1.0
        val = st[k].to_numpy(float) * scale
        thr = _thresholds(st, k) * scale
        ok = np.where(np.isfinite(thr), val >= thr, True)
        cols = [PASS_COLOUR if good else FAIL_COLOUR for good in ok] if np.isfinite(thr).any() else ["#6b7280"] * len(x)
        a.bar(x, val, width=0.6, color=cols, alpha=0.85)
        ymax = float(max(np.nanmax(val), np.nanmax(thr, initial=0.0)) * 1.3) or 1.0
        unit = " %" if pct else ""
        for i, (vv, tt) in enumerate(zip(val, thr, strict=True)):
            # a value under its threshold is written inside its bar, or above the dashed line if the bar is short
            below = bool(np.isfinite(tt) and vv < tt)
            inside = below and vv > 0.25 * ymax
            a.text(
                i,
                tt if below and not inside else vv,
                _rate_label(vv, tt) + unit,
                ha="center",
                va="top" if inside else "bottom",
                fontsize=8,
                color="white" if inside else "black",
            )
        if np.isfinite(thr).any():
            a.hlines(thr, x - 0.45, x + 0.45, colors="black", linestyles="--", lw=1.3)
            shown = sorted({fmt_num(t) for t in thr[np.isfinite(thr)]})
            a.text(
                0.995,
                0.96,
                f"dashed: threshold {' / '.join(shown)}{unit}",
                transform=a.transAxes,
                ha="right",
                va="top",
                fontsize=8,
            )
        else:
            a.text(0.995, 0.96, "no threshold", transform=a.transAxes, ha="right", va="top", fontsize=8, color="grey")
        a.set_ylim(0, ymax)
        a.set_ylabel(k.replace("_", " ") + (" rate (%)" if pct and k != "watch_fraction" else " (%)" if pct else ""))
        a.grid(axis="y", alpha=0.3)
    verdicts = [
        "pass" if ok else ("stop" + (" (mid)" if st.get("stopped_mid_stage", [False] * len(x))[i] else ""))
        for i, ok in enumerate(passed)
    ]
    axes[-1].set_xticks(x, [f"S{s}\n{v}" for s, v in zip(st["stage"], verdicts, strict=True)])
    axes[-1].set_xlabel("push stage (cohort size on top; KPIs per view at the stage's evaluation)")
    axes[-1].set_xlim(-0.6, len(x) - 0.4)
    if title is None:
        n_pass = int(passed.sum())
        title = f"the staged push: {n_pass} of {len(st)} stage{'s' if len(st) > 1 else ''} passed"
        if not passed[-1]:
            why = str(st["failed"].iloc[-1]) if "failed" in st.columns else ""
            title += f"\nstopped at S{st['stage'].iloc[-1]}" + (
                f": {stop_in_words('kpi_below_threshold:' + why)}" if why and why != "nan" else ""
            )
    axes[0].set_title(title)
    return fig


def _funnel_runs(
    runs: pd.DataFrame, variants: Sequence[str] | None, point_labels: Mapping[int, str] | None, title: str | None
) -> Figure:
    plt = pyplot()
    series, note = select_series(runs, variants, None, point_labels)
    top = int(runs["stages_reached"].max())
    if top < 1:
        raise ValueError("no run reached a push stage (moderation removed the video, or mode is social)")
    stages = np.arange(1, top + 1)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.0 + 0.9 * top), 4.8), constrained_layout=True)
    width = 0.8 / len(series)
    for j, (v, p, label, c) in enumerate(series):
        reached = pick_series(runs, v, p)["stages_reached"].to_numpy(float)
        frac = np.array([np.mean(reached >= k) for k in stages]) * 100
        xs = stages + (j - (len(series) - 1) / 2) * width
        ax.bar(xs, frac, width=width * 0.95, color=c, alpha=0.85, label=f"{label} ({len(reached)} runs)")
        if len(series) <= 4:
            for xx, f in zip(xs, frac, strict=True):
                ax.text(xx, f + 1, f"{f:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(stages, [f"S{k}" for k in stages])
    ax.set_ylim(0, 112)
    ax.set_xlabel("push stage")
    ax.set_ylabel("runs reaching the stage (%)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=True)
    text = title or "the staged push: share of runs reaching each stage"
    ax.set_title(text + (f"\n({note})" if note else ""))
    return fig


def plot_funnel(
    stages_or_runs: pd.DataFrame,
    *,
    kpis: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    point_labels: Mapping[int, str] | None = None,
    title: str | None = None,
) -> Figure:
    """The staged push: how far the video went and why it stopped.

    Parameters
    ----------
    stages_or_runs
        One run's ``stages`` table (one row per evaluated stage, with
        ``cohort_size``, each KPI, ``threshold_<kpi>``, ``passed``), or the
        ``runs`` table of many runs (one row per run, with ``stages_reached``).
    kpis
        One run: the KPIs to draw (default: those with a threshold; completion
        and like when none has one). Rates are shown in %.
    variants, point_labels
        Many runs: which variants (default all) and the legend labels of grid points.
    title
        Figure title (default: passed stages and the reason of the stop).

    Returns
    -------
    matplotlib.figure.Figure
        One run: cohort sizes per stage (log bars, green passed / red stopped,
        views at evaluation inside), then one panel per KPI with its threshold
        dashed. Many runs: the percentage of runs that reached each stage, per variant.
    """
    if "stages_reached" in stages_or_runs.columns:
        return _funnel_runs(stages_or_runs, variants, point_labels, title)
    return _funnel_run(stages_or_runs, kpis, title)
