"""``fit``, ``sensitivity`` and ``observe``: what analytics say about a scenario's fields, and what moves a metric.

``fit`` keeps pyabc's history in ``OUT/fit.db`` with ``OUT/fit.json`` (what was asked):
the same command rerun resumes from the last finished population (a larger
``--populations`` continues a finished fit); a folder holding another fit is refused.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from viralsim.cli.common import SEED, check_plot_path, fail, load, main, one_line, save_figure_or_fail

if TYPE_CHECKING:
    from viralsim.inference import Fit, Observed
    from viralsim.scenario import Scenario

__all__ = ["fit", "observe", "sensitivity"]

_PARAM_HELP = "A fitted field and its uniform range FIELD=LO:HI, e.g. video.appeal=0.3:0.99. Repeat for more."


def _executor_options(f: Any) -> Any:
    f = click.option("--scheduler", default=None, metavar="tcp://HOST:PORT", help="Run on an existing Dask cluster.")(f)
    f = click.option("--workers", type=click.IntRange(min=1), default=None, help="Start a local Dask cluster.")(f)
    return click.option(
        "--processes", type=click.IntRange(min=1), default=None, help="Local worker processes (default: 1)."
    )(f)


def _load_observed(path: str, sc: Scenario, file: str) -> Observed:
    from viralsim.io.observed import ObservedError, check_horizon, read_observed

    try:
        obs = read_observed(path)
        check_horizon(obs, sc.horizon_h, sc.video.upload_h, file)
    except ObservedError as err:
        fail(err.problems)
    return obs


def _priors(file: str, sc: Scenario, params: tuple[str, ...]) -> list[Any]:
    from viralsim.io.params import ParamError, parse_priors

    with one_line(file, ParamError):
        return parse_priors(params, sc)
    raise AssertionError  # unreachable: one_line exits


def _fingerprint(sc: Scenario, priors: list[Any], obs: Observed, seed: int, particles: int) -> str:
    from viralsim._version import __version__

    data = {
        "scenario": sc.model_dump(mode="json"),
        "priors": [[p.path, p.lo, p.hi, p.integer] for p in priors],
        "observed": {k: v for k, v in obs.to_dict().items() if k != "name"},
        "seed": seed,
        "particles": particles,
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--observed", "observed_path", required=True, type=click.Path(dir_okay=False), help="Observed CSV.")
@click.option("--param", "params", multiple=True, required=True, metavar="FIELD=LO:HI", help=_PARAM_HELP)
@click.option("--populations", type=click.IntRange(min=1), default=6, show_default=True, help="ABC-SMC populations.")
@click.option("--particles", type=click.IntRange(min=2), default=200, show_default=True, help="Particles each.")
@click.option("--runs", "max_runs", type=click.IntRange(min=1), default=None, help="Stop after ~N simulations in all.")
@click.option("--predictive", type=click.IntRange(min=1), default=100, show_default=True, help="Predictive runs.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, help="Folder (default: fit_NAME).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the fit (repeatable with 1 process).")
@_executor_options
def fit(
    file: str,
    observed_path: str,
    params: tuple[str, ...],
    populations: int,
    particles: int,
    max_runs: int | None,
    predictive: int,
    out_dir: str | None,
    seed: int,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Fit the --param fields of scenario FILE to a video's observed analytics (ABC-SMC, pyabc)."""
    from viralsim.io.outputs import OutputError, check_writable

    sc = load(file)
    obs = _load_observed(observed_path, sc, file)
    priors = _priors(file, sc, params)
    out = Path(out_dir or f"fit_{sc.name}")
    with one_line(str(out), OutputError):
        check_writable(out, folder=True)
    key = _fingerprint(sc, priors, obs, seed, particles)
    resume = _resume_or_fail(out, key)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"kind": "fit", "scenario": sc.name, "params": list(params), "observed": observed_path}
    (out / "fit.json").write_text(json.dumps({**manifest, "fingerprint": key}, indent=2) + "\n", encoding="utf-8")
    result = _run_fit(file, sc, priors, obs, out, resume, populations, particles, max_runs, seed, processes, workers,
                      scheduler)  # fmt: skip
    _write_fit(file, sc, result, out, predictive, seed, manifest)


def _resume_or_fail(out: Path, key: str) -> bool:
    db, manifest = out / "fit.db", out / "fit.json"
    if not db.exists():
        return False
    try:
        found = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        found = None
    if found != key:
        fail(
            f"{out}: holds another fit (its scenario, --param, observed file, --seed or --particles differ): "
            "use another --out, or delete the folder"
        )
    return True


