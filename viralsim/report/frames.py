"""The data of the push animation's frames: each stage's timeline and every moving trace at a time.

:func:`stages_of` reads a run's stage rows and For You views into
:class:`StageFrames` (cohort, times, KPIs, thresholds, running KPI means);
:func:`frame_times` samples the animation's clock; :func:`moving` gives the
data of every moving trace at one time and the frame's title. The figure
itself is assembled in :mod:`viralsim.report.animation`. No IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.plots._base import FAIL_COLOUR, PASS_COLOUR
from viralsim.report.words import clock, fmt_count, fmt_pct
from viralsim.result import RunResult
from viralsim.scenario import KPI_NAMES
from viralsim.views import SOURCES

if TYPE_CHECKING:
    pass

__all__ = [
    "ACTIVE",
    "MAX_KPI_PANELS",
    "TOTAL_COLOUR",
    "WAITING",
    "StageFrames",
    "frame_times",
    "kpis_shown",
    "frame_data",
    "short",
    "stages_of",
    "threshold_values",
]

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
class StageFrames:
    """What the animation needs of one stage of the push (times in hours on the views' clock)."""

    number: int
    cohort: int
    start_h: float
    evaluated_h: float  # inf: never evaluated
    passed: bool | None  # None: not reached, or not evaluated
    kpis: dict[str, float]
    thresholds: dict[str, float | None]
    view_times: np.ndarray  # sorted times of this stage's For You views
    running: dict[str, np.ndarray]  # KPI -> running mean after each of those views


def kpis_shown(result: RunResult) -> list[str]:
    push = result.scenario.platform.push
    n = len(push.cohort_sizes())
    used = [
        k for k in (*KPI_NAMES, "score") if any(getattr(push.thresholds_for(i), k) is not None for i in range(1, n + 1))
    ]
    return used[:MAX_KPI_PANELS] or ["completion"]


def stages_of(result: RunResult, kpis: list[str]) -> list[StageFrames]:
    sc = result.scenario
    push = sc.platform.push
    v = result.views
    records = {int(r["stage"]): r for r in result.stages}
    up = sc.video.upload_h  # stage rows count hours after the upload; the frames run on the views' clock
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
                StageFrames(
                    i,
                    size,
                    up + float(rec["start_h"]),
                    up + float(rec["evaluated_h"]),
                    bool(rec["passed"]),
                    {k: float(rec[k]) for k in kpis},
                    thresholds,
                    times,
                    running,
                )
            )
        elif len(idx):  # delivered but not judged before the horizon
            out.append(StageFrames(i, size, float(times[0]), np.inf, None, {}, thresholds, times, running))
        else:
            out.append(StageFrames(i, size, np.inf, np.inf, None, {}, thresholds, times, running))
    return out


def frame_times(result: RunResult, stages: list[StageFrames], frames: int) -> np.ndarray:
    """``frames`` times from the upload to shortly after the last event; the last one is at the last view
    at the latest, so the animation ends on the run's total views (a slow trickle only stretches its last step).
    """
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
    grid = np.linspace(t0, max(end, t0 + 1.0), frames)
    if len(t) and float(t.max()) > grid[-1]:  # the last frame shows every view: the total of the key numbers
        grid[-1] = float(t.max())
    return grid


def _state_colour(s: StageFrames, t: float) -> str:
    if t < s.start_h:
        return WAITING
    if t < s.evaluated_h or s.passed is None:
        return ACTIVE
    return PASS_COLOUR if s.passed else FAIL_COLOUR


def short(x: float) -> str:
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


def threshold_values(stages: list[StageFrames], k: str) -> list[float | None]:
    return [None if s.thresholds[k] is None else _kpi_value(k, float(s.thresholds[k] or 0.0)) for s in stages]


def frame_data(
    result: RunResult,
    stages: list[StageFrames],
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
        data.append({"type": "scatter", "y": threshold_values(stages, k)})
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
