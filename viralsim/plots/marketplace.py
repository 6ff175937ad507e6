"""Figures of a marketplace run (the agent engine): who gets the views, what predicts them, one user's day.

:func:`plot_views_ccdf` (distribution of views per video, modes overlaid, Gini
in the legend), :func:`plot_views_vs` (views against creator followers and
against appeal, one column per mode, Spearman ρ in the titles),
:func:`plot_user_day` (one user's day: sessions on a 24 h axis and every video
watched, coloured by source, actions marked) and :func:`plot_feed_narrowing`
(interest entropy and favourite-topic share over time). The numbers come from
:mod:`viralsim.analysis.marketplace`; each function returns a matplotlib Figure.

These take runs in memory (a ``RunResult`` with an agent log, or the log itself),
keyed by mode: a results folder keeps no agent log, so they are not kinds of
:func:`viralsim.plots.draw`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from viralsim.analysis.marketplace import (
    ACTIONS,
    Correlation,
    Log,
    RunOrLog,
    UserDay,
    ccdf,
    concentration,
    feed_narrowing,
    log_of,
    rank_correlations,
)
from viralsim.plots._base import COLOURS, HOURS_LABEL, LABELS, PALETTE, count_axis, pyplot

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MODE_COLOURS", "clock", "plot_feed_narrowing", "plot_user_day", "plot_views_ccdf", "plot_views_vs"]

#: One colour per push mode (content: the For You colour, social: the Following colour).
MODE_COLOURS = {"content": COLOURS["for_you"], "social": COLOURS["following"], "hybrid": "#8b5cf6"}
#: Marker and label of each action on a user's timeline.
ACTION_MARKS = {
    "liked": ("$♥$", "liked"),
    "commented": ("s", "commented"),
    "shared": ("^", "shared"),
    "followed": ("P", "followed the creator"),
    "profile_click": ("D", "opened the profile"),
}


def _colour(mode: str, i: int) -> str:
    return MODE_COLOURS.get(mode, PALETTE[i % len(PALETTE)])


def _check(results_by_mode: Mapping[str, RunOrLog]) -> dict[str, Log]:
    if not results_by_mode:
        raise ValueError("no runs to draw: pass {mode: run}")
    return {str(m): log_of(r) for m, r in results_by_mode.items()}


def clock(hours: float) -> str:
    """Hours after midnight as a 24 h clock time, to the nearest minute: 7.999 -> ``08:00``."""
    minutes = int(round(hours * 60))
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


def _pct(fraction: float) -> str:
    """A share as a percentage with two significant digits: 53 %, 8.6 %, 0.42 %."""
    return f"{100 * fraction:.2g} %" if math.isfinite(fraction) else "–"


def _fmt_rho(mode: str, c: Correlation) -> str:
    if not math.isfinite(c.rho):
        return f"{mode}: ρ undefined"
    p = "p < 0.001" if c.p < 0.001 else f"p = {c.p:.2g}"
    return f"{mode}: ρ = {c.rho:+.2f} ({p})"


def plot_views_ccdf(results_by_mode: Mapping[str, RunOrLog], *, title: str | None = None) -> Figure:
    """Distribution of views per video, one step curve per mode (log-log CCDF).

    Parameters
    ----------
    results_by_mode
        ``{mode: run}``: agent runs (or their logs), e.g. the content, social and hybrid variants.
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        P(views ≥ x) over all videos against x; the legend gives each mode's Gini, the
        share of views of the top 1 % of videos, and how many videos got no view (not on a log axis).
    """
    logs = _check(results_by_mode)
    fig, ax = pyplot().subplots(figsize=(8, 5.5), constrained_layout=True)
    n_max, x_max = 1, 1.0
    for i, (mode, log) in enumerate(logs.items()):
        views = np.asarray(log.videos["views"])
        c = concentration(log)
        x, p = ccdf(views)
        pos = x > 0
        none = int(np.sum(views == 0))
        label = f"{mode}: Gini {c['gini']:.2f}, top 1 % of videos get {_pct(c['top1_share'])} of views" + (
            f" ({none} of {len(views)} videos unseen)" if none else ""
        )
        if pos.any():
            ax.step(x[pos], p[pos], where="post", color=_colour(mode, i), lw=1.8, label=label)
            x_max = max(x_max, float(x[pos][-1]))
        else:
            ax.plot([], [], color=_colour(mode, i), label=label)
        n_max = max(n_max, len(views))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.8, x_max * 1.5)
    ax.set_ylim(0.8 / n_max, 1.3)
    count_axis(ax, axis="x")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: f"{100 * y:g} %"))
    ax.grid(which="both", alpha=0.25)
    ax.set_xlabel("views per video, x (log scale)")
    ax.set_ylabel("videos with at least x views (log)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=9, frameon=False)
    ax.set_title(title or "How unequally views are spread over videos (CCDF)")
    return fig


def _binned_median(x: np.ndarray, y: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``y`` in ``bins`` groups of ``x`` by rank (equal counts), at each group's median ``x``."""
    if len(x) < 2 * bins:
        return np.empty(0), np.empty(0)
    order = np.argsort(x, kind="stable")
    groups = np.array_split(order, bins)
    return np.array([np.median(x[g]) for g in groups]), np.array([np.median(y[g]) for g in groups])


