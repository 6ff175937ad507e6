"""Figures (matplotlib, the plotting layer only), drawn from results in memory or saved.

One run: :func:`plot_reach` (cumulative views by source, stages marked),
:func:`plot_sources` (stacked views by source and the hourly rate of each),
:func:`plot_funnel` (cohort sizes and each KPI against its threshold per push
stage) and :func:`plot_tree` (the spread tree, drawn with networkx). Many runs:
:func:`plot_reach_bands` (median reach with 25-75 % and 5-95 % bands, variants
overlaid), :func:`plot_sources` and :func:`plot_funnel` on ensemble tables,
:func:`plot_ccdf` (distribution of final views, log-log) and
:func:`plot_sweep` (outcome against one or two swept parameters).

:func:`draw` picks the figure for a folder opened by
:func:`viralsim.io.results_dir.load_results` (``viralsim plot RESULTS_DIR
--kind K``). Every function returns a matplotlib Figure; :func:`save_figure`
writes it by extension (PNG, SVG, PDF). Nothing in the core imports this
module; matplotlib is imported on first use with the Agg backend, so no
display is needed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from viralsim.result import SOURCES, RunResult

__all__ = [
    "KINDS",
    "draw",
    "kinds_for",
    "plot_ccdf",
    "plot_funnel",
    "plot_reach",
    "plot_reach_bands",
    "plot_sources",
    "plot_sweep",
    "plot_tree",
    "save_figure",
]

#: Figure kinds of :func:`draw` (``viralsim plot --kind``).
KINDS = ("reach", "sources", "funnel", "ccdf", "tree", "sweep")

_COLOURS = {"for_you": "#e4405f", "following": "#3b82f6", "share": "#10b981"}
_LABELS = {"for_you": "For You (platform push)", "following": "Following feed", "share": "shares"}
_PALETTE = ("#111827", "#e4405f", "#3b82f6", "#10b981", "#f59e0b", "#8b5cf6", "#0891b2", "#a16207", "#db2777")
_PASS, _FAIL = "#16a34a", "#dc2626"
_HOURS = "hours since Monday 00:00 UTC"
_KPIS = ("completion", "watch_fraction", "like", "comment", "share", "follow", "profile_click", "score")
_MAX_SERIES = 8  # more overlaid curves than this are unreadable: thin the grid points
_TREE_LIMIT = 20_000  # nodes; above this a drawing is a blot and takes minutes


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _thousands(x: float, _pos: Any = None) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e3:
        return f"{x / 1e3:.3g}k"
    if 0 < x < 1:
        return f"{x:g}"
    return f"{x:.0f}"


def _count_axis(*axes: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    for ax in axes:
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(_thousands))


# -- one run: reach ------------------------------------------------------------------------------
def _reach_figure(rc: Mapping[str, Any], stages: Sequence[Mapping[str, Any]], *, upload_h: float | None,
                  horizon_h: float, title: str) -> Any:  # fmt: skip
    plt = _pyplot()
    fig, (ax, axl) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, constrained_layout=True,
                                  gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    t = np.asarray(rc["time_h"], dtype=float)
    total = np.asarray(rc["total"], dtype=float)
    stacks = [np.asarray(rc[s], dtype=float) for s in SOURCES]
    ax.stackplot(t, *stacks, colors=[_COLOURS[s] for s in SOURCES], alpha=0.85,
                 labels=[f"{_LABELS[s]}: {int(y[-1]):,}" for s, y in zip(SOURCES, stacks, strict=True)])  # fmt: skip
    ax.plot(t, total, color="black", lw=1.2, label=f"total: {int(total[-1]):,} views")
    top = max(float(total[-1]), 1.0)
    for s, y in zip(SOURCES, stacks, strict=True):
        if y[-1] > 0:
            axl.plot(t, y, color=_COLOURS[s], lw=1.5)
    axl.plot(t, total, color="black", lw=1.0)
    axl.set_yscale("log")
    axl.set_ylim(0.8, top * 3)
    for row in stages:
        for a in (ax, axl):
            a.axvline(row["start_h"], color="grey", lw=0.8, ls=":")
        colour = "black" if row["passed"] else "#b91c1c"
        label = f"S{row['stage']}" + ("" if row["passed"] else " stop")
        axl.text(row["start_h"], top * 1.5, label, ha="left", va="bottom", fontsize=8, color=colour)
    for a in (ax, axl):
        if upload_h is not None:
            a.axvline(upload_h, color="black", lw=0.8)
        a.grid(alpha=0.3)
    if upload_h is not None:
        ax.text(upload_h, top * 1.02, " upload", fontsize=8, va="bottom")
    ax.set_xlim(0, horizon_h)
    ax.set_ylim(0, top * 1.1)
    _count_axis(ax, axl)
    axl.set_xlabel(f"{_HOURS} (dotted lines: push stages S1, S2, ...)")
    ax.set_ylabel("cumulative views")
    axl.set_ylabel("cumulative views (log)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=9, frameon=True)
    return fig


def _run_title(summary: Mapping[str, Any], name: str, variant: str | None, seed: Any) -> str:
    head = name + (f" [{variant}]" if variant else "")
    return (f"{head}: {summary['views']:,} views, {summary['shares']:,} shares, "
            f"{100 * summary['algorithmic_share']:.2f} % from the push (seed {seed})")  # fmt: skip


def plot_reach(result: RunResult) -> Any:
    """Cumulative views by source over time, linear and log scale, push stages marked.

    Returns the matplotlib figure (two panels: linear on top, log below so the
    first small cohorts are visible too).
    """
    title = _run_title(result.summary, result.scenario.name, result.variant, result.seed)
    return _reach_figure(result.reach_curve, result.stages, upload_h=result.scenario.video.upload_h,
                         horizon_h=result.scenario.horizon_h, title=title)  # fmt: skip


# -- many runs: series of (variant, grid point) ----------------------------------------------
def _series(df: Any, variants: Sequence[str] | None, points: Sequence[int] | None,
            point_labels: Mapping[int, str] | None) -> tuple[list[tuple[str, int, str, Any]], str]:  # fmt: skip
    """The curves to overlay: (variant, point, label, colour) and a note when some were left out."""
    have = [str(v) for v in dict.fromkeys(df["variant"].astype(str))]
    if variants is not None:
        unknown = [v for v in variants if v not in have]
        if unknown:
            raise ValueError(f"unknown variant {', '.join(map(repr, unknown))}: this table has {', '.join(have)}")
        have = [v for v in have if v in variants]
    all_points = sorted(int(p) for p in dict.fromkeys(df["point"]))
    use = list(points) if points is not None else all_points
    note = ""
    if len(have) * len(use) > _MAX_SERIES and len(use) > 1:
        per = max(2, _MAX_SERIES // len(have))
        idx = np.unique(np.linspace(0, len(use) - 1, per).round().astype(int))
        note = f"{len(idx)} of {len(use)} grid points shown"
        use = [use[i] for i in idx]
    keys = [(v, p) for v in have for p in use]
    if len(have) == 1 and len(use) > 1:  # an ordered grid: a sequential colour map
        from matplotlib import colormaps

        cmap = colormaps["viridis"]
        colours: list[Any] = [cmap(0.9 * i / (len(use) - 1)) for i in range(len(use))]
    else:
        colours = [_PALETTE[i % len(_PALETTE)] for i in range(len(keys))]
    out = []
    for (v, p), c in zip(keys, colours, strict=True):
        plabel = (point_labels or {}).get(p, f"point {p}")
        label = v if len(all_points) == 1 else (plabel if len(have) == 1 else f"{v}, {plabel}")
        out.append((v, p, label, c))
    return out, note


def _pick(df: Any, variant: str, point: int) -> Any:
    return df[(df["variant"].astype(str) == variant) & (df["point"] == point)]


def plot_reach_bands(bands: Any, variants: Sequence[str] | None = None, *, points: Sequence[int] | None = None,
                     point_labels: Mapping[int, str] | None = None, upload_h: float | None = None,
                     title: str | None = None) -> Any:  # fmt: skip
    """Reach over many runs: median cumulative views with 25-75 % and 5-95 % bands.

    Parameters
    ----------
    bands
        ``bands.parquet`` as a DataFrame (long format: variant, point, source,
        time_h in hours, q05, q25, q50, q75, q95, mean); the ``source == "total"`` rows are drawn.
    variants
        Variants to overlay (default: all, in table order).
    points, point_labels
        Grid points of a sweep to overlay (default: all, thinned to a readable
        number) and their legend labels (e.g. ``{0: "appeal=0.5"}``).
    upload_h
        Upload time (hours), marked with a vertical line when given.
    title
        Figure title (default: a description of the bands).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the time axis: linear on top, log below.
    """
    plt = _pyplot()
    from matplotlib.patches import Patch

    df = bands[bands["source"].astype(str) == "total"]
    if df.empty:
        raise ValueError("bands: no rows with source 'total'")
    series, note = _series(df, variants, points, point_labels)
    fig, (ax, axl) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, constrained_layout=True,
                                  gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    outer = len(series) <= 3  # the 5-95 % bands of many curves blur into one another
    top = 1.0
    for v, p, label, c in series:
        s = _pick(df, v, p).sort_values("time_h")
        t = s["time_h"].to_numpy(float)
        q = {k: s[k].to_numpy(float) for k in ("q05", "q25", "q50", "q75", "q95")}
        top = max(top, float(np.nanmax(q["q95"])) if len(t) else 1.0)
        for a in (ax, axl):
            if outer:
                a.fill_between(t, q["q05"], q["q95"], color=c, alpha=0.12, lw=0)
            a.fill_between(t, q["q25"], q["q75"], color=c, alpha=0.28 if outer else 0.15, lw=0)
        final = f"{q['q50'][-1]:,.0f}" if len(t) else "–"
        ax.plot(t, q["q50"], color=c, lw=1.8, label=f"{label}: median {final} views")
        axl.plot(t, q["q50"], color=c, lw=1.5)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(color="grey", alpha=0.45, lw=0, label="25–75 % of runs"))
    if outer:
        handles.append(Patch(color="grey", alpha=0.18, lw=0, label="5–95 % of runs"))
    else:
        note = ", ".join(x for x in (note, "5–95 % bands left out for clarity") if x)
    ax.legend(handles=handles, loc="upper left", fontsize=9, frameon=True)
    axl.set_yscale("log")
    axl.set_ylim(0.8, top * 3)
    ax.set_ylim(0, top * 1.05)
    for a in (ax, axl):
        if upload_h is not None:
            a.axvline(upload_h, color="black", lw=0.8, ls="--")
        a.grid(alpha=0.3)
    ax.set_xlim(float(df["time_h"].min()), float(df["time_h"].max()))
    _count_axis(ax, axl)
    ax.set_ylabel("cumulative views")
    axl.set_ylabel("cumulative views (log)")
    axl.set_xlabel(_HOURS + (" (dashed: upload)" if upload_h is not None else ""))
    text = title or "cumulative views: median line, quantile bands over runs"
    ax.set_title(text + (f"\n({note})" if note else ""))
    return fig


# -- views by source ---------------------------------------------------------------------------------
def plot_sources(reach_or_bands: Any, *, variant: str | None = None, point: int | None = None,
                 title: str | None = None) -> Any:  # fmt: skip
    """Cumulative views by source as a stacked area, and each source's hourly rate.

    Parameters
    ----------
    reach_or_bands
        One run's reach table (``time_h``, ``total`` and one column per source),
        or ``bands.parquet`` of many runs, whose per-source ``mean`` is stacked
        (the mean of a sum is the sum of the means, so the stack's top is the mean total).
    variant, point
        Which variant and grid point of the bands (default ``"base"`` if present,
        else the first; the first point). Ignored for a reach table.
    title
        Figure title (default: says what is stacked).

    Returns
    -------
    matplotlib.figure.Figure
        Top: stacked cumulative views (legend: final count and share of each
        source). Bottom: views per hour by source, log scale.
    """
    plt = _pyplot()
    df = reach_or_bands
    if "q50" in df.columns:  # bands of many runs: the mean per source of one variant and point
        have = [str(v) for v in dict.fromkeys(df["variant"].astype(str))]
        v = variant if variant is not None else ("base" if "base" in have else have[0])
        if v not in have:
            raise ValueError(f"unknown variant {v!r}: this table has {', '.join(have)}")
        p = point if point is not None else int(df["point"].min())
        sub = _pick(df, v, p)
        if sub.empty:
            raise ValueError(f"no bands for variant {v!r} at grid point {p}")
        wide = sub.pivot_table(index="time_h", columns=sub["source"].astype(str), values="mean").sort_index()
        t = wide.index.to_numpy(float)
        what = f"mean over runs, variant {v}" + (f", point {p}" if df["point"].nunique() > 1 else "")
    else:
        wide = df.set_index("time_h").sort_index()
        t = wide.index.to_numpy(float)
        what = "one run"
    names = [s for s in SOURCES if s in wide.columns] + [
        str(c) for c in wide.columns if c not in SOURCES and c != "total"
    ]
    if not names:
        raise ValueError("no per-source columns to stack (expected " + ", ".join(SOURCES) + ")")
    ys = [wide[s].to_numpy(float) for s in names]
    total = wide["total"].to_numpy(float) if "total" in wide.columns else np.sum(ys, axis=0)
    end = max(float(total[-1]), 1e-9)
    colours = [_COLOURS.get(s, _PALETTE[i % len(_PALETTE)]) for i, s in enumerate(names)]
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, constrained_layout=True,
                                  gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    labels = [f"{_LABELS.get(s, s)}: {y[-1]:,.0f} ({_pct(y[-1] / end)})" for s, y in zip(names, ys, strict=True)]
    ax.stackplot(t, *ys, colors=colours, alpha=0.85, labels=labels)
    ax.plot(t, total, color="black", lw=1.0, label=f"total: {total[-1]:,.0f} views")
    # rates on bins of about 1/80 of the time span (at least one grid step): sparse sources stay legible
    raw = max(float(np.min(np.diff(t))) if len(t) > 1 else 1.0, (t[-1] - t[0]) / 80)
    width = next((w for w in (0.25, 0.5, 1, 2, 3, 6, 12, 24) if w >= raw), raw)
    edges = np.arange(t[0], t[-1] + width / 2, width)
    rates = [np.diff(np.interp(edges, t, y)) / width for y in ys]
    floor = max((float(r.max()) for r in rates), default=0.0) * 1e-6  # below this: rounding noise of the means
    for s, rate, c in zip(names, rates, colours, strict=True):
        if rate.max(initial=0.0) > floor:
            axr.stairs(np.where(rate > floor, rate, np.nan), edges, color=c, lw=1.3, label=_LABELS.get(s, s))
    axr.set_yscale("log")
    ax.set_ylim(0, end * 1.08)
    ax.set_xlim(float(t[0]), float(t[-1]))
    for a in (ax, axr):
        a.grid(alpha=0.3)
    _count_axis(ax, axr)
    ax.set_ylabel("cumulative views (stacked)")
    axr.set_ylabel(f"views per hour (log; {_num(width)} h bins)")
    axr.set_xlabel(_HOURS)
    ax.legend(loc="upper left", fontsize=9, frameon=True)
    ax.set_title(title or f"views by source ({what})")
    return fig


# -- the staged push -------------------------------------------------------------------------------
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


def _thresholds(stages: Any, kpi: str) -> np.ndarray:
    col = f"threshold_{kpi}"
    if col not in stages.columns:
        return np.full(len(stages), np.nan)
    return np.array([np.nan if x is None else float(x) for x in stages[col]], dtype=float)


def _funnel_run(stages: Any, kpis: Sequence[str] | None, title: str | None) -> Any:
    plt = _pyplot()
    st = stages.sort_values("stage").reset_index(drop=True)
    if st.empty:
        raise ValueError("no stages: the push never started (moderation removed the video, or mode is social)")
    if kpis is None:
        kpis = [k for k in _KPIS if k in st.columns and np.isfinite(_thresholds(st, k)).any()]
        kpis = kpis or [k for k in ("completion", "like") if k in st.columns]
    x = np.arange(len(st))
    passed = st["passed"].to_numpy(bool)
    fig, axes = plt.subplots(1 + len(kpis), 1, figsize=(8, 2.6 + 2.0 * len(kpis)), sharex=True,
                             constrained_layout=True, gridspec_kw={"height_ratios": [1.4] + [1.0] * len(kpis)})  # fmt: skip
    axes = np.atleast_1d(axes)
    ax = axes[0]
    colours = [_PASS if ok else _FAIL for ok in passed]
    cohort = st["cohort_size"].to_numpy(float)
    ax.bar(x, cohort, width=0.7, color=colours, alpha=0.35, edgecolor=colours, lw=1.2)
    if "views_evaluated" in st.columns:
        ax.bar(x, st["views_evaluated"].to_numpy(float), width=0.35, color=colours, alpha=0.95)
    for i, c in enumerate(cohort):
        ax.text(i, c * 1.15, _thousands(c), ha="center", va="bottom", fontsize=9)
    ax.set_yscale("log")
    ax.set_ylim(max(1.0, float(np.nanmin(cohort)) / 5), float(np.nanmax(cohort)) * 4)
    _count_axis(ax)
    ax.set_ylabel("users (log)")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(facecolor=_PASS, alpha=0.35, edgecolor=_PASS, label="cohort size: passed"),
                       Patch(facecolor=_FAIL, alpha=0.35, edgecolor=_FAIL, label="cohort size: push stopped"),
                       Patch(facecolor="grey", label="views when evaluated")],
              loc="upper left", fontsize=8, frameon=True)  # fmt: skip
    for a, k in zip(axes[1:], kpis, strict=True):
        pct = k != "score"
        scale = 100.0 if pct else 1.0
        val = st[k].to_numpy(float) * scale
        thr = _thresholds(st, k) * scale
        ok = np.where(np.isfinite(thr), val >= thr, True)
        cols = [_PASS if good else _FAIL for good in ok] if np.isfinite(thr).any() else ["#6b7280"] * len(x)
        a.bar(x, val, width=0.6, color=cols, alpha=0.85)
        ymax = float(max(np.nanmax(val), np.nanmax(thr, initial=0.0)) * 1.3) or 1.0
        unit = " %" if pct else ""
        for i, (vv, tt) in enumerate(zip(val, thr, strict=True)):
            # a value under its threshold is written inside its bar, or above the dashed line if the bar is short
            below = bool(np.isfinite(tt) and vv < tt)
            inside = below and vv > 0.25 * ymax
            a.text(i, tt if below and not inside else vv, _rate_label(vv, tt) + unit, ha="center",
                   va="top" if inside else "bottom", fontsize=8, color="white" if inside else "black")  # fmt: skip
        if np.isfinite(thr).any():
            a.hlines(thr, x - 0.45, x + 0.45, colors="black", linestyles="--", lw=1.3)
            shown = sorted({_num(t) for t in thr[np.isfinite(thr)]})
            a.text(0.995, 0.96, f"dashed: threshold {' / '.join(shown)}{unit}", transform=a.transAxes,
                   ha="right", va="top", fontsize=8)  # fmt: skip
        else:
            a.text(0.995, 0.96, "no threshold", transform=a.transAxes, ha="right", va="top", fontsize=8, color="grey")
        a.set_ylim(0, ymax)
        a.set_ylabel(k.replace("_", " ") + (" rate (%)" if pct and k != "watch_fraction" else " (%)" if pct else ""))
        a.grid(axis="y", alpha=0.3)
    verdicts = ["pass" if ok else ("stop" + (" (mid)" if st.get("stopped_mid_stage", [False] * len(x))[i] else ""))
                for i, ok in enumerate(passed)]  # fmt: skip
    axes[-1].set_xticks(x, [f"S{s}\n{v}" for s, v in zip(st["stage"], verdicts, strict=True)])
    axes[-1].set_xlabel("push stage (cohort size on top; KPIs per view at the stage's evaluation)")
    axes[-1].set_xlim(-0.6, len(x) - 0.4)
    if title is None:
        n_pass = int(passed.sum())
        title = f"the staged push: {n_pass} of {len(st)} stage{'s' if len(st) > 1 else ''} passed"
        if not passed[-1]:
            why = str(st["failed"].iloc[-1]) if "failed" in st.columns else ""
            title += f"\nstopped at S{st['stage'].iloc[-1]}" + (
                f": {why.replace('_', ' ')} below threshold" if why else ""
            )
    axes[0].set_title(title)
    return fig


def _funnel_runs(runs: Any, variants: Sequence[str] | None, point_labels: Mapping[int, str] | None,
                 title: str | None) -> Any:  # fmt: skip
    plt = _pyplot()
    series, note = _series(runs, variants, None, point_labels)
    top = int(runs["stages_reached"].max())
    if top < 1:
        raise ValueError("no run reached a push stage (moderation removed the video, or mode is social)")
    stages = np.arange(1, top + 1)
    fig, ax = plt.subplots(figsize=(max(7.0, 1.0 + 0.9 * top), 4.8), constrained_layout=True)
    width = 0.8 / len(series)
    for j, (v, p, label, c) in enumerate(series):
        reached = _pick(runs, v, p)["stages_reached"].to_numpy(float)
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


def plot_funnel(stages_or_runs: Any, *, kpis: Sequence[str] | None = None, variants: Sequence[str] | None = None,
                point_labels: Mapping[int, str] | None = None, title: str | None = None) -> Any:  # fmt: skip
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


# -- distribution of outcomes ------------------------------------------------------------------------
def plot_ccdf(runs: Any, column: str = "views", *, variants: Sequence[str] | None = None,
              point_labels: Mapping[int, str] | None = None, title: str | None = None) -> Any:  # fmt: skip
    """Distribution of a final outcome over runs: log-log CCDF per variant.

    Parameters
    ----------
    runs
        ``runs.parquet`` as a DataFrame (one row per run).
    column
        A numeric column of ``runs`` (default ``views``); values ≤ 0 and NaN
        cannot be shown on a log axis and are counted in the legend.
    variants, point_labels
        Variants to draw (default all) and legend labels of grid points.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        P(X ≥ x) against x, both log scale, one step curve per variant, median dotted.
    """
    plt = _pyplot()
    _numeric(runs, column)
    series, note = _series(runs, variants, None, point_labels)
    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    lo, n_max = math.inf, 1
    for v, p, label, c in series:
        x = _pick(runs, v, p)[column].to_numpy(float)
        n = len(x)
        pos = np.sort(x[np.isfinite(x) & (x > 0)])
        hidden = n - len(pos)
        extra = f"; {hidden} run{'s' if hidden > 1 else ''} at 0 or none not shown" if hidden else ""
        finite = x[np.isfinite(x)]
        med = float(np.median(finite)) if len(finite) else float("nan")
        lab = f"{label}: median {_thousands(med) if np.isfinite(med) else '–'} ({n} runs{extra})"
        if len(pos):
            y = 1.0 - np.arange(len(pos)) / n  # fraction of all runs with at least pos[i]
            ax.step(pos, y, where="post", color=c, lw=1.8, label=lab)
            ax.axvline(med, color=c, lw=0.8, ls=":") if med > 0 else None
            lo = min(lo, float(pos[0]))
        else:
            ax.plot([], [], color=c, label=lab)
        n_max = max(n_max, n)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(0.8 / n_max, 1.3)
    if math.isfinite(lo):
        ax.set_xlim(left=lo / 1.5)
    _count_axis(ax, axis="x")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: f"{100 * y:g} %"))
    ax.grid(which="both", alpha=0.25)
    what = column.replace("_", " ")
    ax.set_xlabel(f"final {what} per run (log scale; dotted: median)")
    ax.set_ylabel(f"runs with at least x {what} (log)")
    ax.legend(loc="best", fontsize=9, frameon=True)
    text = title or f"distribution of final {what} over runs (CCDF)"
    ax.set_title(text + (f"\n({note})" if note else ""))
    return fig


def _numeric(runs: Any, column: str) -> None:
    import pandas as pd

    ok = [
        str(c)
        for c in runs.columns
        if pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c])
    ]
    if column not in ok:
        skip = {"point", "run", "seed"}
        raise ValueError(f"unknown metric {column!r}: choose a numeric column of runs: "
                         f"{', '.join(c for c in ok if c not in skip)}")  # fmt: skip


def _pct(fraction: float) -> str:
    """A fraction as a percentage: 99.99 %, 0.0043 % (two significant digits below 1 %)."""
    p = 100 * fraction
    return f"{p:.2f} %" if p >= 1 or p == 0 else f"{p:.2g} %"


def _num(x: float) -> str:
    """A short number for labels: 713.9k, 42, 0.35, 3.6e-05."""
    if not np.isfinite(x):
        return "–"
    if abs(x) >= 1e3:
        return _thousands(x)
    if abs(x) >= 10:
        return f"{x:.0f}"
    return f"{x:.3g}"


# -- the spread tree -----------------------------------------------------------------------------
def _radial_layout(g: Any, root: int) -> tuple[dict[int, tuple[float, float]], int]:
    """Positions on rings by depth; each subtree gets an angle in proportion to its leaves."""
    order, stack = [], [root]
    while stack:  # pre-order: a parent before its children
        n = stack.pop()
        order.append(n)
        stack.extend(sorted(g.successors(n), reverse=True))
    leaves: dict[int, int] = {}
    for n in reversed(order):
        leaves[n] = sum(leaves[c] for c in g.successors(n)) or 1
    pos, span, depth = {root: (0.0, 0.0)}, {root: (0.0, 2 * math.pi)}, {root: 0}
    for n in order:
        a, a1 = span[n]
        for c in sorted(g.successors(n)):
            w = (a1 - span[n][0]) * leaves[c] / leaves[n]
            span[c], depth[c] = (a, a + w), depth[n] + 1
            mid = a + w / 2
            pos[c] = (depth[c] * math.cos(mid), depth[c] * math.sin(mid))
            a += w
    return pos, max(depth.values())


def plot_tree(views: Any, max_nodes: int = 1500, *, title: str | None = None) -> Any:
    """The spread tree of one run, drawn with networkx on rings by generation.

    The upload is the centre; views straight from the platform or the Following
    feed are on the first ring; each share generation is one ring further out.
    When the run has more than ``max_nodes`` views, only the share cascades are
    drawn (the viewers who passed the video on, and everything that followed),
    the largest first until ``max_nodes`` is reached; the title says what is shown.

    Parameters
    ----------
    views
        One run's views log (``parent``: row of the view this one came from by
        a share, -1 otherwise; ``source``: category name or code into ``SOURCES``).
    max_nodes
        Most views to draw (at most 20 000).
    title
        Figure title (default: counts of views, shares and depth).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When even the largest share cascade has more than ``max_nodes`` views,
        or the run is larger than ``max_nodes`` and has no cascade (a star).
    """
    import networkx as nx

    if not 1 <= max_nodes <= _TREE_LIMIT:
        raise ValueError(f"max_nodes must be in 1..{_TREE_LIMIT:,}, got {max_nodes:,}")
    parent = views["parent"].to_numpy(np.int64)
    src = views["source"]
    names = np.asarray(src.astype(str) if str(src.dtype) in {"category", "object", "str", "string"}
                       else [SOURCES[int(c)] for c in src])  # fmt: skip
    n = len(parent)
    n_share = int(np.count_nonzero(parent >= 0))
    if n <= max_nodes:
        keep = np.ones(n, dtype=bool)
        shown = f"all {n:,} views"
    else:
        if n_share == 0:
            raise ValueError(f"the tree is a star of {n:,} views with no share cascade: nothing readable to draw "
                             f"above max_nodes={max_nodes:,}")  # fmt: skip
        keep = parent >= 0
        cur = parent[keep]
        while cur.size:  # add the ancestors of every share view
            cur = np.unique(cur[~keep[cur]])
            keep[cur] = True
            cur = parent[cur]
            cur = cur[cur >= 0]
        top = np.arange(n)  # the view under the upload each kept view descends from
        for _ in range(n):  # depth is small: a few vectorised hops
            up = parent[top]
            if not np.any(up >= 0):
                break
            top = np.where(up >= 0, up, top)
        sizes = np.bincount(top[keep], minlength=n)
        roots = np.flatnonzero(sizes)[np.argsort(-sizes[np.flatnonzero(sizes)], kind="stable")]
        if sizes[roots[0]] > max_nodes:
            raise ValueError(f"the largest share cascade has {int(sizes[roots[0]]):,} views, more than "
                             f"max_nodes={max_nodes:,}: too big to draw readably")  # fmt: skip
        take = roots[np.cumsum(sizes[roots]) <= max_nodes]
        keep &= np.isin(top, take)
        which = f"the {len(take):,} largest of {len(roots):,}" if len(take) < len(roots) else f"all {len(roots):,}"
        shown = f"showing {which} share cascades only: {int(keep.sum()):,} of {n:,} views"
    idx = np.flatnonzero(keep)
    g = nx.DiGraph()
    g.add_node(-1)
    g.add_nodes_from(idx.tolist())
    g.add_edges_from(zip(np.where(parent[idx] >= 0, parent[idx], -1).tolist(), idx.tolist(), strict=True))
    pos, depth = _radial_layout(g, -1)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 8.4), constrained_layout=True)
    for r in range(1, depth + 1):
        ax.add_patch(plt.Circle((0, 0), r, fill=False, color="grey", lw=0.6, ls=":", alpha=0.6))
        ax.text(0, r, f" {r}", fontsize=8, color="grey", va="bottom")
    size = float(np.clip(4000 / max(len(idx), 1), 4, 60))
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=False, width=0.5 if len(idx) > 300 else 0.8,
                           edge_color="#9ca3af")  # fmt: skip
    for s in dict.fromkeys([*SOURCES, *names[idx].tolist()]):
        nodes = idx[names[idx] == s].tolist()
        if nodes:
            nx.draw_networkx_nodes(g, pos, nodelist=nodes, ax=ax, node_size=size, linewidths=0,
                                   node_color=_COLOURS.get(s, "#6b7280"), label=f"{_LABELS.get(s, s)}: {len(nodes):,}")  # fmt: skip
    nx.draw_networkx_nodes(g, pos, nodelist=[-1], ax=ax, node_size=160, node_color="black", node_shape="*",
                           label="upload")  # fmt: skip
    ax.set_aspect("equal")
    ax.axis("off")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=9, frameon=False,
               title_fontsize=8, title="rings: generations from the upload (1 = views straight from the platform or the Following feed; "
               "2, 3, ... = share generations)")  # fmt: skip
    lim = depth + 0.15
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    head = f"{title}: " if title else ""
    gens = depth - 1  # ring 1 is not a share generation (= the summary's cascade_depth when all is drawn)
    fig.suptitle(f"{head}spread tree of {n:,} views, {n_share:,} by shares, "
                 f"{gens} share generation{'s' if gens != 1 else ''} shown\n({shown})")  # fmt: skip
    return fig


# -- sweeps --------------------------------------------------------------------------------------------
def _values(col: Any) -> tuple[list[Any], bool]:
    """Distinct values of a parameter column, sorted; whether they are numbers."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    vals = sorted(col.dropna().unique().tolist(), key=(float if numeric else str))
    return vals, numeric