def _run_fit(
    file: str,
    sc: Scenario,
    priors: list[Any],
    obs: Observed,
    out: Path,
    resume: bool,
    populations: int,
    particles: int,
    max_runs: int | None,
    seed: int,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
) -> Fit:
    from viralsim.experiments.executors import DaskExecutor, ExecutorError
    from viralsim.inference.abc import fit as run_fit

    dask = None
    if workers is not None or scheduler is not None:
        from viralsim.cli.experiments import quiet_dask

        quiet_dask()
        try:
            dask = DaskExecutor(scheduler, workers)
        except ExecutorError as err:
            fail(str(err))
    tty = sys.stderr.isatty()
    if resume:
        click.echo(f"{out}: resuming the fit from its last finished population", err=True)

    def report(done: int, total: int, info: Any) -> None:
        line = (
            f"population {done}/{total}: epsilon {info['epsilon']:.3g}, acceptance "
            f"{100 * info['acceptance_rate']:.0f} %, {int(info['simulations']):,} simulations"
        )
        click.echo(("\r" if tty else "") + line + ("" if tty else "\n"), err=True, nl=False)

    try:
        with one_line(file):
            result = run_fit(
                sc, priors, obs, db=out / "fit.db", populations=populations, particles=particles,
                max_runs=max_runs, seed=seed, processes=processes or 1,
                dask_client=None if dask is None else dask.client, resume=resume, progress=report,
            )  # fmt: skip
    except KeyboardInterrupt:
        fail(f"\ninterrupted; finished populations are saved in {out / 'fit.db'}: rerun the same command to resume")
    finally:
        if dask is not None:
            dask.close()
    if tty:
        click.echo("", err=True)
    return result


def _write_fit(
    file: str, sc: Scenario, result: Fit, out: Path, predictive: int, seed: int, manifest: dict[str, Any]
) -> None:
    from viralsim._version import __version__
    from viralsim.inference.predictive import predictive_bands
    from viralsim.io.outputs import OutputError, write_tables
    from viralsim.plots.inference import plot_pairs, plot_predictive

    with one_line(file):
        bands = predictive_bands(sc, result, predictive, seed)
    summary = result.summary()
    provenance = {
        **manifest,
        "seed": seed,
        "observed_data": result.observed.to_dict(),
        "resolved_scenario": sc.model_dump(mode="json"),
        "version": __version__,
    }
    tables = {"posterior": result.samples, "populations": result.populations, "predictive": bands}
    with one_line(str(out), OutputError):
        write_tables(out, tables, provenance, {"summary": summary.to_dict(orient="records")})
    save_figure_or_fail(plot_pairs(result), str(out / "pairs.png"))
    save_figure_or_fail(plot_predictive(bands, result.observed), str(out / "predictive.png"))
    click.echo(f"{sc.name}: {result.simulations:,} simulations, {len(result.populations)} populations -> {out}/")
    for row in summary.itertuples():
        click.echo(
            f"{row.param}: median {row.median:.4g}, 90 % interval [{row.q05:.4g}, {row.q95:.4g}] "
            f"(prior {row.prior_lo:g}..{row.prior_hi:g})"
        )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--param", "params", multiple=True, required=True, metavar="FIELD=LO:HI", help=_PARAM_HELP)
@click.option("--metric", default="views", show_default=True, help="The per-run outcome analysed.")
@click.option("--method", type=click.Choice(["sobol", "morris"]), default="sobol", show_default=True)
@click.option("--n", "n", type=click.IntRange(min=2), default=128, show_default=True,
              help="Sobol: base samples (a power of two; runs = n x (fields + 2)); Morris: trajectories.")  # fmt: skip
