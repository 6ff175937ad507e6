"""``compare`` and ``sweep`` (and ``run --runs N``): many runs of a plan, with progress, resumable folders and plots."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from viralsim.cli.progress import progress, wrote

if TYPE_CHECKING:
    from viralsim.experiments.plan import Plan
    from viralsim.experiments.stats import EnsembleResult
    from viralsim.scenario import Scenario

__all__ = ["Outputs", "chart_metrics", "compare", "ensemble_run", "numeric_metrics", "quiet_dask", "run_plan", "sweep"]

#: What ``run --runs N`` shows.
ENSEMBLE_METRICS = [
    "views",
    "unique_viewers",
    "likes",
    "shares",
    "share_to_view",
    "algorithmic_share",
    "stages_reached",
    "structural_virality",
    "time_to_100k_views_h",
]


@dataclass(frozen=True)
class Outputs:
    """Where an experiment goes: its folder, JSON or tables, figure, and the executor asked for."""

    out_dir: str | None
    as_json: bool
    plot_path: str | None
    processes: int | None
    workers: int | None
    scheduler: str | None
    quiet: bool = False  # no progress and no "wrote" lines on stderr


def ensemble_options(default_runs: int) -> Any:
    """Options shared by compare and sweep: ``--runs``, ``--seed``, and the six that make the command's ``out``."""
    options = [
        click.option(
            "--runs",
            type=click.IntRange(min=1),
            default=default_runs,
            show_default=True,
            help="Runs per variant (and per grid point); run i uses SeedSequence(seed, spawn_key=(i,)).",
        ),
        click.option("--seed", type=SEED, default=None, help="Root seed (default: the scenario's seed)."),
        click.option(
            "--out",
            "out_dir",
            type=click.Path(file_okay=False),
            default=None,
            help="Results folder (Parquet + CSV, manifest.json); rerun the same command to resume.",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout (no progress bar)."
        ),
        click.option(
            "--plot",
            "plot_path",
            type=click.Path(dir_okay=False),
            default=None,
            help="Write the main figure (.png, .svg or .pdf).",
        ),
        click.option(
            "--processes",
            type=click.IntRange(min=1),
            default=None,
            help="Local worker processes (default: one per core for large work; 1: in this process).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Start a local Dask cluster with N worker processes.",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="tcp://HOST:PORT",
            help="Run on an existing Dask cluster (viralsim must be installed on its workers).",
        ),
        click.option(
            "--quiet", is_flag=True, help="No progress and no list of written files on stderr (errors still)."
        ),
    ]

    def wrap(f: Any) -> Any:
        @functools.wraps(f)
        def command(
            *args: Any,
            out_dir: str | None,
            as_json: bool,
            plot_path: str | None,
            processes: int | None,
            workers: int | None,
            scheduler: str | None,
            quiet: bool,
            **kwargs: Any,
        ) -> Any:
            # the command gets where its experiment goes as one Outputs, not seven arguments
            return f(*args, out=Outputs(out_dir, as_json, plot_path, processes, workers, scheduler, quiet), **kwargs)

        for opt in reversed(options):
            command = opt(command)
        return command

    return wrap


def numeric_metrics() -> list[str]:
    """Per-run metrics a table or a sweep can summarise."""
    from viralsim.experiments.panels import ensemble_metrics

    return list(ensemble_metrics())


def chart_metrics(option: str, given: tuple[str, ...] | str | None) -> list[str]:
    """The metrics of a comparison chart (``--metric`` repeated or ``A,B``), or one line listing the valid names."""
    from viralsim.experiments.panels import UnknownMetric, panel_columns

    items = [given] if isinstance(given, str) else list(given or ())
    names = list(dict.fromkeys(m.strip() for item in items for m in item.split(",") if m.strip()))
    try:
        panel_columns(names)
    except UnknownMetric as err:
        fail(f"{option}: {err}")
    return names


def plan_or_fail(file: str, build: Callable[[], Plan]) -> Plan:
    """The plan ``build`` makes, or one line saying why it cannot be made."""
    try:
        return build()
    except KeyError as err:
        fail(f"{file}: {err.args[0]}")
    except ValueError as err:
        fail(f"{file}: {err}")