def plot_views_vs(results_by_mode: Mapping[str, RunOrLog], *, title: str | None = None) -> Figure:
    """Views per video against its creator's followers (top row) and its appeal (bottom row), a column per mode.

    Parameters
    ----------
    results_by_mode
        ``{mode: run}``: agent runs (or their logs).
    title
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One dot per video; the line joins the median views of eight equal-count groups
        of x. Views and followers are on symlog axes (log above 1, so videos with no views
        and creators without followers stay on the chart). Each panel's title gives
        Spearman's ρ of views with x and its p value.
    """
    logs = _check(results_by_mode)
    m = len(logs)
    fig, axes = pyplot().subplots(2, m, figsize=(4.2 * m + 0.6, 8), constrained_layout=True, squeeze=False, sharey=True)
    rows = (
        ("followers", "creator_followers", "creator's followers (symlog)"),
        ("appeal", "appeal", "video appeal (latent quality, 0-1)"),
    )
    for j, (mode, log) in enumerate(logs.items()):
        v = log.videos
        views = np.asarray(v["views"], dtype=np.float64)
        rho = rank_correlations(log)
        for i, (key, col, xlabel) in enumerate(rows):
            ax = axes[i, j]
            x = np.asarray(v[col], dtype=np.float64)
            colour = _colour(mode, j)
            ax.scatter(x, views, s=9, color=colour, alpha=0.35, lw=0)
            bx, by = _binned_median(x, views)
            ax.plot(bx, by, color="#111827", lw=1.6, marker="o", ms=4, label="median of 8 equal-count groups")
            ax.set_yscale("symlog", linthresh=1)
            if key == "followers":
                ax.set_xscale("symlog", linthresh=1)
                count_axis(ax, axis="x")
            else:
                ax.set_xlim(0, 1)
            count_axis(ax)
            ax.set_ylim(bottom=-0.3)
            ax.grid(alpha=0.25)
            ax.set_xlabel(xlabel)
            ax.set_title(_fmt_rho(mode, rho[key]), fontsize=11, color=colour if math.isfinite(rho[key].rho) else None)
        axes[0, j].legend(loc="upper left", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("views per video (symlog)")
    fig.suptitle(title or "What predicts a video's views: its creator's followers or its appeal? (Spearman ρ)")
    return fig


def plot_user_day(day: UserDay, *, title: str | None = None) -> Figure:
    """One user's day: sessions on a 24 h local clock (top), then each session video by video (below).

    Parameters
    ----------
    day
        From :func:`viralsim.analysis.marketplace.user_day`.
    title
        Figure title (default: user, day, videos and sessions).

    Returns
    -------
    matplotlib.figure.Figure
        Top: every session as a grey bar on the user's local clock with a tick per video,
        coloured by source. Below: one row per session in which something was watched
        (start, videos, why it ended), each video as a bar from when it started for as long
        as it was watched (faded: not finished), actions marked above it. Sessions that
        found nothing to watch are only on the clock (the title counts them).
    """
    from matplotlib.patches import Patch

    every, views = day.sessions, day.views
    sess = every[every["views"] > 0]
    idle = len(every) - len(sess)
    n = max(len(sess), 1)
    fig, (top, low) = pyplot().subplots(
        2,
        1,
        figsize=(11, 2.6 + 0.55 * n),
        constrained_layout=True,
        gridspec_kw={"height_ratios": [0.8, 0.4 + 0.55 * n]},
    )
    # a session too short to see on a 24 h axis still gets a visible bar (4 minutes wide)
    spans = [(s, max(e - s, 4 / 60)) for s, e in zip(every["start_local_h"], every["end_local_h"], strict=True)]
    top.broken_barh(spans, (0.2, 0.6), color="#d1d5db")
    source = views["source"].astype(str).to_numpy()
    for name, colour in COLOURS.items():
        top.vlines(views["local_h"].to_numpy()[source == name], 0.25, 0.75, color=colour, lw=1.0)
    top.set_xlim(0, 24)
    top.set_ylim(0, 1)
    top.set_yticks([])
    top.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
    top.set_xlabel(f"local time (UTC{day.tz_h:+g} h), day {day.day}: grey bars are sessions, ticks are videos")
    top.grid(axis="x", alpha=0.3)

    for k, s in enumerate(sess.itertuples(index=False)):
        y = n - 1 - k  # first session on top
        mine = views[views["session"] == s.session]
        start = mine["minute"].to_numpy()
        width = mine["watch_s"].to_numpy() / 60.0
        finished = mine["completed"].to_numpy(bool)
        for x0, w, c, done in zip(start, width, mine["source"].astype(str), finished, strict=True):
            low.broken_barh([(x0, w)], (y - 0.3, 0.5), color=COLOURS[c], alpha=1.0 if done else 0.45)
        level = np.zeros(len(mine))  # actions of one video stack upwards
        for act in ACTIONS:
            hit = mine[act].to_numpy(bool)
            low.scatter(
                start[hit] + width[hit] / 2,
                y + 0.32 + 0.16 * level[hit],
                marker=ACTION_MARKS[act][0],
                s=36,
                color="#111827",
                zorder=3,
                lw=0,
            )
            level[hit] += 1
        low.plot([s.minutes, s.minutes], [y - 0.4, y + 0.3], color="#6b7280", lw=1.2, ls=":")
    low.set_yticks(range(n))
    labels = [
        f"{clock(h)}  ·  {w} video{'s' if w != 1 else ''}  ·  {e}"
        for h, w, e in zip(sess["start_local_h"], sess["views"], sess["ended"].astype(str), strict=True)
    ]
    low.set_yticklabels(labels[::-1] if labels else ["nothing watched"])
    low.set_ylim(-0.7, n - 0.2)
    longest = float(sess["minutes"].max()) if len(sess) else 1.0
    low.set_xlim(0, max(longest * 1.05, 0.1))
    low.set_xlabel(
        "minutes since the session started (bar: one video, as long as it was watched; faded: not "
        "finished; dotted: session end)"
    )
    low.grid(axis="x", alpha=0.3)
    low.set_ylabel("sessions")
    handles = [Patch(color=c, label=LABELS[s]) for s, c in COLOURS.items()]
    handles += [
        low.scatter([], [], marker=ACTION_MARKS[a][0], color="#111827", s=40, label=ACTION_MARKS[a][1]) for a in ACTIONS
    ]
    top.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.55), ncol=4, fontsize=8, frameon=False)
    if title is None:
        plural = "s" if len(sess) != 1 else ""
        title = f"User {day.user}, day {day.day}: {len(views)} videos in {len(sess)} session{plural}"
        title += f" ({idle} more found nothing new to watch)" if idle else ""
    fig.suptitle(title)
    return fig


