"""The staged push of one run as a plotly animation: reach, cohorts and KPIs over time.

One figure, three panels that move together on a time slider (with a play
button): the reach curve growing by source; the push's cohorts as bars that
light up while they are watched and turn green (passed) or red (push stopped)
when evaluated; and each stage's KPIs against its thresholds (amber while the
stage is being watched, green or red once judged). Frames are sampled on a
regular grid from the upload to shortly after the last event, and each frame
carries only the data of the traces that move, so the figure stays small.
Needs a run recorded with its views log (``record="full"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.plots._base import COLOURS, FAIL_COLOUR, LABELS, PASS_COLOUR
from viralsim.report.frames import (
    ACTIVE,
    TOTAL_COLOUR,
    WAITING,
    frame_data,
    frame_times,
    kpis_shown,
    short,
    stages_of,
    threshold_values,
)
from viralsim.report.words import kpi_label
from viralsim.result import RunResult
from viralsim.views import SOURCES

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["FRAME_MS", "push_animation"]

#: Milliseconds per frame when playing (plotly's default of 500 ms is far too slow).
FRAME_MS = 50


def push_animation(result: RunResult, *, frames: int = 90) -> go.Figure:
    """An animated plotly figure of ``result``'s staged push, with a play button and a time slider.

    Parameters
    ----------
    result : RunResult
        One run with its views log (``record="full"``).
    frames : int
        Animation frames, evenly spaced in time from the upload to shortly after
        the last event (default 90: about 4.5 s at 50 ms per frame).

    Returns
    -------
    plotly.graph_objects.Figure
        Opens on the last frame (the whole story); play replays it from the upload.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if result.record != "full":
        raise ValueError("the animation needs the views log: simulate with record='full'")
    kpis = kpis_shown(result)
    stages = stages_of(result, kpis)
    times = frame_times(result, stages, max(2, frames))
    if not any(np.isfinite(s.start_h) for s in stages):  # no push (social mode, removed): the reach alone
        stages, kpis = [], []
    t0 = float(times[0])
    v = result.views
    curves: dict[str, np.ndarray] = {"total": np.searchsorted(v["time_h"], times, side="right")}
    for code, name in enumerate(SOURCES):
        mask = v["source"] == code
        if mask.any():
            curves[name] = np.searchsorted(v["time_h"][mask], times, side="right")
    ymax = max(10.0, float(curves["total"][-1]) * 1.6)
    nk = len(kpis)
    reach_title = "<b>Reach</b>: cumulative views by where they came from (log scale)"
    if stages:
        specs: list[list[Any]] = [[{"colspan": 2}, None], [{"rowspan": nk}, {}], *([None, {}] for _ in range(nk - 1))]
        titles = [
            reach_title,
            "<b>The staged push</b>: cohort per stage (outline), its views so far (solid)",
            *[f"<b>{kpi_label(k)}</b> per stage vs threshold (black dash)" for k in kpis],
        ]
        fig = make_subplots(
            rows=1 + nk,
            cols=2,
            specs=specs,
            subplot_titles=titles,
            vertical_spacing=0.13,
            horizontal_spacing=0.08,
            row_heights=[0.44] + [0.56 / nk] * nk,
        )
    else:
        fig = make_subplots(rows=1, cols=1, subplot_titles=[reach_title + " — no algorithmic push in this run"])
    moving: list[int] = []

    def add(trace: Any, row: int, col: int, move: bool = True) -> None:
        fig.add_trace(trace, row=row, col=col)
        if move:
            moving.append(len(fig.data) - 1)

    for name in curves:
        label = "all views" if name == "total" else LABELS[name]
        colour = TOTAL_COLOUR if name == "total" else COLOURS[name]
        add(
            go.Scatter(
                name=label,
                mode="lines",
                line={
                    "color": colour,
                    "width": 3 if name == "total" else 2,
                    "dash": "dot" if name == "total" else "solid",
                },
                hovertemplate=f"{label}<br>%{{x:.1f}} h after upload: %{{y:,}} views<extra></extra>",
            ),
            1,
            1,
        )
    add(
        go.Scatter(
            name="now",
            mode="lines",
            line={"color": "#6b7280", "width": 1, "dash": "dash"},
            hoverinfo="skip",
            showlegend=False,
        ),
        1,
        1,
    )
    labels = [f"{s.number}: {short(s.cohort)}" for s in stages]
    cohorts = [s.cohort for s in stages]
    if stages:
        add(
            go.Bar(
                x=labels,
                y=cohorts,
                width=0.8,
                opacity=0.35,
                showlegend=False,
                text=[short(c) for c in cohorts],
                textposition="outside",
                cliponaxis=False,
                marker={"line": {"width": 2}},
                hovertemplate="stage %{x}: cohort of %{y:,} users<extra></extra>",
            ),
            2,
            1,
        )
        add(
            go.Bar(
                x=labels,
                width=0.4,
                showlegend=False,
                hovertemplate="stage %{x}: %{customdata:,} views so far<extra></extra>",
            ),
            2,
            1,
        )
    for j, k in enumerate(kpis):
        add(
            go.Bar(
                x=labels,
                width=0.6,
                showlegend=False,
                textposition="outside",
                cliponaxis=False,
                textfont={"size": 11},
                hovertemplate=f"stage %{{x}}: {kpi_label(k)} %{{text}}<extra></extra>",
            ),
            2 + j,
            2,
        )
    for j, k in enumerate(kpis):  # thresholds are known from the start
        add(
            go.Scatter(
                x=labels,
                y=threshold_values(stages, k),
                mode="markers",
                showlegend=False,
                name="threshold",
                marker={"symbol": "line-ew", "size": 30, "color": "#111827", "line": {"width": 3, "color": "#111827"}},
                hovertemplate=f"stage %{{x}}: {kpi_label(k)} must be ≥ %{{y:.3g}}"
                f"{'' if k == 'score' else ' %'}<extra></extra>",
            ),
            2 + j,
            2,
        )

    steps = []
    frame_list = []
    top = {k: max([v or 0.0 for v in threshold_values(stages, k)] or [0.0]) for k in kpis}  # highest value shown
    n_reach = len(curves) + 1 + (2 if stages else 0)  # traces before the KPI bars
    for i, t in enumerate(times):
        data, title = frame_data(result, stages, kpis, float(t), times, curves, ymax)
        for k, d in zip(kpis, data[n_reach:], strict=False):
            top[k] = max([top[k], *(y for y in d["y"] if y is not None)])
        name = f"f{i}"
        frame_list.append(go.Frame(name=name, data=data, traces=moving, layout={"title": {"text": title}}))
        steps.append(
            {
                "label": f"{t - t0:.0f} h",
                "method": "animate",
                "args": [
                    [name],
                    {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}},
                ],
            }
        )
    fig.frames = frame_list
    last, last_title = frame_data(result, stages, kpis, float(times[-1]), times, curves, ymax)
    for idx, upd in zip(moving, last, strict=True):
        fig.data[idx].update(upd)

    span = float(times[-1] - t0)
    fig.update_xaxes(range=[-0.01 * span, span * 1.01], ticksuffix=" h", row=1, col=1)
    fig.update_yaxes(
        type="log", range=[0, float(np.log10(ymax))], dtick=1, tickformat="~s", title_text="views", row=1, col=1
    )
    if stages:
        lo, hi = np.log10(min(cohorts)), np.log10(max(cohorts))
        fig.update_yaxes(
            type="log",
            range=[max(0.0, lo - 0.6), hi + 0.5],
            dtick=1,
            tickformat="~s",
            title_text="users (log)",
            row=2,
            col=1,
        )
    for j, k in enumerate(kpis):
        fig.update_yaxes(range=[0, top[k] * 1.35 or 1.0], title_text="%" if k != "score" else "score", row=2 + j, col=2)
    legend_colours = (
        f"<span style='color:{WAITING}'>■</span> waiting  <span style='color:{ACTIVE}'>■</span> "
        f"being watched  <span style='color:{PASS_COLOUR}'>■</span> passed  "
        f"<span style='color:{FAIL_COLOUR}'>■</span> push stopped"
    )
    if stages:
        fig.add_annotation(
            text=legend_colours,
            xref="paper",
            yref="paper",
            x=0.0,
            y=-0.075,
            showarrow=False,
            xanchor="left",
            font={"size": 13},
        )
    legend_y, controls_y = (fig.layout.yaxis.domain[0] - 0.035, -0.12) if stages else (-0.1, -0.24)
    fig.update_layout(
        height=860 if stages else 540,
        margin={"l": 70, "r": 30, "t": 90, "b": 120},
        title={"text": last_title, "x": 0.01, "font": {"size": 16}},
        barmode="overlay",
        plot_bgcolor="white",
        # under the reach panel's time axis: inside it, the legend would hide a curve
        legend={"orientation": "h", "x": 0.0, "y": legend_y, "yanchor": "top", "xanchor": "left"},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0.0,
                "y": controls_y,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"r": 10, "t": 10},
                "buttons": [
                    {
                        "label": "▶ Play",
                        "method": "animate",
                        "args": [
                            None,
                            {
                                "frame": {"duration": FRAME_MS, "redraw": True},
                                "fromcurrent": True,
                                "transition": {"duration": 0},
                                "mode": "immediate",
                            },
                        ],
                    },
                    {
                        "label": "❚❚ Pause",
                        "method": "animate",
                        "args": [
                            [None],
                            {
                                "frame": {"duration": 0, "redraw": False},
                                "mode": "immediate",
                                "transition": {"duration": 0},
                            },
                        ],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": len(steps) - 1,
                "steps": steps,
                "x": 0.16,
                "len": 0.84,
                "y": controls_y,
                "yanchor": "top",
                "pad": {"t": 10, "b": 0},
                "font": {"color": "rgba(0,0,0,0)"},
                "ticklen": 3,
                "minorticklen": 0,
                "currentvalue": {
                    "prefix": "time after upload: ",
                    "font": {"size": 14, "color": "#111827"},
                    "xanchor": "left",
                },
                "transition": {"duration": 0},
            }
        ],
    )
    fig.update_xaxes(showline=True, linecolor="#9ca3af", gridcolor="#f3f4f6")
    fig.update_yaxes(showline=True, linecolor="#9ca3af", gridcolor="#e5e7eb")
    return fig