def run_plan(
    file: str,
    plan: Plan,
    out: Outputs,
    what: str,
    plot_kind: str,
    metrics: list[str],
    panels: list[str] | None = None,
) -> EnsembleResult:
    """Execute ``plan`` (:func:`execute`), then the figure, then the JSON object or the table of its kind.

    ``panels`` (metric names) makes the figure a comparison chart of those metrics,
    one panel each (``plots.plot_metric_panels``), instead of the plan kind's own.
    """
    result = execute(file, plan, out, what)
    if out.plot_path is not None:
        from viralsim import plots

        with one_line(out.plot_path):
            name, runs = result.plan.scenario.name, result.plan.runs  # the figure's title names them
            if panels:
                from viralsim.experiments.panels import metric_panels, panels_title

                fig = plots.plot_metric_panels(metric_panels(result, panels), panels_title(result))
            elif plot_kind == "sweep":
                fig = plots.plot_sweep(result.runs, list(result.plan.params), metric=metrics[0], scenario=name)
            else:  # the legend names variants by their display names
                bands = result.bands.assign(variant=result.bands["variant"].map(result.plan.labels()))
                fig = plots.plot_reach_bands(bands, scenario=name, runs=runs)
        save_figure_or_fail(fig, out.plot_path)
        wrote(out.plot_path, quiet=out.quiet)
    if out.as_json:
        _ensemble_json(result, metrics, out.out_dir)
        return result
    from viralsim import console

    if plan.kind == "sweep":
        console.print_sweep(result, metrics[0])
    elif plan.kind == "compare":
        console.print_compare(result, metrics)
    else:
        console.print_ensemble(result, metrics)
    return result


def execute(file: str, plan: Plan, out: Outputs, what: str) -> EnsembleResult:
    """Run ``plan`` with progress on stderr, into ``out.out_dir`` if given; one clean line on any failure.

    An ``edge_list`` graph is read once here (from the first scenario of the plan) and
    sent with every chunk.
    """
    from viralsim.experiments.executors import ExecutorError, make_executor
    from viralsim.experiments.run import execute as execute_plan
    from viralsim.io.graph_file import GraphFileError, load_graph
    from viralsim.io.outputs import OutputError
    from viralsim.io.results_store import ResultStore, input_digests

    with one_line(file, GraphFileError):
        graph = load_graph(plan.resolved(plan.variants[0], 0), file)
    store: ResultStore | None = None
    try:
        if out.out_dir is not None:
            store = ResultStore(out.out_dir, plan, inputs=input_digests(plan, file))
            for note in store.notes:  # damaged files found: each named, then repaired by this run
                click.echo(note, err=True)
        todo = len(plan.keys()) - (store.resumed if store else 0)
        if out.scheduler is not None or out.workers is not None:
            quiet_dask()
        executor = make_executor(
            processes=out.processes,
            workers=out.workers,
            scheduler=out.scheduler,
            work=todo * plan.scenario.population.users,
        )
    except (OutputError, ExecutorError) as err:
        if store is not None:
            store.close()
        fail(str(err))
    label = f"{'run' if plan.kind == 'ensemble' else plan.kind} {plan.scenario.name}"
    try:
        with one_line(file, OutputError, ExecutorError):
            with progress(label, what, as_json=out.as_json, quiet=out.quiet) as update:
                result = execute_plan(plan, executor, sink=store, progress=update, graph=graph)
            if store is not None:
                written = store.finish(result)
                wrote(str(out.out_dir), [p.name for p in written], quiet=out.quiet)
    except KeyboardInterrupt:
        executor.abort()  # finished chunks are saved; running ones would only delay the exit
        if store is None:
            fail("interrupted")
        fail(
            f"interrupted; {len(store.done())} of {len(plan.keys())} runs are saved in {out.out_dir}: "
            "rerun the same command to resume"
        )
    finally:
        executor.close()
        if store is not None:
            store.close()  # the folder's lock (the end of the process would release it too)
    return result


def quiet_dask() -> None:
    """Dask logs a lost scheduler or worker as tracebacks on stderr: the one line of the executor says it all.

    Unless VIRALSIM_DEBUG is set, Dask's loggers (and, through the environment, those of a
    local cluster's worker processes) only report critical errors.
    """
    if os.environ.get("VIRALSIM_DEBUG"):
        return
    import logging

    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")
    try:
        import distributed  # noqa: F401 - its import sets the loggers' levels: ours come after
    except ImportError:  # the executor says how to install it
        return
    quiet = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in ("distributed", "tornado")]
    for name in ("distributed", "tornado", *quiet):  # "distributed.client" has its own level
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _ensemble_json(result: EnsembleResult, metrics: list[str], out_dir: str | None) -> None:
    from viralsim.io.outputs import _jsonable

    data = {k: v for k, v in result.manifest().items() if k != "provenance"}
    labels = result.plan.labels()
    data["labels"] = labels  # variant -> display name (the rows keep the variant's key)
    data["table"] = [{**r, "label": labels.get(str(r["variant"]))} for r in result.table(metrics).to_dict("records")]
    if result.plan.kind == "compare":
        diffs = result.differences(metrics).to_dict(orient="records")
        data["differences"] = [{**r, "label": labels.get(str(r["variant"]))} for r in diffs]
    data["out"] = out_dir
    click.echo(json.dumps(_jsonable(data)))


