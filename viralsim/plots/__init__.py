"""Figures (matplotlib, the plotting layer only), drawn from results in memory or saved.

One run: :func:`plot_reach` (cumulative views by source, stages marked),
:func:`plot_sources` (stacked views by source and the hourly rate of each),
:func:`plot_funnel` (cohort sizes and each KPI against its threshold per push
stage) and :func:`plot_tree` (the spread tree, drawn with networkx). Many runs:
:func:`plot_reach_bands` (median reach with 25-75 % and 5-95 % bands, variants
overlaid), :func:`plot_sources` and :func:`plot_funnel` on ensemble tables,
:func:`plot_ccdf` (distribution of final views, log-log) and
:func:`plot_sweep` (outcome against one or two swept parameters),
:func:`plot_metric_panels` (any summary metrics of the variants side by side, one
panel per metric: ``compare --plot FILE --metric NAME``).

:func:`draw` picks the figure for a folder opened by
:func:`viralsim.io.results_dir.load_results` (``viralsim plot RESULTS_DIR
--kind K``). A marketplace run of the agent engine (in memory, keyed by mode):
:func:`plot_views_ccdf` (views per video, Gini), :func:`plot_views_vs` (views
against creator followers and appeal, Spearman ρ), :func:`plot_user_day` (one
user's sessions and videos) and :func:`plot_feed_narrowing` (interest drift). Every function returns a matplotlib Figure; :func:`save_figure`
writes it by extension (PNG, SVG, PDF). Nothing in the core imports this
module; matplotlib is imported on first use with the Agg backend, so no
display is needed.
"""

from typing import TYPE_CHECKING

from viralsim.plots._base import save_figure
from viralsim.plots.marketplace import plot_feed_narrowing, plot_user_day, plot_views_ccdf, plot_views_vs
from viralsim.plots.metrics import plot_metric_panels
from viralsim.plots.outcomes import plot_ccdf, plot_sweep
from viralsim.plots.push import plot_funnel
from viralsim.plots.reach import plot_reach, plot_reach_bands, plot_sources
from viralsim.plots.results import KINDS, draw, kinds_for
from viralsim.plots.tree import plot_tree

if TYPE_CHECKING:  # the figures' type, for callers' annotations (matplotlib stays a plotting import)
    from matplotlib.figure import Figure as Figure

__all__ = [
    "KINDS",
    "draw",
    "kinds_for",
    "plot_ccdf",
    "plot_feed_narrowing",
    "plot_funnel",
    "plot_metric_panels",
    "plot_reach",
    "plot_reach_bands",
    "plot_sources",
    "plot_sweep",
    "plot_tree",
    "plot_user_day",
    "plot_views_ccdf",
    "plot_views_vs",
    "save_figure",
]