def plot_sweep(runs: Any, params: Sequence[str], metric: str = "views", *, variants: Sequence[str] | None = None,
               title: str | None = None) -> Any:  # fmt: skip
    """An outcome against the swept parameters.

    Parameters
    ----------
    runs
        ``runs.parquet`` of a sweep (one column per swept parameter, named by its dotted path).
    params
        The swept parameters (one or two of the ``runs`` columns).
    metric
        A numeric column of ``runs`` (default ``views``).
    variants
        Variants to draw (default all).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One parameter: the median over runs with 25-75 % and 5-95 % bands
        against the parameter, one line per variant (log y when the medians span
        more than two decades). Two parameters: a heat-map of the median per
        variant, cells annotated, one colour scale for all panels.

    Raises
    ------
    ValueError
        No parameter, more than two, a parameter or metric not in ``runs``, an unknown variant.
    """
    params = list(params)
    if not params:
        raise ValueError("no swept parameters: a sweep plot needs the folder of viralsim sweep")
    if len(params) > 2:
        raise ValueError(f"a sweep over {len(params)} parameters ({', '.join(params)}) does not fit one figure: "
                         "plot_sweep draws one parameter (lines) or two (heat-map)")  # fmt: skip
    missing = [p for p in params if p not in runs.columns]
    if missing:
        raise ValueError(
            f"swept parameter {', '.join(missing)} not in runs (columns: {', '.join(map(str, runs.columns))})"
        )
    _numeric(runs, metric)
    series, _ = _series(runs.assign(point=0), variants, None, None)
    what = metric.replace("_", " ")
    plt = _pyplot()
    if len(params) == 1:
        p = params[0]
        vals, numeric = _values(runs[p])
        fig, ax = plt.subplots(figsize=(8, 5.2), constrained_layout=True)
        meds = []
        for v, _pt, label, c in series:
            grp = runs[runs["variant"].astype(str) == v].groupby(p)[metric]
            q = grp.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack().reindex(vals)
            xs = np.asarray(vals, dtype=float) if numeric else np.arange(len(vals), dtype=float)
            ax.fill_between(xs, q[0.05], q[0.95], color=c, alpha=0.12, lw=0)
            ax.fill_between(xs, q[0.25], q[0.75], color=c, alpha=0.28, lw=0)
            ax.plot(xs, q[0.5], color=c, lw=1.8, marker="o", ms=4, label=f"{label}: median")
            meds.extend(q[0.5].dropna().tolist())
        pos = [m for m in meds if m > 0]
        if pos and len(pos) == len(meds) and max(pos) / min(pos) > 100:
            ax.set_yscale("log")
        if not numeric:
            ax.set_xticks(np.arange(len(vals)), [str(x) for x in vals])
        from matplotlib.patches import Patch

        handles, _ = ax.get_legend_handles_labels()
        handles += [Patch(color="grey", alpha=0.45, lw=0, label="25–75 % of runs"),
                    Patch(color="grey", alpha=0.18, lw=0, label="5–95 % of runs")]  # fmt: skip
        ax.legend(handles=handles, fontsize=9, frameon=True, loc="best")
        _count_axis(ax)
        ax.grid(alpha=0.3)
        ax.set_xlabel(p)
        ax.set_ylabel(f"final {what} per run")
        ax.set_title(title or f"{what} against {p}")
        return fig
    from matplotlib.colors import LogNorm, Normalize

    py, px = params
    yv, _ = _values(runs[py])
    xv, _ = _values(runs[px])
    grids = []
    for v, _pt, _label, _c in series:
        sub = runs[runs["variant"].astype(str) == v]
        grids.append(sub.groupby([py, px])[metric].median().unstack().reindex(index=yv, columns=xv).to_numpy(float))
    allv = np.concatenate([g.ravel() for g in grids])
    allv = allv[np.isfinite(allv)]
    lo, hi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
    norm = LogNorm(lo, hi) if lo > 0 and hi / lo > 30 else Normalize(lo, hi if hi > lo else lo + 1)
    ncol = min(len(series), 3)
    nrow = math.ceil(len(series) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(1.2 + ncol * max(3.5, 0.8 * len(xv) + 1.5),
                                                  1.0 + nrow * max(3.0, 0.55 * len(yv) + 1.4)),
                             squeeze=False, constrained_layout=True)  # fmt: skip
    cmap = plt.get_cmap("viridis").with_extremes(bad="#e5e7eb")
    im = None
    for ax, (_v, _pt, label, _c), grid in zip(axes.ravel(), series, grids, strict=False):
        im = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap, norm=norm)
        for i in range(len(yv)):
            for j in range(len(xv)):
                val = grid[i, j]
                rgb = cmap(norm(val))[:3] if np.isfinite(val) else (0.9, 0.9, 0.9)
                dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.5
                ax.text(j, i, _num(val), ha="center", va="center", fontsize=8, color="white" if dark else "black")
        ax.set_xticks(np.arange(len(xv)), [_num(x) if isinstance(x, float) else str(x) for x in xv])
        ax.set_yticks(np.arange(len(yv)), [_num(y) if isinstance(y, float) else str(y) for y in yv])
        ax.set_xlabel(px)
        ax.set_ylabel(py)
        ax.set_title(label if len(series) > 1 else "", fontsize=10)
    for ax in axes.ravel()[len(series) :]:
        ax.axis("off")
    fig.colorbar(im, ax=axes.ravel().tolist(), label=f"median final {what} per run", shrink=0.9)
    import textwrap

    fig.suptitle(textwrap.fill(title or f"median {what} over runs per grid point", 70))
    return fig


