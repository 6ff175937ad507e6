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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.plots._base import COLOURS, FAIL_COLOUR, LABELS, PASS_COLOUR
from viralsim.report.words import clock, fmt_count, fmt_pct, kpi_label
from viralsim.result import RunResult
from viralsim.scenario import KPI_NAMES
from viralsim.views import SOURCES

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["FRAME_MS", "push_animation"]

#: Milliseconds per frame when playing (plotly's default of 500 ms is far too slow).
FRAME_MS = 50
WAITING, ACTIVE = "#d1d5db", "#f59e0b"  # grey: not yet delivered; amber: being watched
TOTAL_COLOUR = "#111827"
MAX_KPI_PANELS = 3
_VIEW_COLUMN = {
    "completion": "completed",
    "like": "liked",
    "comment": "commented",
    "share": "shared",
    "follow": "followed",
    "profile_click": "profile_click",
}


@dataclass(frozen=True)
class _Stage:
    """What the animation needs of one stage of the push (times in hours)."""

    number: int
    cohort: int
    start_h: float
    evaluated_h: float  # inf: never evaluated
    passed: bool | None  # None: not reached, or not evaluated
    kpis: dict[str, float]
    thresholds: dict[str, float | None]
    view_times: np.ndarray  # sorted times of this stage's For You views
    running: dict[str, np.ndarray]  # KPI -> running mean after each of those views


def _kpis_shown(result: RunResult) -> list[str]:
    push = result.scenario.platform.push
    n = len(push.cohort_sizes())
    used = [
        k for k in (*KPI_NAMES, "score") if any(getattr(push.thresholds_for(i), k) is not None for i in range(1, n + 1))
    ]
    return used[:MAX_KPI_PANELS] or ["completion"]


def _stages(result: RunResult, kpis: list[str]) -> list[_Stage]:
    sc = result.scenario
    push = sc.platform.push
    v = result.views
    records = {int(r["stage"]): r for r in result.stages}
    fy = v["source"] == SOURCES.index("for_you")
    out = []
    for i, size in enumerate(push.cohort_sizes(), start=1):
        idx = np.flatnonzero(fy & (v["stage"] == i))
        times = v["time_h"][idx]
        running: dict[str, np.ndarray] = {}
        n = np.arange(1, len(idx) + 1)
        for k in kpis:
            if k in _VIEW_COLUMN:
                running[k] = np.cumsum(v[_VIEW_COLUMN[k]][idx]) / n
            elif k == "watch_fraction":
                running[k] = np.cumsum(np.minimum(1.0, v["watch_s"][idx] / sc.video.duration_s)) / n
        th = push.thresholds_for(i)
        thresholds = {k: getattr(th, k) for k in kpis}
        rec = records.get(i)
        if rec is not None:
            out.append(
                _Stage(
                    i,
                    size,
                    float(rec["start_h"]),
                    float(rec["evaluated_h"]),
                    bool(rec["passed"]),
                    {k: float(rec[k]) for k in kpis},
                    thresholds,
                    times,
                    running,
                )
            )
        elif len(idx):  # delivered but not judged before the horizon
            out.append(_Stage(i, size, float(times[0]), np.inf, None, {}, thresholds, times, running))
        else:
            out.append(_Stage(i, size, np.inf, np.inf, None, {}, thresholds, times, running))
    return out


def _frame_times(result: RunResult, stages: list[_Stage], frames: int) -> np.ndarray:
    sc = result.scenario
    t0 = float(result.moderation.get("decided_h", sc.video.upload_h) or sc.video.upload_h)
    t0 = min(t0, sc.video.upload_h)
    t = result.views["time_h"]
    ends = [t0 + 1.0]
    if len(t):
        ends.append(float(np.quantile(t, 0.995)))
    ends += [s.evaluated_h for s in stages if np.isfinite(s.evaluated_h)]
    end = max(ends)
    end = min(sc.horizon_h, end + 0.05 * (end - t0))
    return np.linspace(t0, max(end, t0 + 1.0), frames)


def _state_colour(s: _Stage, t: float) -> str:
    if t < s.start_h:
        return WAITING
    if t < s.evaluated_h or s.passed is None:
        return ACTIVE
    return PASS_COLOUR if s.passed else FAIL_COLOUR


