"""The lab's figures for N paired runs: reach bands and how many runs reached each push stage.

Reads an :class:`~viralsim.experiments.stats.EnsembleResult` of the lab's
``compare`` (``base``: the scenario as set; ``social``: without the push) and
returns plotly figures and the formatted key numbers (the report's
:func:`~viralsim.report.comparison.ensemble_numbers`: median and 5 %-95 %
interval, the same quantiles as ``viralsim compare``). No dash, no IO.
"""

from __future__ import annotations

import plotly.graph_objects as go

from viralsim.experiments.stats import EnsembleResult
from viralsim.lab.figures import KEY_LABELS, layout
from viralsim.plots._base import COLOURS, LABELS, PASS_COLOUR
from viralsim.report.comparison import ensemble_numbers
from viralsim.report.words import fmt_count
from viralsim.views import SOURCES

__all__ = ["band_figure", "band_numbers", "stage_share_figure"]


def band_numbers(ens: EnsembleResult, label: str) -> list[tuple[str, str | None]]:
    """(median, 5 %-95 % interval or None) of ``label``'s key numbers, in ``KEY_LABELS`` order.

    The stop reason comes as (the most common one with its count, None).
    """
    cells = ensemble_numbers(ens)[label]
    out: list[tuple[str, str | None]] = []
    for m, _ in KEY_LABELS:
        text = cells.get(m, "–")
        median, sep, interval = text.partition(" [")
        out.append((median, interval.rstrip("]")) if sep and m != "stop_reason" else (text, None))
    return out


def band_figure(ens: EnsembleResult, label: str, upload_h: float, horizon_h: float) -> go.Figure:
    """Total views over the hours after upload: median and 5 %-95 % band over the runs; each source's median."""
    b = ens.bands[ens.bands["variant"] == label]
    runs = int((ens.runs["variant"] == label).sum())
    fig = go.Figure()
    total = b[(b["source"] == "total") & (b["time_h"] >= upload_h)]
    x = (total["time_h"].to_numpy() - upload_h).round(3).tolist()
    fig.add_trace(
        go.Scatter(x=x, y=total["q95"].tolist(), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=total["q05"].tolist(),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(17, 24, 39, 0.15)",
            name="total, 5 %-95 % of runs",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=total["q50"].tolist(),
            mode="lines",
            line={"color": "#111827", "width": 2},
            name=f"total, median: {fmt_count(float(total['q50'].iloc[-1]))}",
            hovertemplate="%{y:,.0f} views (median)<extra>total</extra>",
        )
    )
    for s in SOURCES:
        src = b[(b["source"] == s) & (b["time_h"] >= upload_h)]
        if float(src["q95"].max()) <= 0:
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=src["q50"].tolist(),
                mode="lines",
                line={"color": COLOURS[s], "width": 1.5, "dash": "dot"},
                name=f"{LABELS[s]}, median",
                hovertemplate="%{y:,.0f} views (median)<extra>" + LABELS[s] + "</extra>",
            )
        )
    layout(fig, f"Reach over {runs} runs (median, 5 %-95 %)")
    fig.update_xaxes(title_text="hours after upload", range=[0, horizon_h - upload_h])
    fig.update_yaxes(title_text="views (cumulative)", tickformat="~s")
    return fig


def stage_share_figure(ens: EnsembleResult, label: str, stages: int) -> go.Figure:
    """The share of runs whose push reached each stage (a funnel over runs)."""
    runs = ens.runs[ens.runs["variant"] == label]
    n = len(runs)
    fig = go.Figure()
    reached = runs["stages_reached"].to_numpy()
    if not stages or n == 0 or int(reached.max(initial=0)) == 0:
        fig.add_annotation(
            text="no algorithmic push: followers and shares only",
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            showarrow=False,
            font={"size": 13, "color": "#6b7280"},
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return layout(fig, "Push stages: none")
    x = list(range(1, stages + 1))
    share = [float((reached >= k).mean()) for k in x]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=share,
            mode="markers+lines+text",
            marker={"size": 11, "color": PASS_COLOUR},
            line={"color": "#d1d5db", "width": 1},
            text=[f"{round(s * n)}/{n}" for s in share],
            textposition="top center",
            textfont={"size": 10},
            name="runs whose push reached the stage",
            hovertemplate="stage %{x}: %{y:.0%} of runs<extra></extra>",
        )
    )
    layout(fig, f"Push stages reached, over {n} runs")
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="stage", dtick=1)
    fig.update_yaxes(title_text="share of runs", tickformat=".0%", range=[0, 1.12])
    return fig
