"""Reach over time: one run's cumulative views by source, many runs' quantile bands, views by source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.plots._base import (
    COLOURS,
    HOURS_LABEL,
    LABELS,
    PALETTE,
    count_axis,
    ensemble_title,
    fmt_num,
    fmt_pct,
    pick_series,
    pyplot,
    select_series,
    series_styles,
    wrap,
)
from viralsim.records.words import source_label, stop_in_words
from viralsim.result import RunResult
from viralsim.views import SOURCES

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["plot_reach", "plot_reach_bands", "plot_sources"]


def reach_figure(
    rc: Mapping[str, Any] | pd.DataFrame,
    stages: Sequence[Mapping[str, Any]],
    *,
    upload_h: float | None,
    horizon_h: float,
    title: str,
    stop_h: float | None = None,
    stop_reason: str | None = None,
) -> Figure:
    """One run's reach by source in hours after the upload (the reach table's ``time_h`` is on the
    simulation clock, the stage rows' ``start_h`` and ``stop_h`` count from the upload)."""
    plt = pyplot()
    fig, (ax, axl) = plt.subplots(
        2, 1, figsize=(9, 7), sharex=True, constrained_layout=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    up = upload_h or 0.0
    t = np.asarray(rc["time_h"], dtype=float)
    keep = t >= up
    keep[max(int(np.argmax(keep)) - 1, 0)] = True  # the grid point just before the upload: the curve starts at 0
    t = t[keep] - up
    total = np.asarray(rc["total"], dtype=float)[keep]
    stacks = [np.asarray(rc[s], dtype=float)[keep] for s in SOURCES]
    ax.stackplot(
        t,
        *stacks,
        colors=[COLOURS[s] for s in SOURCES],
        alpha=0.85,
        labels=[f"{LABELS[s]}: {int(y[-1]):,}" for s, y in zip(SOURCES, stacks, strict=True)],
    )
    ax.plot(t, total, color="black", lw=1.2, label=f"total: {int(total[-1]):,} views")
    top = max(float(total[-1]), 1.0)
    for s, y in zip(SOURCES, stacks, strict=True):
        if y[-1] > 0:
            axl.plot(t, y, color=COLOURS[s], lw=1.5)
    if total[-1] > 0:
        axl.plot(t, total, color="black", lw=1.0)
        axl.set_yscale("log")
        axl.set_ylim(0.8, top * 3)
    else:
        _no_views(axl)
    for row in stages:
        for a in (ax, axl):
            a.axvline(row["start_h"], color="grey", lw=0.8, ls=":")
        colour = "black" if row["passed"] else "#b91c1c"
        axl.text(row["start_h"], top * 1.5, f"S{row['stage']}", ha="left", va="bottom", fontsize=8, color=colour)
    if stop_h is not None and stages and stop_reason not in (None, "horizon"):
        _stop_marker(ax, axl, t, total, stacks, float(stop_h), stop_reason, top)
    for a in (ax, axl):
        a.grid(alpha=0.3)
    ax.set_xlim(0, horizon_h - up)
    ax.set_ylim(0, top * 1.1)
    count_axis(ax, axl)
    axl.set_xlabel(f"{HOURS_LABEL} (dotted lines: push stages S1, S2, ...)")
    ax.set_ylabel("cumulative views")
    axl.set_ylabel("cumulative views (log)")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=9, frameon=True)
    return fig


#: The ``gid`` of the reach plot's line at the push's stop (tests find it by it).
STOP_GID = "push-stop"