def _short(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e3:
        return f"{x / 1e3:.3g}k"
    return f"{x:.0f}"


def _kpi_value(k: str, x: float) -> float:
    return x if k == "score" else 100.0 * x  # rates in %


def _kpi_text(k: str, x: float) -> str:
    if k == "score":
        return f"{x:.2f}"
    return f"{100 * x:.1f} %" if x >= 0.01 else fmt_pct(x)


def _threshold_values(stages: list[_Stage], k: str) -> list[float | None]:
    return [None if s.thresholds[k] is None else _kpi_value(k, float(s.thresholds[k] or 0.0)) for s in stages]


def _moving(
    result: RunResult,
    stages: list[_Stage],
    kpis: list[str],
    t: float,
    times: np.ndarray,
    curves: dict[str, np.ndarray],
    ymax: float,
) -> tuple[list[dict[str, Any]], str]:
    """The data of every moving trace at time ``t`` (same order as the traces), and the frame's title."""
    t0 = times[0]
    k_now = int(np.searchsorted(times, t, side="right"))
    x = np.round(times[:k_now] - t0, 3)
    data: list[dict[str, Any]] = []
    for curve in curves.values():
        yy = curve[:k_now].astype(float)
        yy[yy <= 0] = np.nan  # log axis: no point for zero views
        data.append({"type": "scatter", "x": x, "y": yy})
    data.append({"type": "scatter", "x": [t - t0, t - t0], "y": [1, ymax]})  # the "now" line
    colours = [_state_colour(s, t) for s in stages]
    seen = [int(np.searchsorted(s.view_times, t, side="right")) for s in stages]
    if stages:
        data.append({"type": "bar", "marker": {"color": colours, "line": {"color": colours}}})
        data.append({"type": "bar", "y": [n or None for n in seen], "marker": {"color": colours}, "customdata": seen})
    for k in kpis:
        ys: list[float | None] = []
        col, text = [], []
        for s, n in zip(stages, seen, strict=True):
            th = s.thresholds[k]
            if np.isfinite(s.evaluated_h) and t >= s.evaluated_h and k in s.kpis:
                val = s.kpis[k]
                ok = th is None or val >= th
                ys.append(_kpi_value(k, val))
                col.append(PASS_COLOUR if ok else FAIL_COLOUR)
                text.append(_kpi_text(k, val))
            elif n >= 20 and k in s.running:  # the stage is being watched: its running KPI
                val = float(s.running[k][n - 1])
                ys.append(_kpi_value(k, val))
                col.append(ACTIVE)
                text.append(_kpi_text(k, val))
            else:
                ys.append(None)
                col.append(WAITING)
                text.append("")
        data.append({"type": "bar", "y": ys, "marker": {"color": col}, "text": text})
    for k in kpis:  # static, but plotly drops a subplot's traces that frames leave out when it redraws
        data.append({"type": "scatter", "y": _threshold_values(stages, k)})
    total = int(curves["total"][k_now - 1]) if k_now else 0
    active = [s for s in stages if s.start_h <= t < s.evaluated_h]
    if active:
        s = active[-1]
        doing = f"stage {s.number} ({s.cohort:,} users) is being watched"
    else:
        done = [s for s in stages if np.isfinite(s.evaluated_h) and s.evaluated_h <= t]
        if done and done[-1].passed is False:
            doing = f"the push stopped at stage {done[-1].number}"
        elif done and done[-1].number == len(stages):
            doing = "every stage passed"
        elif result.scenario.platform.push.mode == "social":
            doing = "no push: followers and shares only"
        elif result.summary.get("stop_reason") == "removed_by_moderation":
            doing = "removed by moderation: nobody is shown it"
        else:
            doing = "waiting for the first cohort"
    title = f"<b>{clock(t)}</b> — {t - t0:.0f} h after upload · <b>{fmt_count(total)}</b> views · {doing}"
    return data, title


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
    kpis = _kpis_shown(result)
    stages = _stages(result, kpis)
    times = _frame_times(result, stages, max(2, frames))
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
    labels = [f"{s.number}: {_short(s.cohort)}" for s in stages]
    cohorts = [s.cohort for s in stages]
    if stages:
        add(
            go.Bar(
                x=labels,
                y=cohorts,
                width=0.8,
                opacity=0.35,
                showlegend=False,
                text=[_short(c) for c in cohorts],
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
                y=_threshold_values(stages, k),
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
    top = {k: max([v or 0.0 for v in _threshold_values(stages, k)] or [0.0]) for k in kpis}  # highest value shown
    n_reach = len(curves) + 1 + (2 if stages else 0)  # traces before the KPI bars
    for i, t in enumerate(times):
        data, title = _moving(result, stages, kpis, float(t), times, curves, ymax)
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
    last, last_title = _moving(result, stages, kpis, float(times[-1]), times, curves, ymax)
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
