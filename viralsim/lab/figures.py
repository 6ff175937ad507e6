"""The lab's figures and key numbers for one run (plotly figures, formatted text; no dash, no IO).

:func:`reach_figure` draws cumulative views by source against hours after the
upload (stacked: For You, Following, shares), with the push's stop marked;
:func:`funnel_figure` draws the push's stages (the cohort each was to reach
and the users it reached, green when its KPIs passed, red when they did not)
on a log axis as points, never bars (a bar's length on a log axis misleads);
:func:`key_numbers` gives the report's key numbers (same formats).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from viralsim.plots._base import COLOURS, FAIL_COLOUR, LABELS, PASS_COLOUR
from viralsim.report.comparison import KEY_METRICS, run_numbers
from viralsim.report.words import fmt_count, kpi_label
from viralsim.result import RunResult
from viralsim.views import SOURCES

__all__ = ["GRAPH_HEIGHT", "KEY_LABELS", "layout", "funnel_figure", "key_numbers", "reach_figure"]

#: The key numbers shown, (summary key, label), as in the report.
KEY_LABELS = tuple((m, label) for m, label in KEY_METRICS if m != "structural_virality")
_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}
GRAPH_HEIGHT = 310


def layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 14}},
        height=GRAPH_HEIGHT,
        margin={"l": 60, "r": 12, "t": 40, "b": 70},
        font=_FONT,
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={"orientation": "h", "y": -0.3, "x": 0, "traceorder": "normal"},
        hovermode="x unified",
    )
    fig.update_xaxes(showline=True, linecolor="#9ca3af", gridcolor="#f3f4f6")
    fig.update_yaxes(showline=True, linecolor="#9ca3af", gridcolor="#e5e7eb", rangemode="tozero")
    return fig


def reach_figure(result: RunResult) -> go.Figure:
    """Cumulative views by source over the hours after the upload, stacked, with the push's stop marked."""
    sc = result.scenario
    up = sc.video.upload_h
    rc = result.reach_curve
    t = rc["time_h"]
    keep = t >= up
    x = [round(float(v) - up, 3) for v in t[keep]]
    fig = go.Figure()
    for s in SOURCES:
        y = rc[s][keep]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y.tolist(),
                name=f"{LABELS[s]}: {fmt_count(float(y[-1]) if len(y) else 0)}",
                stackgroup="views",
                mode="lines",
                line={"width": 0.5, "color": COLOURS[s]},
                fillcolor=COLOURS[s],
                hovertemplate="%{y:,} views<extra>" + LABELS[s] + "</extra>",
            )
        )
    stop_h = result.summary.get("stop_h")
    if stop_h is not None and sc.platform.push.mode != "social":
        fig.add_vline(
            x=float(stop_h),  # hours after the upload already
            line={"color": "#6b7280", "dash": "dot", "width": 1},
            annotation={"text": "push stopped", "font": {"size": 11, "color": "#4b5563"}},
            annotation_position="top right",
        )
    total = int(result.summary["views"])
    layout(fig, f"Reach by source: {total:,} views")
    fig.update_xaxes(title_text="hours after upload", range=[0, sc.horizon_h - up])
    fig.update_yaxes(title_text="views (cumulative)", tickformat="~s")
    return fig


def _stage_hover(row: Any, kpis: list[str]) -> str:
    parts = [f"<b>stage {row['stage']}</b>", f"cohort {row['cohort_size']:,}", f"delivered {row['delivered']:,}"]
    parts.append(f"views at evaluation {row['views_evaluated']:,}")
    for k in kpis:
        th = row[f"threshold_{k}"]
        parts.append(f"{kpi_label(k)} {row[k]:.1%} (needs ≥ {th:.1%})")
    parts.append("passed" if row["passed"] else f"failed: {row['failed'] or 'stopped'}")
    return "<br>".join(parts)


def funnel_figure(result: RunResult) -> go.Figure:
    """The push's stages: cohort to reach (open) and users reached (filled; green passed, red failed)."""
    fig = go.Figure()
    stages = result.stages
    if not stages:
        why = (
            "no algorithmic push: followers and shares only"
            if result.scenario.platform.push.mode == "social"
            else "no stage was evaluated"
        )
        fig.add_annotation(
            text=why, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 13, "color": "#6b7280"}
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return layout(fig, "Push stages: none")
    kpis = [
        k
        for k in ("completion", "watch_fraction", "like", "comment", "share", "follow", "profile_click", "score")
        if stages[0].get(f"threshold_{k}") is not None
    ]
    x = [int(r["stage"]) for r in stages]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[int(r["cohort_size"]) for r in stages],
            name="cohort to reach",
            mode="markers+lines",
            marker={"symbol": "circle-open", "size": 12, "color": "#6b7280", "line": {"width": 2}},
            line={"color": "#d1d5db", "width": 1},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[max(int(r["delivered"]), 1) for r in stages],
            name="users reached (green: passed, red: failed)",
            mode="markers+text",
            marker={"size": 11, "color": [PASS_COLOUR if r["passed"] else FAIL_COLOUR for r in stages]},
            text=[fmt_count(float(r["delivered"])) for r in stages],
            textposition="bottom center",
            textfont={"size": 10},
            hovertext=[_stage_hover(r, kpis) for r in stages],
            hoverinfo="text",
        )
    )
    passed = sum(bool(r["passed"]) for r in stages)
    layout(fig, f"Push stages: {len(stages)} reached, {passed} passed")
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="stage", dtick=1)
    fig.update_yaxes(title_text="users (log scale)", type="log", rangemode="normal", tickformat="~s")
    return fig


def key_numbers(result: RunResult) -> list[tuple[str, str, str]]:
    """(summary key, label, formatted value) of the key numbers of one run, in order."""
    shown = run_numbers(result)
    return [(m, label, shown[m]) for m, label in KEY_LABELS]
