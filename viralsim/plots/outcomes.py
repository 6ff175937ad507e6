"""Outcomes over many runs: the distribution of a final metric (CCDF) and the metric against swept parameters."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.plots._base import (
    check_numeric,
    count_axis,
    ensemble_title,
    fmt_num,
    fmt_thousands,
    metric_label,
    param_label,
    pick_series,
    pyplot,
    select_series,
    series_styles,
    wrap,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["plot_ccdf", "plot_sweep"]


def plot_ccdf(
    runs: pd.DataFrame,
    column: str = "views",
    *,
    variants: Sequence[str] | None = None,
    point_labels: Mapping[int, str] | None = None,
    title: str | None = None,
    scenario: str | None = None,
) -> Figure:
    """Distribution of a final outcome over runs: log-log CCDF per variant.

    Parameters
    ----------
    runs
        ``runs.parquet`` as a DataFrame (one row per run).
    column
        A numeric column of ``runs`` (default ``views``); values ≤ 0 and NaN
        cannot be shown on a log axis and are counted in the legend.
    variants, point_labels
        Variants to draw (default all) and legend labels of grid points.
    title
        Figure title (default: the scenario, the variants drawn, the run count and the metric).
    scenario
        The scenario's name, for the default title.

    Returns
    -------
    matplotlib.figure.Figure
        P(X ≥ x) against x, both log scale, one step curve per variant (its own line
        style and marker; "identical to" the first variant when its runs are), median dotted.
    """
    plt = pyplot()
    check_numeric(runs, column)
    series, note = select_series(runs, variants, None, point_labels)
    fig, ax = plt.subplots(figsize=(8, 5.5), constrained_layout=True)
    lo, n_max = math.inf, 1
    first: tuple[str, np.ndarray] | None = None
    for i, (v, p, label, c) in enumerate(series):
        x = pick_series(runs, v, p)[column].to_numpy(float)
        same = first is not None and np.array_equal(first[1], x, equal_nan=True)
        if first is None:
            first = (label, x)
        n = len(x)
        pos = np.sort(x[np.isfinite(x) & (x > 0)])
        hidden = n - len(pos)
        extra = f"; {hidden} run{'s' if hidden > 1 else ''} at 0 or none not shown" if hidden else ""
        finite = x[np.isfinite(x)]
        med = float(np.median(finite)) if len(finite) else float("nan")
        lab = f"{label}: median {fmt_thousands(med) if np.isfinite(med) else '–'} ({n} runs{extra})"
        lab += f" — identical to {first[0]}" if same and first else ""
        if len(pos):
            y = 1.0 - np.arange(len(pos)) / n  # fraction of all runs with at least pos[i]
            ls, marker = series_styles(i)
            every = max(1, len(pos) // 12)
            ax.step(pos, y, where="post", color=c, lw=1.8, ls=ls, marker=marker, ms=4, markevery=every, label=lab)
            ax.axvline(med, color=c, lw=0.8, ls=":") if med > 0 else None
            lo = min(lo, float(pos[0]))
        else:
            ax.plot([], [], color=c, label=lab)
        n_max = max(n_max, n)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(0.8 / n_max, 1.3)
    if math.isfinite(lo):
        ax.set_xlim(left=lo / 1.5)
    count_axis(ax, axis="x")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: f"{100 * y:g} %"))
    ax.grid(which="both", alpha=0.25)
    what = metric_label(column, per_run=False)
    ax.set_xlabel(f"{metric_label(column)} (log scale; dotted: median)")
    ax.set_ylabel(f"runs with at least x {what} (log)")
    ax.legend(loc="best", fontsize=9, frameon=True)
    names = list(dict.fromkeys(v for v, _p, _l, _c in series))
    text = title or ensemble_title(scenario, names, n_max, f"distribution of {metric_label(column)} (CCDF)")
    ax.set_title(wrap(text + (f"\n({note})" if note else "")))
    return fig


def _values(col: pd.Series) -> tuple[list[Any], bool]:
    """Distinct values of a parameter column, sorted; whether they are numbers."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    vals = sorted(col.dropna().unique().tolist(), key=(float if numeric else str))
    return vals, numeric