# -- from a results folder ---------------------------------------------------------------------------
def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return d


def kinds_for(results: Any) -> tuple[str, ...]:
    """The figure kinds that :func:`draw` can make from ``results`` (a folder from ``load_results``)."""
    if results.is_run:
        fit = {"reach", "sources"} if results.has("reach") else set()
        fit |= {"funnel"} if results.has("stages") else set()
        fit |= {"tree"} if results.has("views") else set()
    else:
        fit = {"funnel", "ccdf"} | ({"reach", "sources"} if results.has("bands") else set())
        fit |= {"sweep"} if results.params else set()
    return tuple(k for k in KINDS if k in fit)


def _why_not(results: Any, kind: str) -> str:
    if kind == "tree" and not results.is_run:
        return "a spread tree is drawn from the views log of one run: viralsim run FILE --out DIR"
    if kind == "ccdf" and results.is_run:
        return "a distribution over runs needs many runs: viralsim run FILE --runs N --out DIR"
    if kind == "sweep":
        return "a sweep plot needs the folder of viralsim sweep (with swept parameters)"
    table = {"reach": "reach", "sources": "reach", "funnel": "stages", "tree": "views"}.get(kind, "")
    if not results.is_run and kind in {"reach", "sources"}:
        table = "bands"
    return f"it needs {table}.parquet, which is not in this folder"


