"""Summary metrics of variants side by side, as the data of a comparison chart: one panel per metric.

A :class:`Panel` holds, for one metric asked for (``engaged_views``,
``cost_per_engaged_view``, ``views_by_source``, ...), the median and the 5 % and
95 % quantiles of every variant over the runs of an experiment — the numbers of
:meth:`EnsembleResult.table`, taken by the same :func:`~viralsim.experiments.stats.quantiles`,
so a chart never disagrees with the table beside it — with what a chart needs to
draw it honestly: the axis label (the field's label and unit from
:mod:`viralsim.records.fields`, a cost in the scenario's ``creator.fee_currency``),
whether the values span orders of magnitude (then a log axis, drawn with points,
never bars) and the variants' display names. ``views_by_source`` is one panel with
a group per source. Drawn by ``viralsim.plots.plot_metric_panels`` (matplotlib) and the
HTML report (plotly). No IO, no figures.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

import numpy as np

from viralsim.experiments.stats import EnsembleResult, summary_table
from viralsim.records import Summary, metas, numeric_columns
from viralsim.records.words import SOURCE_WORDS, metric_words
from viralsim.views import SOURCES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GROUPS",
    "LOG_SPAN",
    "Panel",
    "UnknownMetric",
    "chart_title",
    "ensemble_metrics",
    "metric_panels",
    "panel_columns",
    "panel_metrics",
    "panels_title",
    "runs_panels",
]

#: A metric that is several per-run columns, drawn as one panel with a group per column.
GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType({"views_by_source": tuple(f"views_{s}" for s in SOURCES)})
#: A panel whose largest value is at least this many times its smallest (all positive) gets a log axis.
LOG_SPAN = 100.0


class UnknownMetric(ValueError):
    """A metric name that is no per-run column nor a group (the message lists the valid names)."""


def ensemble_metrics() -> tuple[str, ...]:
    """Per-run metrics a table, a sweep or a panel can summarise (numeric columns of an experiment's runs)."""
    return (
        *numeric_columns(),
        *(f"views_{s}" for s in SOURCES),
        "moderation_delay_h",
        "moderation_queue_delay_h",
    )


def panel_metrics() -> tuple[str, ...]:
    """Every name a comparison chart accepts: :func:`ensemble_metrics` and the :data:`GROUPS`."""
    return (*ensemble_metrics(), *GROUPS)


def panel_columns(metrics: Sequence[str]) -> list[str]:
    """The per-run columns behind ``metrics`` (a group's columns in its place), each once, in order.

    Raises :class:`UnknownMetric` naming the first unknown metric and every valid name.
    """
    valid = panel_metrics()
    out: list[str] = []
    for m in metrics:
        if m not in valid:
            raise UnknownMetric(f"unknown metric {m!r} (use one of: {', '.join(valid)})")
        out += [c for c in GROUPS.get(m, (m,)) if c not in out]
    return out


@dataclass(frozen=True)
class Panel:
    """One metric of every variant: median and 5 %–95 % range per group (``items``) and variant.

    ``median``, ``q05`` and ``q95`` have shape ``(len(items), len(variants))`` and are the
    table's numbers (NaN where a variant has no value, e.g. a cost without an engaged view);
    ``runs`` counts the runs with a value. A chart shows them times ``scale`` (100 for a
    fraction shown in %) on a log axis when ``log``.
    """

    metric: str
    title: str
    axis: str
    items: tuple[str, ...]
    columns: tuple[str, ...]
    variants: tuple[str, ...]
    labels: tuple[str, ...]
    median: np.ndarray
    q05: np.ndarray
    q95: np.ndarray
    runs: np.ndarray
    scale: float
    log: bool

    def values(self) -> np.ndarray:
        """Every finite number the panel draws (medians and both ends of each range), scaled."""
        x = np.concatenate([self.median.ravel(), self.q05.ravel(), self.q95.ravel()]) * self.scale
        return x[np.isfinite(x)]


def metric_panels(ens: EnsembleResult, metrics: Sequence[str]) -> list[Panel]:
    """The panels of ``metrics`` (names of :func:`panel_metrics`) over the runs of ``ens``, in order.

    Parameters
    ----------
    ens : EnsembleResult
        An ensemble or a comparison (one grid point: a sweep's outcome is ``plot_sweep``'s).
    metrics : sequence of str
        Metric names; a group (``views_by_source``) is one panel of its columns.

    Returns
    -------
    list of Panel
        One per metric. Raises :class:`UnknownMetric` for a name that is no metric.
    """
    plan = ens.plan
    return runs_panels(ens.runs, metrics, plan.labels(), plan.scenario.creator.fee_currency)


def runs_panels(
    runs: pd.DataFrame, metrics: Sequence[str], labels: Mapping[str, str], currency: str | None
) -> list[Panel]:
    """The panels of ``metrics`` over a table of runs (``runs.parquet`` of an ensemble or a comparison).

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run: ``variant`` and the per-run columns (one grid point).
    metrics : sequence of str
        Metric names of :func:`panel_metrics`; a group is one panel of its columns.
    labels : mapping of str to str
        The variants drawn (their keys, in order) and their display names.
    currency : str or None
        The scenario's ``creator.fee_currency`` (a cost's unit).

    Returns
    -------
    list of Panel
        One per metric, the numbers of :func:`~viralsim.experiments.stats.summary_table`. Raises
        :class:`UnknownMetric` for a name that is no metric (or no column of ``runs``).
    """
    panel_columns(metrics)  # every name known, before anything is computed
    missing = [c for c in panel_columns(metrics) if c not in runs.columns]
    if missing:
        raise UnknownMetric(f"no column {missing[0]!r} in these runs (saved by another version?)")
    variants = tuple(labels)
    names = tuple(labels[v] for v in variants)
    out = []
    for m in metrics:
        columns = GROUPS.get(m, (m,))
        table = summary_table(runs, columns).set_index("variant")
        shape = (len(columns), len(variants))
        stats = {q: np.full(shape, math.nan) for q in ("median", "q05", "q95")}
        counts = np.zeros(shape, dtype=np.int64)
        for j, v in enumerate(variants):
            group = runs[runs["variant"] == v]
            for i, c in enumerate(columns):
                for q in stats:
                    stats[q][i, j] = cast(float, table.loc[v, f"{c}_{q}"]) if v in table.index else math.nan
                counts[i, j] = int(np.count_nonzero(np.isfinite(group[c].to_numpy(dtype=np.float64))))
        unit = _unit(columns[0])
        title, axis = _title_axis(m, unit, currency)
        if m in GROUPS:  # a group's panel title says what it splits; its axis, what is counted
            axis = unit
        panel = Panel(
            metric=m,
            title=title,
            axis=axis,
            items=tuple(_item(c) for c in columns) if m in GROUPS else ("",),
            columns=columns,
            variants=variants,
            labels=names,
            median=stats["median"],
            q05=stats["q05"],
            q95=stats["q95"],
            runs=counts,
            scale=100.0 if unit == "fraction" else 1.0,
            log=False,
        )
        out.append(_with_scale(panel))
    return out


def panels_title(ens: EnsembleResult) -> str:
    """``micro_vs_macro: micro-influencer, celebrity — 40 paired runs per variant`` (what a chart compares)."""
    plan = ens.plan
    return chart_title(plan.scenario.name, list(plan.labels().values()), plan.runs)


def chart_title(scenario: str, labels: Sequence[str], runs: int) -> str:
    """The title of a comparison chart: the scenario, the variants' display names and the runs per variant."""
    count = f"{runs} paired runs per variant" if len(labels) > 1 else f"{runs} runs"
    return f"{scenario}: {', '.join(labels)} — {count} (median, 5 %–95 % range)"


def _with_scale(panel: Panel) -> Panel:
    """``panel`` with a log axis when its values are all positive and span :data:`LOG_SPAN` or more."""
    x = panel.values()
    log = bool(len(x)) and bool(np.all(x > 0)) and float(x.max()) / float(x.min()) >= LOG_SPAN
    return dataclasses.replace(panel, log=log)


def _unit(column: str) -> str:
    meta = metas(Summary).get(column)
    if meta is not None:
        return meta.unit
    return "views" if column.startswith("views_") else "h" if column.endswith("_h") else ""


def _title_axis(metric: str, unit: str, currency: str | None) -> tuple[str, str]:
    """The panel's title (the field's label) and its axis label (the label and its unit, unless the label says it)."""
    meta = metas(Summary).get(metric)
    if meta is not None:
        label = meta.label
    else:
        label = metric_words(metric) or metric.removesuffix("_h").replace("_", " ")
    shown = {"fraction": "%", "currency": currency or "fee units", "h": "hours"}.get(unit, unit)
    if not shown or shown in label.split() or (unit == "h" and "hours" in label.split()):
        return label, label
    return label, f"{label} ({shown})"


def _item(column: str) -> str:
    """A group's column as its panel names it: ``views_for_you`` -> ``For You``."""
    return SOURCE_WORDS.get(column.removeprefix("views_"), column)
