"""The report's comparison chart of summary metrics (``viralsim report --metrics A,B``), in plotly.

Draws the :class:`~viralsim.experiments.panels.Panel` s of
:func:`~viralsim.experiments.panels.metric_panels` as the matplotlib figure of
``compare --plot FILE --metric NAME`` does (:mod:`viralsim.plots.metrics`): one panel
per metric, the variants side by side by their display names, a median with its
5 %–95 % range, bars from zero on a linear axis and points on a log axis. No file IO.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from viralsim.plots._base import PALETTE
from viralsim.report.words import fmt_count

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from viralsim.experiments.panels import Panel

__all__ = ["metrics_figure"]

#: Panels per row.
PER_ROW = 3
_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "triangle-down", "cross", "x", "star", "hexagon")


def _number(x: float) -> str:
    if not math.isfinite(x):
        return "–"
    return fmt_count(x) if abs(x) >= 10 else f"{x:.3g}"


def metrics_figure(panels: Sequence[Panel], title: str) -> go.Figure:
    """One subplot per metric: each variant's median with its 5 %–95 % range (hover: the numbers and runs).

    Parameters
    ----------
    panels : sequence of Panel
        From :func:`viralsim.experiments.panels.metric_panels` (at least one).
    title : str
        The chart's title (:func:`~viralsim.experiments.panels.panels_title`).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if not panels:
        raise ValueError("no metric to draw")
    cols = min(PER_ROW, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"<b>{p.title}</b>" + (" (log scale)" if p.log else "") for p in panels],
        horizontal_spacing=0.09,
        vertical_spacing=0.22 if rows > 1 else 0.1,
    )
    for k, panel in enumerate(panels):
        row, col = k // cols + 1, k % cols + 1
        grouped = panel.items != ("",)
        for j, label in enumerate(panel.labels):
            colour = PALETTE[j % len(PALETTE)]
            med, lo, hi = (a[:, j] * panel.scale for a in (panel.median, panel.q05, panel.q95))
            x = list(panel.items) if grouped else [label]
            ok = np.isfinite(med)
            error = {
                "type": "data",
                "symmetric": False,
                "array": np.where(ok, hi - med, 0.0).tolist(),
                "arrayminus": np.where(ok, med - lo, 0.0).tolist(),
                "color": "#111827" if not panel.log else colour,
                "thickness": 1.4,
            }
            hover = [
                f"{label}: median {_number(m)} [{_number(a)} – {_number(b)}], {n} runs"
                for m, a, b, n in zip(med, lo, hi, panel.runs[:, j], strict=True)
            ]
            common = {
                "x": x,
                "y": np.where(ok, med, np.nan).tolist(),
                "name": label,
                "legendgroup": label,
                "showlegend": k == 0,
                "error_y": error,
                "hovertext": hover,
                "hoverinfo": "text",
            }
            if panel.log:
                trace = go.Scatter(
                    mode="markers",
                    marker={"color": colour, "size": 10, "symbol": _SYMBOLS[j % len(_SYMBOLS)]},
                    **common,
                )
            else:
                trace = go.Bar(
                    marker={"color": colour, "opacity": 0.6, "line": {"color": colour, "width": 1}}, **common
                )
            fig.add_trace(trace, row=row, col=col)
        fig.update_yaxes(title_text=panel.axis, type="log" if panel.log else "linear", row=row, col=col)
        if panel.log:
            fig.update_yaxes(dtick=1, row=row, col=col)  # a label per power of ten, no crowded 2s and 5s
        else:
            fig.update_yaxes(rangemode="tozero", row=row, col=col)
        if not grouped and len(panel.labels) > 2 and max(map(len, panel.labels)) > 10:
            fig.update_xaxes(tickangle=-20, row=row, col=col)
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        barmode="group",
        scattermode="group",
        height=380 * rows + 80,
        margin={"l": 70, "r": 30, "t": 90, "b": 60},
        plot_bgcolor="white",
        legend={"orientation": "h", "x": 0, "y": -0.12 if rows == 1 else -0.06},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"},
    )
    fig.update_xaxes(showline=True, linecolor="#9ca3af")
    fig.update_yaxes(showline=True, linecolor="#9ca3af", gridcolor="#e5e7eb")
    return fig
