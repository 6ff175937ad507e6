"""Summary metrics of variants side by side: one panel per metric (``compare --plot FILE --metric NAME``).

Draws the :class:`~viralsim.experiments.panels.Panel` s of
:func:`~viralsim.experiments.panels.metric_panels`: in each panel the variants stand
side by side (grouped by source for ``views_by_source``), each a median with its
5 %–95 % range, the same numbers as the table. A linear axis shows the median as a
bar from zero; a panel whose values span orders of magnitude has a log axis and shows
the median as a point (a bar on a log axis has no honest bottom). A variant without a
value (e.g. a cost without an engaged view) is marked "no value".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from viralsim.plots._base import PALETTE, fmt_num, pyplot

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from viralsim.experiments.panels import Panel

__all__ = ["plot_metric_panels"]

#: Panels per row of the figure.
PER_ROW = 3
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "h")


def plot_metric_panels(panels: Sequence[Panel], title: str) -> Figure:
    """One panel per metric, the variants side by side: median with its 5 %–95 % range.

    Parameters
    ----------
    panels : sequence of Panel
        From :func:`viralsim.experiments.panels.metric_panels` (at least one).
    title : str
        The figure's title: the scenario, the variants and the runs
        (:func:`~viralsim.experiments.panels.panels_title`).

    Returns
    -------
    matplotlib.figure.Figure
        Each axis labelled with the metric's label and unit; a variant's colour and
        marker are the same in every panel, named in one legend.
    """
    if not panels:
        raise ValueError("no metric to draw")
    plt = pyplot()
    cols = min(PER_ROW, len(panels))
    rows = math.ceil(len(panels) / cols)
    widths = [max(3.2, 1.0 + 0.55 * len(p.items) * len(p.variants)) for p in panels[:cols]]
    fig, axes = plt.subplots(
        rows, cols, figsize=(max(sum(widths), 6.0), 3.9 * rows + 0.9), constrained_layout=True, squeeze=False
    )
    for ax, panel in zip(axes.ravel(), panels, strict=False):
        _draw(ax, panel)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    handles, names = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 4), frameon=False)
    fig.suptitle(title, fontsize=11)
    return fig


def _label(x: float) -> str:
    """A median as its label shows it: three significant digits (12.5, 0.0262), thousands as 15.3k."""
    return fmt_num(x) if abs(x) >= 1000 else f"{x:.3g}"


def _draw(ax: Axes, panel: Panel) -> None:
    n_items, n_var = panel.median.shape
    width = 0.8 / n_var
    grouped = panel.items != ("",)
    for j, label in enumerate(panel.labels):
        colour = PALETTE[j % len(PALETTE)]
        x = np.arange(n_items) + (j - (n_var - 1) / 2) * width if grouped else np.array([float(j)])
        med, lo, hi = (a[:, j] * panel.scale for a in (panel.median, panel.q05, panel.q95))
        ok = np.isfinite(med)
        err = np.vstack([np.where(ok, med - lo, 0.0), np.where(ok, hi - med, 0.0)])
        if panel.log:
            ax.errorbar(
                x[ok],
                med[ok],
                yerr=err[:, ok],
                fmt=_MARKERS[j % len(_MARKERS)],
                color=colour,
                ms=7,
                capsize=4,
                lw=1.5,
                label=label,
            )
        else:  # a bar from zero, its range drawn over it in ink
            ax.bar(
                x[ok],
                med[ok],
                width=width * 0.9 if grouped else 0.6,
                color=colour,
                alpha=0.5,
                edgecolor=colour,
                lw=1.2,
                label=label,
            )
            ax.errorbar(x[ok], med[ok], yerr=err[:, ok], fmt="none", ecolor="#111827", capsize=4, lw=1.3)
        for xi, m, h in zip(x[ok], med[ok], hi[ok], strict=True):
            ax.annotate(
                _label(float(m)),
                (xi, h),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7.5,
                color="#374151",
            )
        for xi in x[~ok]:
            ax.annotate(
                "no value",
                (xi, 0),
                xycoords=("data", "axes fraction"),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=7.5,
                color="#6b7280",
            )
        if not ok.any() and panel.log:  # keep the variant in the legend
            ax.plot([], [], _MARKERS[j % len(_MARKERS)], color=colour, label=label)
        elif not ok.any():
            ax.bar([], [], color=colour, label=label)
    from matplotlib.ticker import FuncFormatter

    if panel.log:
        ax.set_yscale("log")
        ax.margins(y=0.15)
    else:
        ax.set_ylim(bottom=0)
        ax.margins(y=0.12)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: fmt_num(float(y))))
    if grouped:
        ax.set_xticks(np.arange(n_items), list(panel.items))
        ax.set_xlim(-0.6, n_items - 0.4)
    else:
        slanted = n_var > 2 and max(map(len, panel.labels)) > 10
        ax.set_xticks(
            np.arange(n_var), list(panel.labels), rotation=18 if slanted else 0, ha="right" if slanted else "center"
        )
        ax.set_xlim(-0.6, n_var - 0.4)
    ax.set_title(panel.title + (" (log scale)" if panel.log else ""), fontsize=10)
    ax.set_ylabel(panel.axis)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
