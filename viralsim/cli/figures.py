"""Pictures: ``plot`` (a figure from a saved results folder) and ``report`` (an interactive HTML page)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from viralsim.cli.common import (
    SEED,
    VARIANTS,
    check_plot_path,
    fail,
    load,
    main,
    one_line,
    save_figure_or_fail,
    variant_or_fail,
)

__all__ = ["plot", "report"]


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["reach", "sources", "funnel", "ccdf", "tree", "sweep", "metrics"]),
    help="Which figure to draw (metrics: the --metric charts of compare --plot FILE --metric NAME).",
)
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="Figure file (.png, .svg or .pdf)."
)
@click.option("--variant", default=None, help="Only this variant (where the figure shows one).")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    default=("views",),
    show_default=True,
    metavar="NAME",
    help="The outcome of a sweep or CCDF figure; with --kind metrics, the metrics drawn side by side, one panel "
    "each (repeat, or A,B; e.g. engaged_views, cost_per_engaged_view, views_by_source).",
)
def plot(results_dir: str, kind: str, output: str, variant: str | None, metrics: tuple[str, ...]) -> None:
    """Draw a figure from a saved results folder (viralsim run/compare/sweep --out) without rerunning."""
    from viralsim import plots
    from viralsim.io.results_dir import ResultsError, load_results

    check_plot_path(output, "-o")
    if kind == "metrics":
        from viralsim.cli.experiments import chart_metrics

        metrics = tuple(chart_metrics("--metric", metrics))  # unknown names: one line before the folder is read
    with one_line(results_dir, ResultsError):
        fig = plots.draw(load_results(results_dir), kind, variant=variant, metric=metrics)
    save_figure_or_fail(fig, output)
    click.echo(output)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The report file (.html): one self-contained page that works offline.",
)
@click.option("--seed", type=SEED, default=None, help="Root seed (default: the scenario's seed).")
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Paired runs per variant for the medians and 90 % intervals.",
)
@VARIANTS
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes for the runs (default: one per core for large work; 1: in this process).",
)
@click.option(
    "--metrics",
    default=None,
    metavar="A,B",
    help="Add a chart of these summary metrics, the variants side by side, one panel each "
    "(e.g. engaged_views,cost_per_engaged_view,views_by_source).",
)
def report(
    file: str,
    output: str,
    seed: int | None,
    runs: int,
    variants: str | None,
    processes: int | None,
    metrics: str | None,
) -> None:
    """Write an interactive HTML report of the scenario FILE: the scenario in words, the animated push, the variants."""
    from viralsim.cli.experiments import chart_metrics
    from viralsim.experiments.executors import ExecutorError, make_executor
    from viralsim.experiments.plan import BASE
    from viralsim.io.graph_file import GraphFileError, load_graph
    from viralsim.io.outputs import OutputError, check_writable

    charted = chart_metrics("--metrics", metrics)
    sc = load(file)
    if Path(output).suffix.lower() not in {".html", ".htm"}:
        fail(f"{output}: -o: a report is an .html file, got {Path(output).suffix or 'no extension'!r}")
    names = None if variants is None else list(dict.fromkeys(v.strip() for v in variants.split(",") if v.strip()))
    if names is not None and BASE in names:
        fail(f"{file}: --variants: {BASE!r} is the scenario itself, not a variant")
    for name in names or []:
        variant_or_fail(file, sc, name, "--variants")
    with one_line(file, OutputError, GraphFileError, ExecutorError):
        check_writable(output, folder=False)
        graph = load_graph(sc, file)
        executor = make_executor(
            processes=processes, work=runs * (1 + len(sc.variants if names is None else names)) * sc.population.users
        )
    if sys.stderr.isatty():
        click.echo(f"{sc.name}: one run and {runs} paired runs per variant ...", err=True)
    from viralsim.report import build_report, write_report

    try:
        with one_line(file, OutputError):
            page = build_report(
                sc, seed=seed, runs=runs, variants=names, executor=executor, graph=graph, metrics=charted
            )
            write_report(page, output)
    except KeyboardInterrupt:
        fail("interrupted: no report written")
    finally:
        executor.close()
    click.echo(output)
