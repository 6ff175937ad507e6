"""The variants of a scenario side by side: key numbers over paired runs, and a chart.

Reads an :class:`~viralsim.ensemble.EnsembleResult` of ``compare`` (base and
variants on common random numbers) and one full run; returns table rows and a
plotly figure. No file IO.
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from viralsim.experiments.stats import EnsembleResult
from viralsim.plots._base import PALETTE
from viralsim.report.words import fmt_count, fmt_pct, stop_in_words
from viralsim.result import RunResult

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

__all__ = ["KEY_METRICS", "compare_figure", "differences_in_words", "ensemble_numbers", "run_numbers"]

#: The key numbers of the report, in order: (summary key, label).
KEY_METRICS = (
    ("views", "views"),
    ("shares", "shares"),
    ("share_to_view", "share-to-view ratio"),
    ("algorithmic_share", "views from the platform's push"),
    ("stages_reached", "push stages reached"),
    ("stop_reason", "why the push stopped"),
    ("structural_virality", "structural virality"),
)


def _fmt(metric: str, x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if metric in ("share_to_view", "algorithmic_share"):
        return fmt_pct(float(x))
    if metric == "structural_virality":
        return f"{float(x):.2f}"
    return fmt_count(float(x))


def run_numbers(result: RunResult) -> dict[str, str]:
    """The key numbers of one run, formatted (metric -> text)."""
    s = result.summary
    n_stages = (
        len(result.scenario.platform.push.cohort_sizes()) if result.scenario.platform.push.mode != "social" else 0
    )
    out = {m: _fmt(m, s.get(m)) for m, _ in KEY_METRICS if m != "stop_reason"}
    if n_stages:
        out["stages_reached"] = f"{s['stages_reached']} of {n_stages} ({s['stages_passed']} passed)"
    out["stop_reason"] = stop_in_words(s.get("stop_reason"), s.get("stages_reached") or None)
    return out


def ensemble_numbers(ens: EnsembleResult) -> dict[str, dict[str, str]]:
    """Per variant label: metric -> ``"median [5 % – 95 %]"``; the stop reason: the most common one."""
    metrics = [m for m, _ in KEY_METRICS if m != "stop_reason"]
    table = ens.table(metrics)
    out: dict[str, dict[str, str]] = {}
    for _, row in table.iterrows():
        label = str(row["variant"])
        cells = {}
        for m in metrics:
            med, lo, hi = row[f"{m}_median"], row[f"{m}_q05"], row[f"{m}_q95"]
            cells[m] = _fmt(m, med) if _fmt(m, lo) == _fmt(m, hi) else f"{_fmt(m, med)} [{_fmt(m, lo)} – {_fmt(m, hi)}]"
        runs = ens.runs[ens.runs["variant"] == label]
        reasons = runs["stop_reason"].fillna("none").value_counts()
        if len(reasons):
            top = str(reasons.index[0])
            cells["stop_reason"] = f"{stop_in_words(top)} ({reasons.iloc[0]} of {len(runs)} runs)"
        out[label] = cells
    return out


def differences_in_words(ens: EnsembleResult, base: str = "base") -> list[str]:
    """One sentence per variant (HTML, names escaped): its median views and the paired difference from the base."""
    table = ens.table(["views", "algorithmic_share"]).set_index("variant")
    diffs = ens.differences(["views"])
    out = []
    base_views = _num(table, base, "views_median")
    for _, row in diffs.iterrows():
        label = str(row["variant"])
        views, pushed = _num(table, label, "views_median"), _num(table, label, "algorithmic_share_median")
        ratio = views / base_views if base_views else math.nan
        rel = "" if math.isnan(ratio) else f" — {fmt_pct(ratio)} of the base's"
        out.append(
            f"<b>{html.escape(ens.plan.label(label))}</b>: a median of {fmt_count(views)} views instead of "
            f"{fmt_count(base_views)}{rel}; run by run (same seeds), the difference is "
            f"{_signed(row['views_median'])} views (90 % of runs between {_signed(row['views_q05'])} and "
            f"{_signed(row['views_q95'])}). {fmt_pct(pushed)} of its views come from the push."
        )
    return out


def _num(table: pd.DataFrame, label: str, column: str) -> float:
    """A number of a table indexed by variant label (every column read here is float64)."""
    return cast(float, table.loc[label, column])


def _signed(x: float) -> str:
    return ("+" if x > 0 else "−" if x < 0 else "±") + fmt_count(abs(float(x)))


#: Plotly dashes and markers of the variants' median lines: curves that coincide stay visible.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")


def compare_figure(ens: EnsembleResult, upload_h: float | None = None) -> go.Figure:
    """Reach bands (median and 90 % band of total views over time) and final views per variant.

    Parameters
    ----------
    ens : EnsembleResult
        The result of ``compare`` (base and variants, paired).
    upload_h : float, optional
        Upload time (hours on the simulation clock), for bands without ``after_upload_h``;
        the x axis counts hours after each variant's own upload either way.

    Returns
    -------
    plotly.graph_objects.Figure
        Titled with the scenario, the variants and the runs. Left: each variant's median
        line in its own dash and markers ("identical to base" in its name when its median
        curve is the base's). Right: every run's final views as a point, the median as a
        large marker and the 5-95 % interval as a whisker (the table's quantiles) — points,
        not bars, on the log axis, so a small number never looks like a large share.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    bands = ens.bands
    total = bands[bands["source"] == "total"]
    labels = list(ens.plan.variants)
    table = ens.table(["views"]).set_index("variant")
    runs = ens.runs
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.64, 0.36],
        horizontal_spacing=0.1,
        subplot_titles=[
            "<b>Views over time</b>: median and 90 % band (log scale)",
            "<b>Final views</b> per run (◆ median, 90 %)",
        ],
    )
    ymax, zeros = 10.0, 0
    first: tuple[str, np.ndarray] | None = None
    for i, label in enumerate(labels):
        colour = PALETTE[i % len(PALETTE)]
        disp = ens.plan.label(label)  # the display name (base_label, a variant's label)
        d = total[total["variant"] == label]
        if d.empty:
            continue
        after = d["after_upload_h"].to_numpy() if "after_upload_h" in d else d["time_h"].to_numpy() - (upload_h or 0.0)
        keep = after >= 0
        x = np.round(after[keep], 2)
        lo, med, hi = (
            np.where(d[q].to_numpy()[keep] > 0, d[q].to_numpy()[keep], np.nan) for q in ("q05", "q50", "q95")
        )
        same = first is not None and np.array_equal(first[1], d["q50"].to_numpy()[keep])
        name = f"{disp} (identical to {first[0]})" if same and first else disp
        if first is None:
            first = (disp, d["q50"].to_numpy()[keep])
        ymax = max(ymax, float(np.nanmax(d["q95"].to_numpy(), initial=0)))
        fill = _rgba(colour, 0.18)
        fig.add_trace(
            go.Scatter(
                x=x, y=hi, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False, legendgroup=label
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=lo,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=fill,
                hoverinfo="skip",
                showlegend=False,
                legendgroup=label,
            ),
            row=1,
            col=1,
        )
        every = np.arange(len(x)) % 24 == (i * 4) % 24  # markers of coinciding lines fall on different points
        fig.add_trace(
            go.Scatter(
                x=x,
                y=med,
                mode="lines+markers",
                name=name,
                line={"color": colour, "width": 2.5, "dash": DASHES[i % len(DASHES)]},
                marker={
                    "symbol": SYMBOLS[i % len(SYMBOLS)],
                    "size": np.where(every, 8, 0).tolist(),
                    "color": colour,
                },
                legendgroup=label,
                hovertemplate=f"{html.escape(disp)}: %{{y:,.0f}} views at %{{x:.0f}} h after upload<extra></extra>",
            ),
            row=1,
            col=1,
        )
        finals = runs.loc[runs["variant"] == label, "views"].to_numpy(float)
        shown = finals[finals > 0]
        zeros += int(len(finals) - len(shown))
        jitter = (np.random.default_rng(i).random(len(shown)) - 0.5) * 0.3  # fixed: the page is reproducible
        fig.add_trace(
            go.Scatter(
                x=(i - 0.18 + jitter).tolist(),  # the runs left of the tick, the median right of it
                y=shown.tolist(),
                mode="markers",
                marker={"color": _rgba(colour, 0.45), "size": 6, "symbol": SYMBOLS[i % len(SYMBOLS)]},
                showlegend=False,
                legendgroup=label,
                hovertemplate=f"{html.escape(disp)}: one run, %{{y:,.0f}} views<extra></extra>",
            ),
            row=1,
            col=2,
        )
        med_v, lo_v, hi_v = (float(_num(table, label, c)) for c in ("views_median", "views_q05", "views_q95"))
        fig.add_trace(
            go.Scatter(
                x=[i + 0.12],
                y=[med_v if med_v > 0 else None],
                mode="markers+text",
                marker={"color": colour, "size": 15, "symbol": "diamond", "line": {"color": "white", "width": 1}},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [max(0.0, hi_v - med_v)],
                    "arrayminus": [max(0.0, med_v - lo_v)] if lo_v > 0 else [0.0],
                    "color": "#374151",
                    "thickness": 2,
                    "width": 10,
                },
                text=[f"  {fmt_count(med_v)}"],
                textposition="middle right",
                showlegend=False,
                legendgroup=label,
                hovertemplate=f"{html.escape(disp)}: median {fmt_count(med_v)} views [{fmt_count(lo_v)} – "
                f"{fmt_count(hi_v)}]<extra></extra>",
            ),
            row=1,
            col=2,
        )
    top = float(np.log10(ymax * 2))
    fig.update_yaxes(type="log", range=[0, top], title_text="views (cumulative)", row=1, col=1)
    fig.update_yaxes(type="log", range=[0, top], title_text="final views per run", row=1, col=2)
    fig.update_xaxes(title_text="hours after upload", row=1, col=1)
    fig.update_xaxes(
        tickvals=list(range(len(labels))),
        ticktext=[html.escape(ens.plan.label(v)) for v in labels],
        range=[-0.6, len(labels) - 0.4],
        title_text=f"{zeros} run{'s' if zeros != 1 else ''} with no view not shown (log axis)" if zeros else "",
        row=1,
        col=2,
    )
    n = ens.plan.runs
    title = f"{ens.plan.scenario.name} [{', '.join(ens.plan.label(v) for v in labels)}] — {n} paired runs per variant"
    fig.update_layout(
        title={"text": html.escape(title), "x": 0.01, "font": {"size": 15}},
        height=450,
        margin={"l": 70, "r": 30, "t": 90, "b": 60},
        plot_bgcolor="white",
        legend={"orientation": "h", "x": 0, "y": -0.22},
        font={"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"},
    )
    fig.update_xaxes(showline=True, linecolor="#9ca3af", gridcolor="#f3f4f6")
    fig.update_yaxes(showline=True, linecolor="#9ca3af", gridcolor="#e5e7eb")
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
