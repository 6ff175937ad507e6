"""Commands about scenario files: ``validate``, ``schema``, ``explain``, ``new``, ``scenarios`` and the ``lab``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from viralsim.cli.common import (
    bundled_scenarios,
    fail,
    find_scenario,
    load,
    main,
    missing_hint,
    scenarios_dir,
    with_hint,
)

__all__ = ["explain", "lab", "list_scenarios", "new", "schema", "validate"]


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Check scenario FILES (or bundled names) and the files they name; one line per problem (FILE:LINE: field: msg)."""
    from viralsim.io.graph_file import graph_file_problems
    from viralsim.io.scenario_file import ScenarioError, load_scenario

    problems: list[str] = []
    for f in files:
        path = find_scenario(f)
        try:
            sc = load_scenario(path)
        except ScenarioError as err:
            problems.extend(with_hint(f, err.problems))
            continue
        in_files = graph_file_problems(sc, path)  # edge lists: read, as a run would
        if in_files:
            problems.extend(in_files)
            continue
        variants = f" ({len(sc.variants)} variants)" if sc.variants else ""
        click.echo(f"{f}: ok{variants}")
    if problems:
        fail(problems)


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
        fail(str(err))
    click.echo("\n".join(lines))


@main.command()
@click.argument("name")
@click.option("--like", default=None, metavar="SCENARIO", help="Start from a bundled scenario (e.g. bees_bike).")
def new(name: str, like: str | None) -> None:
    """Write NAME.toml, a commented starter scenario (never over an existing file)."""
    from viralsim.explain import starter_toml

    path = Path(name if name.endswith(".toml") else f"{name}.toml")
    if path.exists():
        fail(f"{path}: exists already; not overwritten")
    base = None
    if like is not None:
        found = Path(find_scenario(like))
        if not found.is_file():
            fail(f"--like {like}: no such bundled scenario{missing_hint(like) or ' (see viralsim scenarios)'}")
        base = load(str(found))
    try:
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(starter_toml(path.stem, base, like))
    except OSError as err:
        fail(f"{path}: cannot write: {err.strerror or err}")
    click.echo(path)


@main.command("scenarios")
def list_scenarios() -> None:
    """List the bundled scenarios (each runnable by name: viralsim run NAME) with their descriptions."""
    import tomllib

    known = bundled_scenarios()
    if not known:
        fail("no bundled scenarios found (reinstall viralsim, or set VIRALSIM_SCENARIOS to a folder of .toml files)")
    for path in known.values():
        try:
            with open(path, "rb") as fh:
                desc = tomllib.load(fh).get("description", "")
        except (OSError, tomllib.TOMLDecodeError):
            desc = "(unreadable)"
        click.echo(f"{path.stem:<22} {desc}  [{path}]")


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
        fail(str(err))
