"""The ``viralsim`` command line (click + rich): the edge where files and terminals live.

Exit codes: 0 ok; 1 bad input or a failed run (one clear line per problem on
stderr, never a traceback); 2 usage errors (click's own). Tables go to stdout,
``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from viralsim._version import __version__

__all__ = ["main"]


def _fail(lines: str | list[str]) -> NoReturn:
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    sys.exit(1)


def _internal_error(file: str, err: Exception) -> NoReturn:
    """A bug, not bad input: one line, or the traceback with VIRALSIM_DEBUG=1."""
    if os.environ.get("VIRALSIM_DEBUG"):
        raise err
    _fail(f"{file}: internal error: {type(err).__name__}: {err} (set VIRALSIM_DEBUG=1 for the traceback)")


def _load(path: str) -> Any:
    from viralsim.io.scenario_file import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as err:
        _fail(err.problems)


def scenarios_dir() -> Path | None:
    """The folder of bundled scenarios ($VIRALSIM_SCENARIOS, the checkout's, or ./scenarios)."""
    candidates = [os.environ.get("VIRALSIM_SCENARIOS"), Path(__file__).resolve().parent.parent / "scenarios"]
    candidates.append(Path.cwd() / "scenarios")
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="viralsim")
def main() -> None:
    """viralsim: how far a short video travels — the content graph vs the social graph."""


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the scenario's seed).")
@click.option("--variant", default=None, help="Apply one of the scenario's [variants.NAME].")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Write views/stages/reach tables (Parquet + CSV) and summary.json here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the reach curve (.png, .svg or .pdf).",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Replications: more than 1 runs an ensemble (median and 90 % interval of each metric).",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="With --runs: local worker processes (default: one per core for large work).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="With --runs: start a local Dask cluster.")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", help="With --runs: use an existing Dask cluster.")
def run(
    file: str,
    seed: int | None,
    variant: str | None,
    out_dir: str | None,
    as_json: bool,
    plot_path: str | None,
    runs: int,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Simulate one run of the scenario FILE and print its summary (--runs N: an ensemble)."""
    if runs > 1:
        _ensemble_run(
            file, _load(file), runs, seed, variant, out_dir, as_json, plot_path, processes, workers, scheduler
        )
        return
    from viralsim.engines import simulate
    from viralsim.io.graph_file import GraphFileError, load_graph
    from viralsim.io.outputs import OutputError, check_writable, summary_json, write_run

    sc = _load(file)
    try:
        chosen = sc.variant(variant)
    except KeyError as err:
        _fail(f"{file}: --variant: {err.args[0]}")
    if plot_path is not None and Path(plot_path).suffix.lower() not in {".png", ".svg", ".pdf"}:
        _fail(f"{plot_path}: --plot: unknown figure type {Path(plot_path).suffix!r} (use .png, .svg or .pdf)")
    try:  # refuse an unusable --out or --plot before spending time on the run
        if out_dir is not None:
            check_writable(out_dir, folder=True)
        if plot_path is not None:
            check_writable(plot_path, folder=False)
    except OutputError as err:
        _fail(str(err))
    try:
        graph = load_graph(chosen, file)
        # the views log is built only when it is written: a big run's summary needs none of it
        result = simulate(sc, seed=seed, variant=variant, graph=graph, record="full" if out_dir else "summary")
    except GraphFileError as err:
        _fail(str(err))
    except (ValueError, MemoryError) as err:
        _fail(f"{file}: {err}")
    except Exception as err:  # a bug, not bad input: still one line, unless debugging
        _internal_error(file, err)
    try:
        if out_dir is not None:
            write_run(result, out_dir)
        if plot_path is not None:
            from viralsim.plots import plot_reach, save_figure

            save_figure(plot_reach(result), plot_path)
    except OutputError as err:
        _fail(str(err))
    except OSError as err:
        _fail(f"{plot_path}: cannot write: {err.strerror or err}")
    peak = _peak_memory_mib()
    if as_json:
        click.echo(json.dumps({**summary_json(result), "peak_memory_mib": peak}))
    else:
        from viralsim.console import print_run

        print_run(result, peak_memory_mib=peak)


def _peak_memory_mib() -> float | None:
    """Peak resident memory of this process so far, in MiB (None where it cannot be known)."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES; print one line per problem (FILE:LINE: field: message)."""
    from viralsim.io.scenario_file import ScenarioError, load_scenario

    problems: list[str] = []
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as err:
            problems.extend(err.problems)
            continue
        variants = f" ({len(sc.variants)} variants)" if sc.variants else ""
        click.echo(f"{f}: ok{variants}")
    if problems:
        _fail(problems)


@main.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    from viralsim.scenario import Scenario

    click.echo(json.dumps(Scenario.model_json_schema(), indent=2))


@main.command()
@click.argument("field", required=False)
def explain(field: str | None) -> None:
    """Explain scenario FIELD (dotted, e.g. platform.push.thresholds.completion) or a table; none: list tables."""
    from viralsim.explain import UnknownField, explain_field, list_tables

    try:
        lines = list_tables() if field is None else explain_field(field, scenarios_dir())
    except UnknownField as err:
        _fail(str(err))
    click.echo("\n".join(lines))


@main.command()
@click.argument("name")
@click.option("--like", default=None, metavar="SCENARIO", help="Start from a bundled scenario (e.g. bees_bike).")
def new(name: str, like: str | None) -> None:
    """Write NAME.toml, a commented starter scenario (never over an existing file)."""
    from viralsim.explain import starter_toml

    path = Path(name if name.endswith(".toml") else f"{name}.toml")
    if path.exists():
        _fail(f"{path}: exists already; not overwritten")
    base = None
    if like is not None:
        folder = scenarios_dir()
        found = Path(like) if like.endswith(".toml") else (folder / f"{like}.toml" if folder else None)
        if found is None or not found.is_file():
            _fail(f"--like {like}: no such bundled scenario (see viralsim scenarios)")
        base = _load(str(found))
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(starter_toml(path.stem, base, like))
    except OSError as err:
        _fail(f"{path}: cannot write: {err.strerror or err}")
    click.echo(path)


@main.command("scenarios")
def list_scenarios() -> None:
    """List the bundled scenarios with their descriptions."""
    import tomllib

    folder = scenarios_dir()
    if folder is None:
        _fail("no scenarios folder found (set VIRALSIM_SCENARIOS)")
    for path in sorted(folder.glob("*.toml")):
        try:
            with open(path, "rb") as fh:
                desc = tomllib.load(fh).get("description", "")
        except (OSError, tomllib.TOMLDecodeError):
            desc = "(unreadable)"
        click.echo(f"{path.stem:<22} {desc}  [{path}]")


# --- ensembles, comparisons, sweeps, plots --------------------------------------------------------

_ENSEMBLE_METRICS = [
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


def _ensemble_options(default_runs: int) -> Any:
    """Options shared by run --runs, compare and sweep."""
    options = [
        click.option(
            "--runs",
            type=click.IntRange(min=1),
            default=default_runs,
            show_default=True,
            help="Runs per variant (and per grid point); run i uses SeedSequence(seed, spawn_key=(i,)).",
        ),
        click.option(
            "--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the scenario's seed)."
        ),
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
    ]

    def wrap(f: Any) -> Any:
        for opt in reversed(options):
            f = opt(f)
        return f

    return wrap


def _numeric_metrics() -> list[str]:
    """Per-run metrics a table or a sweep can summarise."""
    from viralsim.records import numeric_columns
    from viralsim.views import SOURCES

    return [*numeric_columns()] + [f"views_{s}" for s in SOURCES] + ["moderation_delay_h", "moderation_queue_delay_h"]


def _check_plot_path(plot_path: str | None) -> None:
    """A figure path with a known type, in a writable place: checked before any run starts."""
    from viralsim.io.outputs import OutputError, check_writable

    if plot_path is None:
        return
    if Path(plot_path).suffix.lower() not in {".png", ".svg", ".pdf"}:
        _fail(f"{plot_path}: --plot: unknown figure type {Path(plot_path).suffix!r} (use .png, .svg or .pdf)")
    try:
        check_writable(plot_path, folder=False)
    except OutputError as err:
        _fail(str(err))


def _execute(
    file: str,
    plan: Any,
    *,
    out_dir: str | None,
    as_json: bool,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
    what: str,
) -> Any:
    """Run ``plan`` with progress on stderr, into ``out_dir`` if given; one clean line on any failure.

    An ``edge_list`` graph is read once here (from the first scenario of the plan) and
    sent with every chunk.
    """
    from viralsim.console import progress_bar
    from viralsim.experiments.executors import ExecutorError, make_executor
    from viralsim.experiments.run import execute
    from viralsim.io.graph_file import GraphFileError, load_graph
    from viralsim.io.outputs import OutputError

    try:
        graph = load_graph(plan.resolved(plan.variants[0], 0), file)
    except GraphFileError as err:
        _fail(str(err))

    store = None
    try:
        if out_dir is not None:
            from viralsim.io.results_store import ResultStore, input_digests

            store = ResultStore(out_dir, plan, inputs=input_digests(plan, file))
            for note in store.notes:  # damaged files found: each named, then repaired by this run
                click.echo(note, err=True)
        todo = len(plan.keys()) - (store.resumed if store else 0)
        executor = make_executor(
            processes=processes, workers=workers, scheduler=scheduler, work=todo * plan.scenario.population.users
        )
    except (OutputError, ExecutorError) as err:
        if store is not None:
            store.close()
        _fail(str(err))
    enabled = sys.stderr.isatty() and not as_json
    try:
        with progress_bar(what, enabled) as update:
            result = execute(plan, executor, sink=store, progress=update, graph=graph)
        if store is not None:
            store.finish(result)
    except KeyboardInterrupt:
        executor.abort()  # finished chunks are saved; running ones would only delay the exit
        if store is None:
            _fail("interrupted")
        _fail(
            f"interrupted; {len(store.done())} of {len(plan.keys())} runs are saved in {out_dir}: "
            "rerun the same command to resume"
        )
    except (OutputError, ExecutorError) as err:
        _fail(str(err))
    except (ValueError, MemoryError) as err:
        _fail(f"{file}: {err}")
    except Exception as err:  # a bug, not bad input: still one line, unless debugging
        _internal_error(file, err)
    finally:
        executor.close()
        if store is not None:
            store.close()  # the folder's lock (the end of the process would release it too)
    return result


def _ensemble_json(result: Any, metrics: list[str], out_dir: str | None) -> None:
    from viralsim.io.outputs import _jsonable

    data = {k: v for k, v in result.manifest().items() if k != "provenance"}
    data["table"] = result.table(metrics).to_dict(orient="records")
    if result.plan.kind == "compare":
        data["differences"] = result.differences(metrics).to_dict(orient="records")
    data["out"] = out_dir
    click.echo(json.dumps(_jsonable(data)))


def _save_plot(result: Any, plot_path: str | None, kind: str, metric: str = "views") -> None:
    if plot_path is None:
        return
    from viralsim import plots

    try:
        if kind == "sweep":
            fig = plots.plot_sweep(result.runs, list(result.plan.params), metric=metric)
        else:
            fig = plots.plot_reach_bands(result.bands)
        plots.save_figure(fig, plot_path)
    except OSError as err:
        _fail(f"{plot_path}: cannot write: {err.strerror or err}")
    except ValueError as err:
        _fail(f"{plot_path}: {err}")


def _report(
    result: Any, plot_path: str | None, plot_kind: str, metrics: list[str], as_json: bool, out_dir: str | None
) -> None:
    """The figure, then the JSON object or the table that fits the kind of plan."""
    _save_plot(result, plot_path, plot_kind, metrics[0])
    if as_json:
        _ensemble_json(result, metrics, out_dir)
        return
    from viralsim import console

    kind = result.plan.kind
    if kind == "sweep":
        console.print_sweep(result, metrics[0])
    elif kind == "compare":
        console.print_compare(result, metrics)
    else:
        console.print_ensemble(result, metrics)


def _plan_or_fail(file: str, build: Any) -> Any:
    try:
        return build()
    except KeyError as err:
        _fail(f"{file}: {err.args[0]}")
    except ValueError as err:
        _fail(f"{file}: {err}")


def _ensemble_run(
    file: str,
    sc: Any,
    runs: int,
    seed: int | None,
    variant: str | None,
    out_dir: str | None,
    as_json: bool,
    plot_path: str | None,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    from viralsim.experiments.plan import ensemble_plan

    _check_plot_path(plot_path)
    try:
        sc.variant(variant)
    except KeyError as err:
        _fail(f"{file}: --variant: {err.args[0]}")
    plan = _plan_or_fail(file, lambda: ensemble_plan(sc, runs, seed, variant))
    result = _execute(
        file,
        plan,
        out_dir=out_dir,
        as_json=as_json,
        processes=processes,
        workers=workers,
        scheduler=scheduler,
        what=f"{sc.name}: {runs} runs",
    )
    _report(result, plot_path, "reach", _ENSEMBLE_METRICS, as_json, out_dir)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--variants",
    default=None,
    metavar="A,B",
    help="Variants to compare with the base, comma-separated (default: all of them).",
)
@click.option(
    "--metrics",
    default=None,
    metavar="A,B",
    help="Metrics to show, comma-separated (default: views, shares, share_to_view, algorithmic_share, "
    "stages_reached, structural_virality).",
)
@_ensemble_options(default_runs=100)
def compare(
    file: str,
    variants: str | None,
    metrics: str | None,
    runs: int,
    seed: int | None,
    out_dir: str | None,
    as_json: bool,
    plot_path: str | None,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Run the base scenario FILE and its variants on the same seeds; show them side by side."""
    from viralsim.experiments.plan import BASE, compare_plan
    from viralsim.experiments.stats import COMPARE_METRICS

    shown = list(COMPARE_METRICS) if metrics is None else [m.strip() for m in metrics.split(",") if m.strip()]
    bad = [m for m in shown if m not in _numeric_metrics()]
    if bad or not shown:
        _fail(
            f"--metrics {metrics}: unknown metric {bad[0] if bad else '(none)'!r} "
            f"(use some of: {', '.join(_numeric_metrics())})"
        )
    sc = _load(file)
    _check_plot_path(plot_path)
    names = list(sc.variants) if variants is None else [v.strip() for v in variants.split(",") if v.strip()]
    if not names:
        _fail(f"{file}: nothing to compare: the scenario has no [variants] (add one, or use run --runs)")
    if BASE in names:
        _fail(f"{file}: --variants: {BASE!r} is the scenario itself, not a variant")
    plan = _plan_or_fail(file, lambda: compare_plan(sc, names, runs, seed))
    result = _execute(
        file,
        plan,
        out_dir=out_dir,
        as_json=as_json,
        processes=processes,
        workers=workers,
        scheduler=scheduler,
        what=f"{sc.name}: {len(plan.variants)} variants × {runs} runs",
    )
    _report(result, plot_path, "reach", shown, as_json, out_dir)


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
@_ensemble_options(default_runs=20)
def sweep(
    file: str,
    params: tuple[str, ...],
    variant: str | None,
    metric: str,
    runs: int,
    seed: int | None,
    out_dir: str | None,
    as_json: bool,
    plot_path: str | None,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Run the scenario FILE over a grid of parameter values (every combination of the --param values)."""
    from viralsim.experiments.plan import sweep_plan
    from viralsim.io.params import ParamError, parse_params

    sc = _load(file)
    _check_plot_path(plot_path)
    if metric not in _numeric_metrics():
        _fail(f"--metric {metric}: unknown metric (use one of: {', '.join(_numeric_metrics())})")
    try:
        base = sc.variant(variant)
        grid = parse_params(params, base)
    except KeyError as err:
        _fail(f"{file}: --variant: {err.args[0]}")
    except ParamError as err:
        _fail(str(err))
    plan = _plan_or_fail(file, lambda: sweep_plan(sc, grid, runs, seed, variant))
    result = _execute(
        file,
        plan,
        out_dir=out_dir,
        as_json=as_json,
        processes=processes,
        workers=workers,
        scheduler=scheduler,
        what=f"{sc.name}: {len(plan.points)} points × {runs} runs",
    )
    _report(result, plot_path, "sweep", [metric], as_json, out_dir)


@main.command()
@click.argument("results_dir", type=click.Path(file_okay=False))
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["reach", "sources", "funnel", "ccdf", "tree", "sweep"]),
    help="Which figure to draw.",
)
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="Figure file (.png, .svg or .pdf)."
)
@click.option("--variant", default=None, help="Only this variant (where the figure shows one).")
@click.option("--metric", default="views", show_default=True, help="The outcome of a sweep or CCDF figure.")
def plot(results_dir: str, kind: str, output: str, variant: str | None, metric: str) -> None:
    """Draw a figure from a saved results folder (viralsim run/compare/sweep --out) without rerunning."""
    from viralsim import plots
    from viralsim.io.results_dir import ResultsError, load_results

    _check_plot_path(output)
    try:
        results = load_results(results_dir)
        fig = plots.draw(results, kind, variant=variant, metric=metric)
    except ResultsError as err:
        _fail(str(err))
    except ValueError as err:
        _fail(str(err) if str(err).startswith(results_dir) else f"{results_dir}: {err}")
    try:
        plots.save_figure(fig, output)
    except OSError as err:
        _fail(f"{output}: cannot write: {err.strerror or err}")
    click.echo(output)