@click.option("--runs", type=click.IntRange(min=1), default=1, show_default=True, help="Runs per point (mean).")
@click.option("--seed", type=SEED, default=None, help="Root seed (default: the scenario's).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="Bar chart (.png/.svg/.pdf).")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@_executor_options
def sensitivity(
    file: str,
    params: tuple[str, ...],
    metric: str,
    method: str,
    n: int,
    runs: int,
    seed: int | None,
    plot_path: str | None,
    as_json: bool,
    processes: int | None,
    workers: int | None,
    scheduler: str | None,
) -> None:
    """Global sensitivity (Sobol or Morris, SALib) of a metric of scenario FILE to the --param fields."""
    from viralsim.cli.experiments import numeric_metrics, quiet_dask
    from viralsim.console import progress_bar
    from viralsim.experiments.executors import ExecutorError, make_executor
    from viralsim.inference.sensitivity import sensitivity as run_sensitivity

    sc = load(file)
    check_plot_path(plot_path)
    if metric not in numeric_metrics():
        fail(f"--metric {metric}: unknown metric (use one of: {', '.join(numeric_metrics())})")
    priors = _priors(file, sc, params)
    if workers is not None or scheduler is not None:
        quiet_dask()
    try:
        executor = make_executor(processes=processes, workers=workers, scheduler=scheduler,
                                 work=n * (len(priors) + 2) * runs * sc.population.users)  # fmt: skip
    except ExecutorError as err:
        fail(str(err))
    try:
        with (
            one_line(file, ExecutorError),
            progress_bar(f"{sc.name}: {method}", sys.stderr.isatty() and not as_json) as bar,
        ):
            table = run_sensitivity(sc, priors, metric, method=method, n=n, runs=runs, seed=seed,
                                    executor=executor, progress=bar)  # fmt: skip
    except KeyboardInterrupt:
        executor.abort()
        fail("interrupted")
    finally:
        executor.close()
    if plot_path is not None:
        from viralsim.plots.inference import plot_sensitivity

        save_figure_or_fail(plot_sensitivity(table), plot_path)
    if as_json:
        from viralsim.io.outputs import _jsonable

        click.echo(json.dumps(_jsonable({**table.attrs, "scenario": sc.name, "indices": table.to_dict("records")})))
        return
    click.echo(f"{sc.name}: {method} indices of {metric}, {table.attrs['points']} points x {runs} run(s)")
    width = max(len(p) for p in table["param"])
    for r in table.to_dict("records"):
        if method == "sobol":
            click.echo(
                f"  {r['param']:<{width}}  first order {r['S1']:7.3f} ± {r['S1_conf']:.3f}   "
                f"total {r['ST']:7.3f} ± {r['ST_conf']:.3f}"
            )
        else:
            click.echo(
                f"  {r['param']:<{width}}  mu* {r['mu_star']:10.4g} ± {r['mu_star_conf']:.3g}   sigma {r['sigma']:.4g}"
            )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--param", "params", multiple=True, metavar="FIELD=VALUE", help="Set a field (one value). Repeat.")
@click.option("--seed", type=SEED, default=None, help="Root seed (default: the scenario's).")
@click.option("--run", "run_index", type=click.IntRange(min=0), default=0, show_default=True, help="Run index.")
@click.option("--every", "every_h", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Hours between rows.")  # fmt: skip
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="The CSV to write.")
def observe(file: str, params: tuple[str, ...], seed: int | None, run_index: int, every_h: float, output: str) -> None:
    """Write the analytics one run of scenario FILE would show (an observed CSV for `viralsim fit`)."""
    from viralsim._version import __version__
    from viralsim.engines import simulate
    from viralsim.experiments.plan import dotted_override
    from viralsim.inference.summary import observed_from_run
    from viralsim.io.observed import write_observed
    from viralsim.io.outputs import OutputError, check_writable
    from viralsim.io.params import ParamError, parse_params
    from viralsim.scenario import merge_tables

    sc = load(file)
    with one_line(output, OutputError):
        check_writable(output, folder=False)
    with one_line(file, ParamError):
        grid = parse_params(params, sc)
    bad = [k for k, v in grid.items() if len(v) != 1]
    if bad:
        fail(f"--param {bad[0]}: give one value (observe makes one run)")
    values = {k: v[0] for k, v in grid.items()}
    override: dict[str, Any] = {}
    for k, v in values.items():
        override = merge_tables(override, dotted_override(k, v))
    with one_line(file):
        run_sc = sc.derive(override) if override else sc
        result = simulate(run_sc, seed=seed, run=run_index)
        obs = observed_from_run(result, every_h)
    provenance = {"scenario": sc.name, "params": values, "seed": result.seed, "run": run_index, "version": __version__}
    with one_line(output):
        write_observed(obs, output, provenance)
    click.echo(
        f"{output}: {len(obs.hours)} hours, {int(obs.views[-1]):,} views ({sc.name}, seed {result.seed}, run {run_index})"
    )
