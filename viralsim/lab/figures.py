"""The lab's figures and key numbers for one run (plotly figures, formatted text; no dash, no IO).

:func:`reach_figure` draws cumulative views by source against hours after the
upload (stacked: For You, Following, shares), with the push's stop marked;
:func:`funnel_figure` draws the push's stages (the cohort each was to reach
and the users it reached, green when its KPIs passed, red when they did not)
on a log axis as points, never bars (a bar's length on a log axis misleads);
:func:`key_numbers` gives the report's key numbers (same formats). The
``live_*`` functions draw the same from a running run's
:class:`~viralsim.engines.contracts.Progress` (the curve so far against the
whole horizon, a "now" line, the stages evaluated so far, the numbers so far).
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from viralsim.engines.contracts import Progress
from viralsim.plots._base import COLOURS, FAIL_COLOUR, LABELS, PASS_COLOUR
from viralsim.records import StageRecord
from viralsim.report.comparison import KEY_METRICS, run_numbers
from viralsim.report.words import fmt_count, fmt_pct, kpi_label, stop_in_words
from viralsim.result import RunResult
from viralsim.scenario import Scenario
from viralsim.views import SOURCES

__all__ = [
    "GRAPH_HEIGHT",
    "KEY_LABELS",
    "funnel_figure",
    "key_numbers",
    "layout",
    "live_funnel_figure",
    "live_numbers",
    "live_reach_figure",
    "reach_figure",
]

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


def _reach(sc: Scenario, rc: dict[str, Any], stop_h: float | None, title: str, now_h: float | None = None) -> go.Figure:
    up = sc.video.upload_h
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
    if stop_h is not None and sc.platform.push.mode != "social":
        fig.add_vline(
            x=float(stop_h),  # hours after the upload already
            line={"color": "#6b7280", "dash": "dot", "width": 1},
            annotation={"text": "push stopped", "font": {"size": 11, "color": "#4b5563"}},
            annotation_position="top right",
        )
    if now_h is not None and now_h > up:
        fig.add_vline(
            x=now_h - up,
            line={"color": "#e4405f", "width": 1.5},
            annotation={"text": f"now: {now_h - up:.0f} h", "font": {"size": 11, "color": "#e4405f"}},
            annotation_position="bottom right",
        )
    layout(fig, title)
    fig.update_xaxes(title_text="hours after upload", range=[0, sc.horizon_h - up])
    fig.update_yaxes(title_text="views (cumulative)", tickformat="~s")
    return fig


def reach_figure(result: RunResult) -> go.Figure:
    """Cumulative views by source over the hours after the upload, stacked, with the push's stop marked."""
    stop_h = result.summary.get("stop_h")
    total = int(result.summary["views"])
    return _reach(result.scenario, result.reach_curve, stop_h, f"Reach by source: {total:,} views")


def live_reach_figure(sc: Scenario, p: Progress) -> go.Figure:
    """:func:`reach_figure` of a running run: the curve so far, a line at now, the axis to the horizon."""
    total = sum(p.views_by_source.values())
    up = sc.video.upload_h
    when = f"{p.time_h - up:.0f} h after upload" if p.time_h >= up else "before the upload"
    return _reach(sc, p.reach_curve, p.stop_h, f"Reach by source: {total:,} views so far ({when})", p.time_h)


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
    return _funnel(result.scenario, result.stages)


def live_funnel_figure(sc: Scenario, p: Progress) -> go.Figure:
    """:func:`funnel_figure` of a running run: the stages evaluated so far (and which one is open)."""
    running = p.stop_reason is None and p.stages_reached > len(p.stages)
    return _funnel(sc, list(p.stages), f" · stage {p.stages_reached} open" if running else "", live=True)


def _funnel(sc: Scenario, stages: list[StageRecord], note: str = "", live: bool = False) -> go.Figure:
    fig = go.Figure()
    if not stages:
        why = (
            "no algorithmic push: followers and shares only"
            if sc.platform.push.mode == "social"
            else ("no stage evaluated yet" if live else "no stage was evaluated")
        )
        fig.add_annotation(
            text=why, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 13, "color": "#6b7280"}
        )
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return layout(fig, "Push stages: none" + (" yet" if live and sc.platform.push.mode != "social" else "") + note)
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
    so_far = " so far" if live else ""
    layout(fig, f"Push stages: {len(stages)} reached, {passed} passed{so_far}{note}")
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="stage", dtick=1)
    fig.update_yaxes(title_text="users (log scale)", type="log", rangemode="normal", tickformat="~s")
    return fig


def live_numbers(sc: Scenario, p: Progress) -> list[str]:
    """The key numbers of a running run so far (the formats of :func:`key_numbers`), in ``KEY_LABELS`` order."""
    views = sum(p.views_by_source.values())
    n_stages = len(sc.platform.push.cohort_sizes()) if sc.platform.push.mode != "social" else 0
    shown = {
        "views": fmt_count(views),
        "shares": fmt_count(p.shares),
        "share_to_view": fmt_pct(p.shares / views if views else 0.0),
        "algorithmic_share": fmt_pct(p.views_by_source["for_you"] / views if views else 0.0),
        "stages_reached": fmt_count(p.stages_reached),
        "stop_reason": stop_in_words(p.stop_reason, p.stages_reached or None) if p.stop_reason else "still pushing",
    }
    if n_stages:
        passed = sum(bool(r["passed"]) for r in p.stages)
        shown["stages_reached"] = f"{p.stages_reached} of {n_stages} ({passed} passed)"
    return [shown[m] for m, _ in KEY_LABELS]


def key_numbers(result: RunResult) -> list[tuple[str, str, str]]:
    """(summary key, label, formatted value) of the key numbers of one run, in order."""
    shown = run_numbers(result)
    return [(m, label, shown[m]) for m, label in KEY_LABELS]
