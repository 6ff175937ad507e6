"""Figures from a saved results folder: which kinds fit it, and drawing one (``viralsim plot``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from viralsim.plots._base import ensemble_title, fmt_num
from viralsim.plots.metrics import plot_metric_panels
from viralsim.plots.outcomes import plot_ccdf, plot_sweep
from viralsim.plots.push import plot_funnel
from viralsim.plots.reach import plot_reach_bands, plot_sources, reach_figure, run_title
from viralsim.plots.tree import plot_tree

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from viralsim.io.results_dir import Results

__all__ = ["KINDS", "draw", "kinds_for"]

#: Figure kinds of :func:`draw` (``viralsim plot --kind``).
KINDS = ("reach", "sources", "funnel", "ccdf", "tree", "sweep", "metrics")


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return d


def kinds_for(results: Results) -> tuple[str, ...]:
    """The figure kinds that :func:`draw` can make from ``results`` (a folder from ``load_results``)."""
    if results.is_run:
        fit = {"reach", "sources"} if results.has("reach") else set()
        fit |= {"funnel"} if results.rows("stages") else set()  # no stages: the push never started
        fit |= {"tree"} if results.rows("views") else set()
    else:
        fit = {"funnel", "ccdf"} | ({"reach", "sources"} if results.has("bands") else set())
        fit |= {"sweep"} if results.params else {"metrics"}  # a sweep's outcome is its own figure
    return tuple(k for k in KINDS if k in fit)


def _why_not(results: Results, kind: str) -> str:
    if kind == "tree" and not results.is_run:
        return "a spread tree is drawn from the views log of one run: viralsim run FILE --out DIR"
    if kind == "ccdf" and results.is_run:
        return "a distribution over runs needs many runs: viralsim run FILE --runs N --out DIR"
    if kind == "metrics":
        what = "one run" if results.is_run else "a sweep (its outcome per grid point is --kind sweep)"
        return f"a comparison chart needs the runs of viralsim compare or run --runs N, not {what}"
    if kind == "sweep":
        return "a sweep plot needs the folder of viralsim sweep (with swept parameters)"
    if kind == "funnel" and results.is_run and results.has("stages"):
        return "this run has no push stage: the video was removed, or the mode is social"
    if kind == "tree" and results.is_run and results.has("views"):
        return "this run has no views"
    table = {"reach": "reach", "sources": "reach", "funnel": "stages", "tree": "views"}.get(kind, "")
    if not results.is_run and kind in {"reach", "sources"}:
        table = "bands"
    return f"it needs {table}.parquet, which is not in this folder"


def draw(results: Results, kind: str, *, variant: str | None = None, metric: str | Sequence[str] = "views") -> Figure:
    """Draw figure ``kind`` from a results folder, without rerunning anything.

    Parameters
    ----------
    results
        A folder opened with :func:`viralsim.io.results_dir.load_results`.
    kind
        One of :data:`KINDS`. One run: ``reach`` (cumulative views by source,
        stages marked), ``sources`` (stacked views by source and hourly rates),
        ``funnel`` (cohorts and KPIs against thresholds per stage), ``tree``
        (the spread tree). Many runs: ``reach`` (median and quantile bands,
        variants overlaid), ``sources`` (mean views by source of one variant),
        ``funnel`` (share of runs reaching each stage), ``ccdf`` (distribution
        of ``metric`` over runs), ``sweep`` (``metric`` against the swept parameters),
        ``metrics`` (the summary metrics ``metric`` of the variants side by side, one panel
        each: what ``compare --plot FILE --metric NAME`` draws). Variants are named by
        their display names (``base_label``, a variant's ``label``) as in ``compare --plot``.
    variant
        Many runs: draw only this variant (``sources``: which variant to stack,
        default ``base``). One run: must be the run's own variant if given.
    metric
        A numeric column of ``runs.parquet`` for ``ccdf`` and ``sweep`` (default ``views``);
        for ``metrics``, one or more names of ``panel_metrics()`` (a list, or ``"A,B"``).

    Returns
    -------
    matplotlib.figure.Figure
        Save it with :func:`save_figure`.

    Raises
    ------
    ValueError
        One line: an unknown kind, or a kind that does not fit this folder
        (naming the kinds that do), an unknown variant or metric. The message does
        not repeat the folder's path (the caller prefixes it).
    viralsim.io.results_dir.ResultsError
        A table of the folder cannot be read.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown plot kind {kind!r}: choose one of {', '.join(KINDS)}")
    fits = kinds_for(results)
    what = "one-run" if results.is_run else results.kind
    if kind not in fits:
        raise ValueError(
            f"kind {kind!r} does not fit this {what} folder ({_why_not(results, kind)}); "
            f"kinds for this folder: {', '.join(fits) or 'none'}"
        )
    metrics = [m.strip() for item in ([metric] if isinstance(metric, str) else metric) for m in item.split(",")]
    metrics = [m for m in dict.fromkeys(metrics) if m]
    if kind in ("ccdf", "sweep") and len(metrics) != 1:
        raise ValueError(f"kind {kind!r} draws one metric, got {len(metrics)}: {', '.join(metrics) or 'none'}")
    if not metrics:
        raise ValueError("no metric to draw")
    meta, name = results.meta, results.scenario
    if results.is_run:
        own = results.variants[0]
        if variant is not None and variant != own:
            raise ValueError(f"this folder holds one run of variant {own!r}, not {variant!r}")
        label = name + (f" [{own}]" if own != "base" else "")
        seed = meta.get("seed")
        if kind == "reach":
            reach = results.table("reach")
            title = run_title(meta, name, None if own == "base" else own, seed)
            horizon = _get(meta, "provenance", "scenario", "horizon_h") or float(reach["time_h"].max())
            records = results.table("stages").to_dict("records") if results.has("stages") else []
            stages = cast(list[dict[str, Any]], records)  # the columns are strings
            return reach_figure(
                reach,
                stages,
                upload_h=_get(meta, "provenance", "scenario", "video", "upload_h"),
                horizon_h=float(horizon),
                title=title,
                stop_h=meta.get("stop_h"),
                stop_reason=meta.get("stop_reason"),
            )
        if kind == "sources":
            return plot_sources(
                results.table("reach"),
                title=f"{label}: views by source (seed {seed})",
                upload_h=_get(meta, "provenance", "scenario", "video", "upload_h"),
            )
        if kind == "funnel":
            fig = plot_funnel(results.table("stages"))
        else:
            fig = plot_tree(results.table("views"), title=f"{label} (seed {seed})")
            return fig
        fig.axes[0].set_title(f"{label} (seed {seed}): " + fig.axes[0].get_title())
        return fig
    runs = results.table("runs")
    have = results.variants or [str(v) for v in dict.fromkeys(runs["variant"].astype(str))]
    if variant is not None and variant not in have:
        raise ValueError(f"unknown variant {variant!r}: this {what} has {', '.join(have)}")
    # the figures name variants by their display names, as compare --plot and the report do
    names = {v: results.labels.get(v, v) for v in have}
    chosen = None if variant is None else [names[variant]]
    drawn = chosen or list(names.values())
    n = meta.get("runs") or int(runs.groupby(["variant", "point"]).size().max())
    if kind == "metrics":
        return _metrics(results, runs, metrics, names if variant is None else {variant: names[variant]}, n)
    runs = runs.assign(variant=runs["variant"].astype(str).map(lambda v: names.get(v, v)))
    points = meta.get("points") or []
    labels = {
        i: ", ".join(f"{str(k).rsplit('.', 1)[-1]}={fmt_num(x) if isinstance(x, float) else x}" for k, x in pt.items())
        for i, pt in enumerate(points)
        if isinstance(pt, Mapping)
    }
    per = " per point" if len(points) > 1 else ""
    upload_h = _get(meta, "provenance", "scenario", "video", "upload_h")
    if kind in ("reach", "sources"):
        bands = results.table("bands")
        bands = bands.assign(variant=bands["variant"].astype(str).map(lambda v: names.get(v, v)))
    if kind == "reach":
        return plot_reach_bands(
            bands,
            chosen,
            point_labels=labels,
            upload_h=upload_h,
            title=ensemble_title(name, drawn, n, f"cumulative views{per} (line: median, bands: quantiles over runs)"),
        )
    if kind == "sources":
        v = names[variant or ("base" if "base" in have else have[0])]
        at = f", {labels[0]} (the first grid point)" if len(points) > 1 and 0 in labels else ""
        return plot_sources(
            bands,
            variant=v,
            point=0,
            title=f"{name} [{v}]{at}: views by source (mean over {n} runs)",
            upload_h=upload_h,
        )
    if kind == "funnel":
        return plot_funnel(
            runs,
            variants=chosen,
            point_labels=labels,
            title=ensemble_title(name, drawn, n, f"share of runs reaching each push stage{per}"),
        )
    (one,) = metrics
    if kind == "ccdf":
        return plot_ccdf(runs, one, variants=chosen, point_labels=labels, scenario=name)
    return plot_sweep(runs, results.params, one, variants=chosen, scenario=name)


def _metrics(results: Results, runs: pd.DataFrame, metrics: Sequence[str], names: dict[str, str], n: int) -> Figure:
    """The comparison chart of ``compare --plot FILE --metric NAME``, from the folder's runs."""
    from viralsim.experiments.panels import UnknownMetric, chart_title, runs_panels

    currency = _get(results.meta, "provenance", "scenario", "creator", "fee_currency")
    try:
        panels = runs_panels(runs, metrics, names, currency if isinstance(currency, str) else None)
    except UnknownMetric as err:
        raise ValueError(str(err)) from None
    return plot_metric_panels(panels, chart_title(results.scenario, list(names.values()), n))