def plot_feed_narrowing(results_by_mode: Mapping[str, RunOrLog], *, title: str | None = None) -> Figure:
    """How narrow users' interests become over the run, one line per mode.

    Returns
    -------
    matplotlib.figure.Figure
        Left: mean entropy of users' interests (lower: narrower); right: mean weight of
        each user's favourite topic (higher: narrower), both against hours since the start.
        The legend gives the change from start to end.
    """
    logs = _check(results_by_mode)
    fig, (ax_e, ax_t) = pyplot().subplots(1, 2, figsize=(11, 4.5), constrained_layout=True, sharex=True)
    horizon = 0.0
    for i, (mode, log) in enumerate(logs.items()):
        f = feed_narrowing(log)
        t = np.asarray(f.drift["time_h"], dtype=np.float64)
        c = _colour(mode, i)
        ax_e.plot(t, f.drift["mean_entropy"], color=c, lw=1.8, label=f"{mode}: {f.entropy_change:+.3f}")
        ax_t.plot(t, f.drift["mean_top_share"], color=c, lw=1.8, label=f"{mode}: {f.top_share_change:+.3f}")
        horizon = max(horizon, float(t.max()) if len(t) else 0.0)
    for ax in (ax_e, ax_t):
        ax.set_xlabel(HOURS_LABEL)
        ax.grid(alpha=0.25)
        if horizon > 0:
            ax.set_xlim(0, horizon)
            ax.set_xticks(np.arange(0, horizon + 1e-9, 24 if horizon <= 240 else 48))
        ax.legend(title="change, start to end", fontsize=9, title_fontsize=9)
    ax_e.set_ylabel("mean entropy of a user's interests, nats\n(lower: narrower)")
    ax_t.set_ylabel("mean weight of a user's favourite topic\n(higher: narrower)")
    fig.suptitle(title or 'Do feeds narrow? The "what you watch" loop')
    return fig