def draw(results: Any, kind: str, *, variant: str | None = None, metric: str = "views") -> Any:
    """Draw figure ``kind`` from a results folder, without rerunning anything.

    Parameters
    ----------
    results
        A folder opened with :func:`viralsim.io.results_dir.load_results`.
    kind
        One of :data:`KINDS`. One run: ``reach`` (cumulative views by source,
        stages marked), ``sources`` (stacked views by source and hourly rates),
        ``funnel`` (cohorts and KPIs against thresholds per stage), ``tree``
        (the spread tree). Many runs: ``reach`` (median and quantile bands,
        variants overlaid), ``sources`` (mean views by source of one variant),
        ``funnel`` (share of runs reaching each stage), ``ccdf`` (distribution
        of ``metric`` over runs), ``sweep`` (``metric`` against the swept parameters).
    variant
        Many runs: draw only this variant (``sources``: which variant to stack,
        default ``base``). One run: must be the run's own variant if given.
    metric
        A numeric column of ``runs.parquet`` for ``ccdf`` and ``sweep`` (default ``views``).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`save_figure`.

    Raises
    ------
    ValueError
        One line: an unknown kind, or a kind that does not fit this folder
        (naming the kinds that do), an unknown variant or metric.
    viralsim.io.results_dir.ResultsError
        A table of the folder cannot be read.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown plot kind {kind!r}: choose one of {', '.join(KINDS)}")
    fits = kinds_for(results)
    what = "one-run" if results.is_run else results.kind
    if kind not in fits:
        raise ValueError(f"{results.path}: kind {kind!r} does not fit this {what} folder ({_why_not(results, kind)}); "
                         f"kinds for this folder: {', '.join(fits) or 'none'}")  # fmt: skip
    meta, name = results.meta, results.scenario
    if results.is_run:
        own = results.variants[0]
        if variant is not None and variant != own:
            raise ValueError(f"{results.path}: this folder holds one run of variant {own!r}, not {variant!r}")
        label = name + (f" [{own}]" if own != "base" else "")
        seed = meta.get("seed")
        if kind == "reach":
            reach = results.reach
            title = _run_title(meta, name, None if own == "base" else own, seed)
            horizon = _get(meta, "provenance", "scenario", "horizon_h") or float(reach["time_h"].max())
            stages = results.stages.to_dict("records") if results.has("stages") else []
            return _reach_figure(reach, stages, upload_h=_get(meta, "provenance", "scenario", "video", "upload_h"),
                                 horizon_h=float(horizon), title=title)  # fmt: skip
        if kind == "sources":
            return plot_sources(results.reach, title=f"{label}: views by source (seed {seed})")
        if kind == "funnel":
            fig = plot_funnel(results.stages)
        else:
            fig = plot_tree(results.views, title=f"{label} (seed {seed})")
            return fig
        fig.axes[0].set_title(f"{label} (seed {seed}): " + fig.axes[0].get_title())
        return fig
    runs = results.runs
    have = results.variants or [str(v) for v in dict.fromkeys(runs["variant"].astype(str))]
    if variant is not None and variant not in have:
        raise ValueError(f"{results.path}: unknown variant {variant!r}: this {what} has {', '.join(have)}")
    chosen = None if variant is None else [variant]
    points = meta.get("points") or []
    labels = {i: ", ".join(f"{str(k).rsplit('.', 1)[-1]}={_num(x) if isinstance(x, float) else x}"
                           for k, x in pt.items()) for i, pt in enumerate(points) if isinstance(pt, Mapping)}  # fmt: skip
    n = meta.get("runs") or int(runs.groupby(["variant", "point"]).size().max())
    head = f"{name}, {n} runs" + (" per variant" if len(have) > 1 else "") + (" per point" if len(points) > 1 else "")
    if kind == "reach":
        return plot_reach_bands(results.bands, chosen, point_labels=labels,
                                upload_h=_get(meta, "provenance", "scenario", "video", "upload_h"),
                                title=f"{head}: cumulative views (line: median)")  # fmt: skip
    if kind == "sources":
        v = variant or ("base" if "base" in have else have[0])
        return plot_sources(results.bands, variant=v, title=f"{name} [{v}]: views by source (mean over {n} runs)")
    if kind == "funnel":
        return plot_funnel(runs, variants=chosen, point_labels=labels,
                           title=f"{head}: share of runs reaching each push stage")  # fmt: skip
    if kind == "ccdf":
        return plot_ccdf(runs, metric, variants=chosen, point_labels=labels,
                         title=f"{head}: distribution of final {metric.replace('_', ' ')} (CCDF)")  # fmt: skip
    return plot_sweep(
        runs,
        results.params,
        metric,
        variants=chosen,
        title=f"{head}: {metric.replace('_', ' ')} against {', '.join(results.params)}",
    )


def save_figure(fig: Any, path: str | Path, *, dpi: int = 150) -> Path:
    """Save ``fig`` by extension (png, svg, pdf) atomically; close it.

    ``dpi`` sets the resolution of PNG files (dots per inch). Raises
    ValueError naming the path for any other extension.
    """
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    if ext not in {"png", "svg", "pdf"}:
        raise ValueError(f"{path}: unknown figure type {path.suffix!r} (use .png, .svg or .pdf)")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format=ext, dpi=dpi)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        _pyplot().close(fig)
    return path
