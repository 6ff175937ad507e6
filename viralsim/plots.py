"""Figures (matplotlib, the plotting layer only): the reach curve of a run.

Nothing in the core imports this module. Figures are written by extension
(PNG, SVG, PDF) with the Agg backend, so no display is needed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from viralsim.result import SOURCES, RunResult

__all__ = ["plot_reach", "save_figure"]

_COLOURS = {"for_you": "#e4405f", "following": "#3b82f6", "share": "#10b981"}
_LABELS = {"for_you": "For You (platform push)", "following": "Following feed", "share": "shares"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _thousands(x: float, _pos: Any = None) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.1f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def plot_reach(result: RunResult) -> Any:
    """Cumulative views by source over time, linear and log scale, push stages marked.

    Returns the matplotlib figure (two panels: linear on top, log below so the
    first small cohorts are visible too).
    """
    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter

    fig, (ax, axl) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, constrained_layout=True,
                                  gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    rc = result.reach_curve
    t = rc["time_h"]
    stacks = [np.asarray(rc[s], dtype=float) for s in SOURCES]
    ax.stackplot(t, *stacks, colors=[_COLOURS[s] for s in SOURCES], alpha=0.85,
                 labels=[f"{_LABELS[s]}: {int(rc[s][-1]):,}" for s in SOURCES])  # fmt: skip
    ax.plot(t, rc["total"], color="black", lw=1.2, label=f"total: {int(rc['total'][-1]):,} views")
    top = max(float(rc["total"][-1]), 1.0)
    for s in SOURCES:
        y = np.asarray(rc[s], dtype=float)
        if y[-1] > 0:
            axl.plot(t, y, color=_COLOURS[s], lw=1.5)
    axl.plot(t, rc["total"], color="black", lw=1.0)
    axl.set_yscale("log")
    axl.set_ylim(0.8, top * 3)
    for row in result.stages:
        for a in (ax, axl):
            a.axvline(row["start_h"], color="grey", lw=0.8, ls=":")
        colour = "black" if row["passed"] else "#b91c1c"
        label = f"S{row['stage']}" + ("" if row["passed"] else " stop")
        axl.text(row["start_h"], top * 1.5, label, ha="left", va="bottom", fontsize=8, color=colour)
    upload = result.scenario.video.upload_h
    for a in (ax, axl):
        a.axvline(upload, color="black", lw=0.8)
        a.grid(alpha=0.3)
    ax.text(upload, top * 1.02, " upload", fontsize=8, va="bottom")
    ax.set_xlim(0, result.scenario.horizon_h)
    ax.set_ylim(0, top * 1.1)
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axl.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axl.set_xlabel("hours since Monday 00:00 UTC (dotted lines: push stages S1, S2, ...)")
    ax.set_ylabel("cumulative views")
    axl.set_ylabel("cumulative views (log)")
    summ = result.summary
    title = f"{result.scenario.name}" + (f" [{result.variant}]" if result.variant else "")
    ax.set_title(
        f"{title}: {summ['views']:,} views, {summ['shares']:,} shares, "
        f"{100 * summ['algorithmic_share']:.2f} % from the push (seed {result.seed})"
    )
    ax.legend(loc="lower right", fontsize=9, frameon=True)
    return fig


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save ``fig`` by extension (png, svg, pdf) atomically; close it."""
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    if ext not in {"png", "svg", "pdf"}:
        raise ValueError(f"{path}: unknown figure type {path.suffix!r} (use .png, .svg or .pdf)")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format=ext, dpi=150)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        _pyplot().close(fig)
    return path