def _stop_marker(
    ax: Any, axl: Any, t: np.ndarray, total: np.ndarray, stacks: list[np.ndarray], stop: float, reason: str, top: float
) -> None:
    """A line at the push's stop, and what came after it: the last cohort's late viewers, followers, shares."""
    at = float(np.interp(stop, t, total))
    after = float(total[-1]) - at
    by = {s: float(y[-1]) - float(np.interp(stop, t, y)) for s, y in zip(SOURCES, stacks, strict=True)}
    why = "every stage passed" if reason == "all_stages_passed" else stop_in_words(reason)
    for a in (ax, axl):
        a.axvline(stop, color="#b91c1c", lw=1.3, ls="--", gid=STOP_GID)
    parts = [f"{fmt_num(by['for_you'])} late For You views (cohorts already delivered)"]
    parts += [f"{fmt_num(by[s])} from {source_label(s, short=True)}" for s in ("following", "share") if by[s] >= 0.5]
    text = (
        f"push stopped at {stop:.1f} h with {fmt_num(at)} views:\n{why};\n"
        f"after it: +{fmt_num(after)} ({fmt_pct(after / max(float(total[-1]), 1.0))}):\n" + ",\n".join(parts)
    )
    right = stop > 0.5 * float(t[-1])  # past the middle: the note goes to the left of the line
    ax.annotate(
        text,
        xy=(stop, at),
        xytext=(-10 if right else 10, -34),
        ha="right" if right else "left",
        va="top",
        textcoords="offset points",
        fontsize=8,
        color="#7f1d1d",
        arrowprops={"arrowstyle": "-", "color": "#b91c1c", "lw": 0.8},
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#fca5a5", "alpha": 0.9},
    )


def _no_views(ax: Any) -> None:
    """Say so instead of a log axis with nothing on it."""
    ax.text(0.5, 0.5, "no views", transform=ax.transAxes, ha="center", va="center", color="grey")


def run_title(summary: Mapping[str, Any], name: str, variant: str | None, seed: Any) -> str:
    head = name + (f" [{variant}]" if variant else "")
    return (
        f"{head}: {summary['views']:,} views, {summary['shares']:,} shares, "
        f"{100 * summary['algorithmic_share']:.2f} % from the push (seed {seed})"
    )


def plot_reach(result: RunResult) -> Figure:
    """Cumulative views by source in hours after the upload, linear and log scale, push stages marked.

    Returns the matplotlib figure (two panels: linear on top, log below so the
    first small cohorts are visible too). A dashed red line marks the push's stop
    (``summary["stop_h"]``); its note says how many views came after it and from where.
    """
    title = run_title(result.summary, result.scenario.name, result.variant, result.seed)
    return reach_figure(
        result.reach_curve,
        result.stages,
        upload_h=result.scenario.video.upload_h,
        horizon_h=result.scenario.horizon_h,
        title=title,
        stop_h=result.summary["stop_h"],
        stop_reason=result.summary["stop_reason"],
    )