# --- the interactive HTML report --------------------------------------------------------------------


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
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Root seed (default: the scenario's seed).")
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Paired runs per variant for the medians and 90 % intervals.",
)
@click.option(
    "--variants",
    default=None,
    metavar="A,B",
    help="Variants to compare with the base, comma-separated (default: all of them).",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="Local worker processes for the runs (default: one per core for large work; 1: in this process).",
)
def report(file: str, output: str, seed: int | None, runs: int, variants: str | None, processes: int | None) -> None:
    """Write an interactive HTML report of the scenario FILE: the scenario in words, the animated push, the variants."""
    from viralsim.experiments.executors import ExecutorError, make_executor
    from viralsim.experiments.plan import BASE
    from viralsim.io.graph_file import GraphFileError, load_graph
    from viralsim.io.outputs import OutputError, check_writable

    sc = _load(file)
    if Path(output).suffix.lower() not in {".html", ".htm"}:
        _fail(f"{output}: -o: a report is an .html file, got {Path(output).suffix or 'no extension'!r}")
    names = None if variants is None else list(dict.fromkeys(v.strip() for v in variants.split(",") if v.strip()))
    if names is not None and BASE in names:
        _fail(f"{file}: --variants: {BASE!r} is the scenario itself, not a variant")
    for name in names or []:
        try:
            sc.variant(name)
        except KeyError as err:
            _fail(f"{file}: --variants: {err.args[0]}")
    try:
        check_writable(output, folder=False)
        graph = load_graph(sc, file)
        executor = make_executor(
            processes=processes, work=runs * (1 + len(sc.variants if names is None else names)) * sc.population.users
        )
    except (OutputError, GraphFileError, ExecutorError) as err:
        _fail(str(err))
    if sys.stderr.isatty():
        click.echo(f"{sc.name}: one run and {runs} paired runs per variant ...", err=True)
    from viralsim.report import build_report, write_report

    try:
        page = build_report(sc, seed=seed, runs=runs, variants=names, executor=executor, graph=graph)
        write_report(page, output)
    except OutputError as err:
        _fail(str(err))
    except KeyboardInterrupt:
        _fail("interrupted: no report written")
    except (ValueError, MemoryError) as err:
        _fail(f"{file}: {err}")
    except Exception as err:  # a bug, not bad input: still one line, unless debugging
        _internal_error(file, err)
    finally:
        executor.close()
    click.echo(output)


@main.command()
@click.argument("scenario", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Local port (default: 8050, or a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; only print the address.")
def lab(scenario: str | None, port: int | None, no_browser: bool) -> None:
    """Open the lab in the browser: SCENARIO (a bundled name or a file; default bees_bike) with live controls."""
    from viralsim.lab import LabError, serve

    try:
        serve(scenario, scenarios_dir(), port=port, browser=not no_browser, say=click.echo)
    except LabError as err:
        _fail(str(err))


if __name__ == "__main__":  # pragma: no cover
    main()