def plot_sweep(
    runs: pd.DataFrame,
    params: Sequence[str],
    metric: str = "views",
    *,
    variants: Sequence[str] | None = None,
    title: str | None = None,
    scenario: str | None = None,
) -> Figure:
    """An outcome against the swept parameters.

    Parameters
    ----------
    runs
        ``runs.parquet`` of a sweep (one column per swept parameter, named by its dotted path).
    params
        The swept parameters (one or two of the ``runs`` columns).
    metric
        A numeric column of ``runs`` (default ``views``).
    variants
        Variants to draw (default all).
    title
        Figure title (default: the scenario, the variants, the runs per point and what is shown).
    scenario
        The scenario's name, for the default title.

    Returns
    -------
    matplotlib.figure.Figure
        Axes are labelled from the fields' descriptions and the metric's label. One parameter: the median over runs with 25-75 % and 5-95 % bands
        against the parameter, one line per variant (log y when the medians span
        more than two decades). Two parameters: a heat-map of the median per
        variant, cells annotated, one colour scale for all panels.

    Raises
    ------
    ValueError
        No parameter, more than two, a parameter or metric not in ``runs``, an unknown variant.
    """
    params = list(params)
    if not params:
        raise ValueError("no swept parameters: a sweep plot needs the folder of viralsim sweep")
    if len(params) > 2:
        raise ValueError(
            f"a sweep over {len(params)} parameters ({', '.join(params)}) does not fit one figure: "
            "plot_sweep draws one parameter (lines) or two (heat-map)"
        )
    missing = [p for p in params if p not in runs.columns]
    if missing:
        raise ValueError(
            f"swept parameter {', '.join(missing)} not in runs (columns: {', '.join(map(str, runs.columns))})"
        )
    check_numeric(runs, metric)
    series, _ = select_series(runs.assign(point=0), variants, None, None)
    what = metric_label(metric, per_run=False)
    names = list(dict.fromkeys(v for v, _p, _l, _c in series))
    per_point = int(runs.groupby(["variant", *params]).size().max()) if len(runs) else 0
    default = ensemble_title(scenario, names, per_point, "").removesuffix(": ") + " per point: "
    plt = pyplot()
    if len(params) == 1:
        p = params[0]
        vals, numeric = _values(runs[p])
        fig, ax = plt.subplots(figsize=(8, 5.2), constrained_layout=True)
        meds = []
        for j, (v, _pt, label, c) in enumerate(series):
            grp = runs[runs["variant"].astype(str) == v].groupby(p)[metric]
            # a list of quantiles (one column each), which pandas-stubs does not know
            q = grp.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack().reindex(vals)  # type: ignore[arg-type]
            meds.extend(q[0.5].dropna().tolist())
            if numeric:  # an ordered axis: bands between the points
                xs = np.asarray(vals, dtype=float)
                ax.fill_between(xs, q[0.05], q[0.95], color=c, alpha=0.12, lw=0)
                ax.fill_between(xs, q[0.25], q[0.75], color=c, alpha=0.28, lw=0)
                ls, marker = series_styles(j)
                ax.plot(xs, q[0.5], color=c, lw=1.8, ls=ls, marker=marker, ms=5, label=f"{label}: median")
                continue
            # categories (e.g. a mode): no line between them; a bar per category, variants side by side
            xs = np.arange(len(vals), dtype=float) + (j - (len(series) - 1) / 2) * 0.8 / len(series)
            ax.vlines(xs, q[0.05], q[0.95], color=c, alpha=0.35, lw=2)
            ax.vlines(xs, q[0.25], q[0.75], color=c, alpha=0.7, lw=7)
            ax.plot(xs, q[0.5], color=c, lw=0, marker=series_styles(j)[1], ms=7, mec="white", label=f"{label}: median")
        pos = [m for m in meds if m > 0]
        if pos and len(pos) == len(meds) and max(pos) / min(pos) > 100:
            ax.set_yscale("log")
        if not numeric:
            ax.set_xticks(np.arange(len(vals)), [str(x) for x in vals])
            ax.set_xlim(-0.5, len(vals) - 0.5)
        from matplotlib.patches import Patch

        handles, _ = ax.get_legend_handles_labels()
        handles += [
            Patch(color="grey", alpha=0.45, lw=0, label="25–75 % of runs"),
            Patch(color="grey", alpha=0.18, lw=0, label="5–95 % of runs"),
        ]
        ax.legend(handles=handles, fontsize=9, frameon=True, loc="best")
        count_axis(ax)
        ax.grid(alpha=0.3)
        ax.set_xlabel(param_label(p))
        ax.set_ylabel(metric_label(metric))
        ax.set_title(wrap(title or f"{default}{what} against {p}"))
        return fig
    from matplotlib.colors import LogNorm, Normalize

    py, px = params
    yv, _ = _values(runs[py])
    xv, _ = _values(runs[px])
    grids = []
    for v, _pt, _label, _c in series:
        sub = runs[runs["variant"].astype(str) == v]
        grids.append(sub.groupby([py, px])[metric].median().unstack().reindex(index=yv, columns=xv).to_numpy(float))
    allv = np.concatenate([g.ravel() for g in grids])
    allv = allv[np.isfinite(allv)]
    lo, hi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
    norm = LogNorm(lo, hi) if lo > 0 and hi / lo > 30 else Normalize(lo, hi if hi > lo else lo + 1)
    ncol = min(len(series), 3)
    nrow = math.ceil(len(series) / ncol)
    fig, axes = plt.subplots(
        nrow,
        ncol,
        figsize=(1.2 + ncol * max(3.5, 0.8 * len(xv) + 1.5), 1.0 + nrow * max(3.0, 0.55 * len(yv) + 1.4)),
        squeeze=False,
        constrained_layout=True,
    )
    cmap = plt.get_cmap("viridis").with_extremes(bad="#e5e7eb")
    im = None
    for ax, (_v, _pt, label, _c), grid in zip(axes.ravel(), series, grids, strict=False):
        im = ax.imshow(np.ma.masked_invalid(grid), origin="lower", aspect="auto", cmap=cmap, norm=norm)
        for i in range(len(yv)):
            for j in range(len(xv)):
                val = grid[i, j]
                rgb = cmap(norm(val))[:3] if np.isfinite(val) else (0.9, 0.9, 0.9)
                dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.5
                ax.text(j, i, fmt_num(val), ha="center", va="center", fontsize=8, color="white" if dark else "black")
        ax.set_xticks(np.arange(len(xv)), [fmt_num(x) if isinstance(x, float) else str(x) for x in xv])
        ax.set_yticks(np.arange(len(yv)), [fmt_num(y) if isinstance(y, float) else str(y) for y in yv])
        ax.set_xlabel(param_label(px))
        ax.set_ylabel(param_label(py))
        ax.set_title(label if len(series) > 1 else "", fontsize=10)
    for ax in axes.ravel()[len(series) :]:
        ax.axis("off")
    assert im is not None, "no grid to draw"  # series is never empty here
    cbar = fig.colorbar(im, ax=axes.ravel().tolist(), label=f"median {metric_label(metric)}", shrink=0.9)
    from matplotlib.ticker import FuncFormatter, NullFormatter

    cbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _p: fmt_num(x)))
    cbar.ax.yaxis.set_minor_formatter(NullFormatter())
    import textwrap

    width = int(fig.get_figwidth() * 9)  # characters that fit across the figure at the title's size
    fig.suptitle(textwrap.fill(title or f"{default}median {what} per grid point", width))
    return fig