def plot_reach_bands(
    bands: pd.DataFrame,
    variants: Sequence[str] | None = None,
    *,
    points: Sequence[int] | None = None,
    point_labels: Mapping[int, str] | None = None,
    upload_h: float | None = None,
    title: str | None = None,
    scenario: str | None = None,
    runs: int | None = None,
) -> Figure:
    """Reach over many runs: median cumulative views with 25-75 % and 5-95 % bands.

    Parameters
    ----------
    bands
        ``bands.parquet`` as a DataFrame (long format: variant, point, source,
        time_h in hours on the simulation clock, q05, q25, q50, q75, q95, mean);
        the ``source == "total"`` rows are drawn.
    variants
        Variants to overlay (default: all, in table order).
    points, point_labels
        Grid points of a sweep to overlay (default: all, thinned to a readable
        number) and their legend labels (e.g. ``{0: "appeal=0.5"}``).
    upload_h
        Upload time (hours on the simulation clock), for a table without ``after_upload_h``
        (written before it had one): the x axis counts hours after the upload either way.
    title
        Figure title (default: the scenario, the variants drawn, the run count and what is shown).
    scenario, runs
        The scenario's name and the runs per variant, for the default title.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the time axis: linear on top, log below. Each series has
        its own line style and markers, so curves that coincide stay visible, and a
        variant whose median curve equals the first one's says so in the legend
        ("identical to base").
    """
    plt = pyplot()
    from matplotlib.patches import Patch

    df = bands[bands["source"].astype(str) == "total"]
    if df.empty:
        raise ValueError("bands: no rows with source 'total'")
    series, note = select_series(df, variants, points, point_labels)
    fig, (ax, axl) = plt.subplots(
        2, 1, figsize=(9, 7), sharex=True, constrained_layout=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    # hours after each series' own upload (a variant or grid point may move it); an older table: after upload_h
    own = "after_upload_h" in df.columns
    after = own or upload_h is not None
    top, right = 1.0, 0.0
    first: tuple[str, np.ndarray] | None = None
    outer = len(series) <= 3  # the 5-95 % bands of many curves blur into one another
    for i, (v, p, label, c) in enumerate(series):
        s = pick_series(df, v, p).sort_values("time_h")
        t = s["after_upload_h"].to_numpy(float) if own else s["time_h"].to_numpy(float) - (upload_h or 0.0)
        if after:
            s, t = s[t >= 0], t[t >= 0]
        right = max(right, float(t.max(initial=0.0)))
        q = {k: s[k].to_numpy(float) for k in ("q05", "q25", "q50", "q75", "q95")}
        top = max(top, float(np.nanmax(q["q95"])) if len(t) else 1.0)
        for a in (ax, axl):
            if outer:
                a.fill_between(t, q["q05"], q["q95"], color=c, alpha=0.12, lw=0)
            a.fill_between(t, q["q25"], q["q75"], color=c, alpha=0.28 if outer else 0.15, lw=0)
        final = f"{q['q50'][-1]:,.0f}" if len(t) else "–"
        same = first is not None and np.array_equal(first[1], q["q50"])
        text = f"{label}: median {final} views" + (f" (identical to {first[0]})" if same and first else "")
        if first is None:
            first = (label, q["q50"])
        ls, marker = series_styles(i)
        every = (i * 4 % 24, 24)  # markers of coinciding curves fall on different points
        kw = {"color": c, "ls": ls, "marker": marker, "markevery": every, "ms": 5}
        ax.plot(t, q["q50"], lw=1.8, label=text, **kw)
        axl.plot(t, q["q50"], lw=1.5, **kw)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(color="grey", alpha=0.45, lw=0, label="25–75 % of runs"))
    if outer:
        handles.append(Patch(color="grey", alpha=0.18, lw=0, label="5–95 % of runs"))
    else:
        note = ", ".join(x for x in (note, "5–95 % bands left out for clarity") if x)
    ax.legend(handles=handles, loc="upper left", fontsize=9, frameon=True)
    axl.set_yscale("log")
    axl.set_ylim(0.8, top * 3)
    ax.set_ylim(0, top * 1.05)
    for a in (ax, axl):
        a.grid(alpha=0.3)
    ax.set_xlim(0.0, right or 1.0)
    count_axis(ax, axl)
    ax.set_ylabel("cumulative views")
    axl.set_ylabel("cumulative views (log)")
    axl.set_xlabel(HOURS_LABEL if after else "hours since t = 0 (the simulation clock)")
    names = list(dict.fromkeys(v for v, _p, _l, _c in series))
    text = title or ensemble_title(scenario, names, runs, "cumulative views (line: median, bands: quantiles over runs)")
    ax.set_title(wrap(text + (f"\n({note})" if note else "")))
    return fig


