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
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write views/stages/reach tables (Parquet + CSV) and summary.json here.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write the reach curve (.png, .svg or .pdf).")  # fmt: skip
def run(file: str, seed: int | None, variant: str | None, out_dir: str | None, as_json: bool,
        plot_path: str | None) -> None:  # fmt: skip
    """Simulate one run of the scenario FILE and print its summary."""
    from viralsim.engine import simulate
    from viralsim.io.graph_file import GraphFileError, load_graph
    from viralsim.io.outputs import OutputError, summary_json, write_run

    sc = _load(file)
    try:
        chosen = sc.variant(variant)
    except KeyError as err:
        _fail(f"{file}: --variant: {err.args[0]}")
    if plot_path is not None and Path(plot_path).suffix.lower() not in {".png", ".svg", ".pdf"}:
        _fail(f"{plot_path}: --plot: unknown figure type {Path(plot_path).suffix!r} (use .png, .svg or .pdf)")
    try:
        graph = load_graph(chosen, file)
        result = simulate(sc, seed=seed, variant=variant, graph=graph)
    except GraphFileError as err:
        _fail(str(err))
    except (ValueError, MemoryError) as err:
        _fail(f"{file}: {err}")
    except Exception as err:  # a bug, not bad input: still one line, unless debugging
        if os.environ.get("VIRALSIM_DEBUG"):
            raise
        _fail(f"{file}: internal error: {type(err).__name__}: {err} (set VIRALSIM_DEBUG=1 for the traceback)")
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
    if as_json:
        click.echo(json.dumps(summary_json(result)))
    else:
        from viralsim.console import print_run

        print_run(result)


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


if __name__ == "__main__":  # pragma: no cover
    main()
