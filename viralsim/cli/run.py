"""``viralsim run``: one run of a scenario, its summary and stage table (``--runs N``: an ensemble)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from viralsim.cli.common import (
    SEED,
    check_plot_path,
    load,
    main,
    one_line,
    peak_memory_mib,
    save_figure_or_fail,
    variant_or_fail,
)
from viralsim.cli.progress import wrote

if TYPE_CHECKING:
    from viralsim.scenario import Scenario

__all__ = ["run", "warn_followers"]


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--seed", type=SEED, default=None, help="Root seed (default: the scenario's seed).")
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
@click.option("--quiet", is_flag=True, help="No progress and no list of written files on stderr (errors still).")
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
    quiet: bool,
) -> None:
    """Simulate one run of the scenario FILE and print its summary (--runs N: an ensemble)."""
    sc = load(file)
    chosen = variant_or_fail(file, sc, variant)
    warn_followers(file, chosen, variant)
    if runs > 1:
        from viralsim.cli.experiments import Outputs, ensemble_run

        ensemble_run(
            file, sc, runs, seed, variant, Outputs(out_dir, as_json, plot_path, processes, workers, scheduler, quiet)
        )
        return
    from viralsim.engines import simulate
    from viralsim.io.graph_file import GraphFileError, load_graph
    from viralsim.io.outputs import OutputError, check_writable, summary_json, write_run

    check_plot_path(plot_path)  # refuse an unusable --out or --plot before spending time on the run
    if out_dir is not None:
        with one_line(file, OutputError):
            check_writable(out_dir, folder=True)
    with one_line(file, GraphFileError):
        graph = load_graph(chosen, file)
        # the views log is built only when it is written: a big run's summary needs none of it
        result = simulate(sc, seed=seed, variant=variant, graph=graph, record="full" if out_dir else "summary")
    if out_dir is not None:
        with one_line(file, OutputError):
            written = write_run(result, out_dir)
        wrote(out_dir, [p.name for p in written], quiet=quiet)
    if plot_path is not None:
        from viralsim.plots import plot_reach

        save_figure_or_fail(plot_reach(result), plot_path)
        wrote(plot_path, quiet=quiet)
    peak = peak_memory_mib()
    if as_json:
        click.echo(json.dumps({**summary_json(result), "peak_memory_mib": peak}))
    else:
        from viralsim.console import print_run

        print_run(result, peak_memory_mib=peak)


def warn_followers(file: str, sc: Scenario, variant: str | None) -> None:
    """One ``FILE:LINE: creator.followers: warning: ...`` line on stderr when the followers pre-empt the push.

    The rule and its threshold are :func:`viralsim.scenario.checks.followers_warning`'s;
    the line is the variant's ``creator.followers`` when it sets one, else the base's.
    """
    from viralsim.cli.common import find_scenario
    from viralsim.io.toml_lines import build_index, line_of
    from viralsim.scenario.checks import followers_warning

    found = followers_warning(sc)
    if found is None:
        return
    loc, message = found
    path = find_scenario(file)
    try:
        index = build_index(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):  # read a moment ago: gone since, the warning still stands
        index = {}
    own = ("variants", variant, *loc) if variant is not None else None
    line = index[own] if own in index else line_of(index, loc)
    click.echo(f"{path}:{line}: {'.'.join(map(str, loc))}: {message}", err=True)