# -- views by source ---------------------------------------------------------------------------------
def plot_sources(
    reach_or_bands: pd.DataFrame,
    *,
    variant: str | None = None,
    point: int | None = None,
    title: str | None = None,
    upload_h: float | None = None,
) -> Figure:
    """Cumulative views by source as a stacked area, and each source's hourly rate.

    Parameters
    ----------
    reach_or_bands
        One run's reach table (``time_h``, ``total`` and one column per source),
        or ``bands.parquet`` of many runs, whose per-source ``mean`` is stacked
        (the mean of a sum is the sum of the means, so the stack's top is the mean total).
    variant, point
        Which variant and grid point of the bands (default ``"base"`` if present,
        else the first; the first point). Ignored for a reach table.
    title
        Figure title (default: says what is stacked).
    upload_h
        Upload time (hours on the simulation clock, as the tables' ``time_h``): the x axis
        counts hours after it (without it, hours on the simulation clock).

    Returns
    -------
    matplotlib.figure.Figure
        Top: stacked cumulative views (legend: final count and share of each
        source). Bottom: views per hour by source, log scale.
    """
    plt = pyplot()
    df = reach_or_bands
    after_axis = False
    if "q50" in df.columns:  # bands of many runs: the mean per source of one variant and point
        have = [str(v) for v in dict.fromkeys(df["variant"].astype(str))]
        v = variant if variant is not None else ("base" if "base" in have else have[0])
        if v not in have:
            raise ValueError(f"unknown variant {v!r}: this table has {', '.join(have)}")
        p = point if point is not None else int(df["point"].min())
        sub = pick_series(df, v, p)
        if sub.empty:
            raise ValueError(f"no bands for variant {v!r} at grid point {p}")
        at = "after_upload_h" if "after_upload_h" in sub.columns else "time_h"
        wide = sub.pivot_table(index=at, columns=sub["source"].astype(str), values="mean").sort_index()
        if at == "after_upload_h":  # already hours after this variant's upload
            wide, upload_h = wide[wide.index >= 0], None
            after_axis = True
        t = wide.index.to_numpy(float)
        what = f"mean over runs, variant {v}" + (f", point {p}" if df["point"].nunique() > 1 else "")
    else:
        wide = df.set_index("time_h").sort_index()
        t = wide.index.to_numpy(float)
        what = "one run"
    if upload_h is not None:  # hours after the upload
        after_axis = True
        wide = wide[wide.index >= upload_h]
        wide.index = wide.index - upload_h
        t = wide.index.to_numpy(float)
    names = [s for s in SOURCES if s in wide.columns] + [
        str(c) for c in wide.columns if c not in SOURCES and c != "total"
    ]
    if not names:
        raise ValueError("no per-source columns to stack (expected " + ", ".join(SOURCES) + ")")
    ys = [wide[s].to_numpy(float) for s in names]
    total = wide["total"].to_numpy(float) if "total" in wide.columns else np.sum(ys, axis=0)
    end = max(float(total[-1]), 1.0)  # an empty run keeps a 0..1 axis
    colours = [COLOURS.get(s, PALETTE[i % len(PALETTE)]) for i, s in enumerate(names)]
    fig, (ax, axr) = plt.subplots(
        2, 1, figsize=(9, 7), sharex=True, constrained_layout=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    labels = [f"{LABELS.get(s, s)}: {y[-1]:,.0f} ({fmt_pct(y[-1] / end)})" for s, y in zip(names, ys, strict=True)]
    ax.stackplot(t, *ys, colors=colours, alpha=0.85, labels=labels)
    ax.plot(t, total, color="black", lw=1.0, label=f"total: {total[-1]:,.0f} views")
    # rates on bins of about 1/80 of the time span (at least one grid step): sparse sources stay legible
    raw = max(float(np.min(np.diff(t))) if len(t) > 1 else 1.0, (t[-1] - t[0]) / 80)
    width = next((w for w in (0.25, 0.5, 1, 2, 3, 6, 12, 24) if w >= raw), raw)
    edges = np.arange(t[0], t[-1] + width / 2, width)
    rates = [np.diff(np.interp(edges, t, y)) / width for y in ys]
    floor = max((float(r.max()) for r in rates), default=0.0) * 1e-6  # below this: rounding noise of the means
    for s, rate, c in zip(names, rates, colours, strict=True):
        if rate.max(initial=0.0) > floor:
            axr.stairs(np.where(rate > floor, rate, np.nan), edges, color=c, lw=1.3, label=LABELS.get(s, s))
    if axr.patches:
        axr.set_yscale("log")
    else:
        _no_views(axr)
    ax.set_ylim(0, end * 1.08)
    ax.set_xlim(min(0.0, float(t[0])) if after_axis else float(t[0]), float(t[-1]))  # from the upload
    for a in (ax, axr):
        a.grid(alpha=0.3)
    count_axis(ax, axr)
    ax.set_ylabel("cumulative views (stacked)")
    axr.set_ylabel(f"views per hour (log; {fmt_num(width)} h bins)")
    axr.set_xlabel(HOURS_LABEL if after_axis else "hours since t = 0 (the simulation clock)")
    ax.legend(loc="upper left", fontsize=9, frameon=True)
    ax.set_title(title or f"views by source ({what})")
    return fig