def ensemble_run(file: str, sc: Scenario, runs: int, seed: int | None, variant: str | None, out: Outputs) -> None:
    """``run --runs N``: ``runs`` replications of the scenario (or a variant)."""
    from viralsim.experiments.plan import ensemble_plan

    check_plot_path(out.plot_path)
    variant_or_fail(file, sc, variant)
    plan = plan_or_fail(file, lambda: ensemble_plan(sc, runs, seed, variant))
    run_plan(file, plan, out, f"{sc.name}: {runs} runs", "reach", ENSEMBLE_METRICS)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@VARIANTS
@click.option(
    "--metrics",
    default=None,
    metavar="A,B",
    help="Metrics to show, comma-separated (default: views, shares, share_to_view, algorithmic_share, "
    "stages_reached, structural_virality).",
)
@click.option(
    "--metric",
    "chart",
    multiple=True,
    metavar="NAME",
    help="With --plot: draw these summary metrics side by side, one panel each, instead of the reach curves "
    "(repeat, or A,B; e.g. engaged_views, cost_per_engaged_view, views_by_source); the table shows them too.",
)
@ensemble_options(default_runs=100)
def compare(
    file: str,
    variants: str | None,
    metrics: str | None,
    chart: tuple[str, ...],
    runs: int,
    seed: int | None,
    out: Outputs,
) -> None:
    """Run the base scenario FILE and its variants on the same seeds; show them side by side."""
    from viralsim.experiments.panels import panel_columns
    from viralsim.experiments.plan import BASE, compare_plan
    from viralsim.experiments.stats import COMPARE_METRICS

    shown = list(COMPARE_METRICS) if metrics is None else [m.strip() for m in metrics.split(",") if m.strip()]
    bad = [m for m in shown if m not in numeric_metrics()]
    if bad or not shown:
        fail(
            f"--metrics {metrics}: unknown metric {bad[0] if bad else '(none)'!r} "
            f"(use some of: {', '.join(numeric_metrics())})"
        )
    drawn = chart_metrics("--metric", chart)
    if drawn and out.plot_path is None:
        fail("--metric: names what --plot FILE draws: give --plot FILE too (the table takes --metrics A,B)")
    shown += [c for c in panel_columns(drawn) if c not in shown]  # the chart's numbers are in the table too
    sc = load(file)
    check_plot_path(out.plot_path)
    names = list(sc.variants) if variants is None else [v.strip() for v in variants.split(",") if v.strip()]
    if not names:
        fail(f"{file}: nothing to compare: the scenario has no [variants] (add one, or use run --runs)")
    if BASE in names:
        fail(f"{file}: --variants: {BASE!r} is the scenario itself, not a variant")
    plan = plan_or_fail(file, lambda: compare_plan(sc, names, runs, seed))
    run_plan(file, plan, out, f"{sc.name}: {len(plan.variants)} variants × {runs} runs", "reach", shown, drawn)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--param",
    "params",
    multiple=True,
    required=True,
    metavar="FIELD=VALUES",
    help="A swept field and its values: a list 0.3,0.5,0.7 or a range START:STOP:COUNT. Repeat for a grid.",
)
@click.option("--variant", default=None, help="Sweep one of the scenario's [variants.NAME] instead of the base.")
@click.option("--metric", default="views", show_default=True, help="The outcome shown in the table and the plot.")
@ensemble_options(default_runs=20)
def sweep(
    file: str,
    params: tuple[str, ...],
    variant: str | None,
    metric: str,
    runs: int,
    seed: int | None,
    out: Outputs,
) -> None:
    """Run the scenario FILE over a grid of parameter values (every combination of the --param values)."""
    from viralsim.experiments.plan import sweep_plan
    from viralsim.io.params import ParamError, parse_params

    sc = load(file)
    check_plot_path(out.plot_path)
    if metric not in numeric_metrics():
        fail(f"--metric {metric}: unknown metric (use one of: {', '.join(numeric_metrics())})")
    base = variant_or_fail(file, sc, variant)
    with one_line(file, ParamError):
        grid = parse_params(params, base)
    plan = plan_or_fail(file, lambda: sweep_plan(sc, grid, runs, seed, variant))
    run_plan(file, plan, out, f"{sc.name}: {len(plan.points)} points × {runs} runs", "sweep", [metric])
