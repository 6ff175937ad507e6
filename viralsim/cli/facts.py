"""``viralsim facts``: run a marketplace scenario and check the stylised facts of real platforms.

Prints one row per fact of :data:`viralsim.analysis.stylised.FACTS`: the measured value
over the pooled runs, the band, the published figure and its source, and ``pass`` or
``FAIL``. The exit code is 0 whatever the facts say (it is a measurement, not a test);
1 for bad input (a scenario that is not an agent-engine marketplace, a bad variant).
"""

from __future__ import annotations

import json
from typing import Any

import click

from viralsim.cli.common import SEED, fail, load, main, variant_or_fail

__all__ = ["facts"]


def _one(args: tuple[Any, int, int, str | None, float]) -> dict[str, Any]:
    """One run's fact data (a top-level function: it runs in worker processes)."""
    from viralsim.analysis.stylised import run_data
    from viralsim.engines import simulate

    sc, seed, run, variant, min_age_h = args
    return run_data(simulate(sc, seed=seed, run=run, variant=variant, record="full"), min_age_h=min_age_h)


def _format(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--runs", type=click.IntRange(min=1), default=20, show_default=True, help="Runs pooled (seeds).")
@click.option("--seed", type=SEED, default=None, help="Root seed (default: the scenario's seed); run i uses (seed, i).")
@click.option("--variant", default=None, help="Apply one of the scenario's [variants.NAME].")
@click.option(
    "--min-age-h",
    type=click.FloatRange(min=0.0),
    default=24.0,
    show_default=True,
    help="Per-video facts count the videos uploaded at least this many hours before the horizon.",
)
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True, help="Local worker processes.")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def facts(
    file: str, runs: int, seed: int | None, variant: str | None, min_age_h: float, processes: int, as_json: bool
) -> None:
    """Measure the stylised facts of short-video platforms on RUNS runs of the marketplace scenario FILE."""
    from viralsim.analysis.stylised import measure

    sc = load(file)
    chosen = variant_or_fail(file, sc, variant)
    if chosen.engine != "agents" or chosen.marketplace is None:
        fail(f'{file}: engine: the facts need engine = "agents" and a [marketplace] (views per video of many videos)')
    if min_age_h >= chosen.horizon_h:
        fail(f"--min-age-h {min_age_h:g}: must be below the scenario's horizon_h ({chosen.horizon_h:g})")
    root = sc.seed if seed is None else seed
    jobs = [(sc, root, i, variant, min_age_h) for i in range(runs)]
    if processes > 1 and runs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(processes, runs)) as pool:
            data = list(pool.map(_one, jobs))
    else:
        data = [_one(j) for j in jobs]
    rows = [m.to_dict() for m in measure(data)]
    passed = sum(r["passed"] for r in rows)
    if as_json:
        click.echo(json.dumps({"scenario": sc.name, "variant": variant, "seed": root, "runs": runs, "facts": rows}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{sc.name}: stylised facts over {runs} runs (seed {root})")
    for col in ("fact", "measured", "band", "published", "", "source"):
        table.add_column(col, overflow="fold")
    for r in rows:
        low = "-inf" if r["low"] is None else f"{r['low']:g}"
        high = "inf" if r["high"] is None else f"{r['high']:g}"
        mark = "[green]pass[/]" if r["passed"] else "[red]FAIL[/]"
        table.add_row(r["label"], _format(r["value"]), f"[{low}, {high}]", r["published"], mark, r["source"])
    console = Console(width=200)
    console.print(table)
    click.echo(f"{passed} of {len(rows)} facts inside their bands")
