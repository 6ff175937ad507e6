"""``sensitivity``: global sensitivity of a run metric to named scenario fields (SALib: Sobol or Morris).

Each field gets a range (:class:`~viralsim.inference.abc.Prior`); SALib draws the points
(Sobol: Saltelli's scheme with Sobol' sequences, ``n * (d + 2)`` points for ``d`` fields;
Morris: ``n`` trajectories of ``d + 1`` points on a 4-level grid); every point is a grid
point of an experiment plan (the same override and checks as a sweep) run ``runs`` times
on any executor, and the metric's mean over those runs is the model output SALib analyses.

Run ``i`` of every point uses the same random streams (``SeedSequence(seed, spawn_key=(i,))``),
as a sweep's points do: the differences between points are the fields' effects, not noise,
and the indices describe the metric *for those seeds* (more ``runs`` average over more of them).
The results are the same on every executor. No IO, no printing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.experiments.executors import Executor, make_executor
from viralsim.experiments.plan import Plan, check_size
from viralsim.experiments.run import chunk_size, chunks, run_chunk
from viralsim.inference.abc import Prior
from viralsim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METHODS", "sensitivity", "sensitivity_points"]

#: The methods and the columns of their table.
METHODS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "sigma", "mu"),
}


def _problem(priors: Sequence[Prior]) -> dict[str, Any]:
    return {"num_vars": len(priors), "names": [p.path for p in priors], "bounds": [[p.lo, p.hi] for p in priors]}


def sensitivity_points(priors: Sequence[Prior], method: str, n: int, seed: int) -> np.ndarray:
    """The points SALib asks for (rows; one column per field, whole-number fields rounded)."""
    if method == "sobol":
        from SALib.sample import sobol as sobol_sample

        if n < 2 or n & (n - 1):
            raise ValueError(f"--n {n}: Sobol needs a power of two (e.g. 64, 128, 256)")
        x = sobol_sample.sample(_problem(priors), n, calc_second_order=False, scramble=True, seed=seed)
    elif method == "morris":
        from SALib.sample import morris as morris_sample

        if n < 2:
            raise ValueError(f"--n {n}: Morris needs at least 2 trajectories")
        x = morris_sample.sample(_problem(priors), n, num_levels=4, seed=seed)
    else:
        raise ValueError(f"unknown method {method!r} (use sobol or morris)")
    x = np.asarray(x, dtype=np.float64)
    for j, p in enumerate(priors):
        if p.integer:
            x[:, j] = np.round(x[:, j])
    return x


def sensitivity(
    scenario: Scenario,
    priors: Sequence[Prior],
    metric: str = "views",
    *,
    method: str = "sobol",
    n: int = 128,
    runs: int = 1,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Sensitivity indices of ``metric`` to each prior's field, one row per field (pandas).

    Parameters
    ----------
    scenario
        The checked scenario.
    priors
        The fields and their ranges.
    metric
        A per-run column of an experiment (``views``, ``shares``, ``views_for_you``, ...).
    method
        ``"sobol"``: first-order ``S1`` and total ``ST`` indices with 95 % confidence half-widths;
        ``"morris"``: ``mu_star`` (mean absolute elementary effect, with its 95 % half-width),
        ``sigma`` and ``mu``.
    n
        Sobol: base samples (a power of two); Morris: trajectories.
    runs
        Runs per point; the metric is their mean.
    seed
        Root seed of the runs (default: the scenario's) and of SALib's draws.
    executor
        Where the runs go (default: picked by the amount of work).
    progress
        Called with ``(runs done, runs in all)``.
    """
    import pandas as pd

    if not priors:
        raise ValueError("sensitivity needs at least one parameter")
    seed = scenario.seed if seed is None else seed
    x = sensitivity_points(priors, method, n, seed)
    check_size(1, len(x), runs)
    names = tuple(p.path for p in priors)
    points = tuple({p.path: p.value(v) for p, v in zip(priors, row, strict=True)} for row in x)
    plan = Plan("sensitivity", scenario, seed, runs, params=names, points=points)
    y = _outputs(plan, metric, executor, progress)
    bad = int(np.isnan(y).sum())
    if bad:
        raise ValueError(
            f"--metric {metric}: undefined (null) at {bad} of {len(y)} points: pick a metric every run has"
        )
    problem = _problem(priors)
    if method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
    else:
        from SALib.analyze import morris

        res = morris.analyze(problem, x, y, conf_level=0.95, num_levels=4, seed=seed)
    table = pd.DataFrame({"param": list(names), **{c: np.asarray(res[c], dtype=np.float64) for c in METHODS[method]}})
    table.attrs.update(method=method, metric=metric, points=len(x), runs=runs, seed=seed)
    return table


def _outputs(
    plan: Plan, metric: str, executor: Executor | None, progress: Callable[[int, int], None] | None
) -> np.ndarray:
    """The metric's mean over the runs of each point of ``plan``."""
    keys = plan.keys()
    own = executor is None
    if executor is None:
        executor = make_executor("auto", work=len(keys) * plan.scenario.population.users)
    sums = np.zeros(len(plan.points))
    done = 0
    if progress is not None:
        progress(0, len(keys))
    try:
        size = chunk_size(len(keys), executor.workers, executor.min_chunk, executor.max_chunk)
        for rows in executor.map(run_chunk, chunks(plan, keys, size)):
            for r in rows:
                if metric not in r:
                    raise ValueError(f"--metric {metric}: not a per-run metric")
                v = r[metric]
                sums[r["point"]] += math.nan if v is None else float(v)
            done += len(rows)
            if progress is not None:
                progress(done, len(keys))
    finally:
        if own:
            executor.close()
    return sums / plan.runs
