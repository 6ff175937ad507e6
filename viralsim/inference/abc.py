"""``fit``: approximate Bayesian computation (ABC-SMC, pyabc) of scenario fields from one video's analytics.

The user names dotted fields of the scenario with uniform priors (:class:`Prior`);
every particle is the scenario with those fields set (the same override and checks
as a sweep's grid points), simulated once in summary mode and compared with the
observation through the statistics of :mod:`viralsim.inference.summary`. The
distance is pyabc's adaptive weighted Euclidean norm: each statistic is divided
by its median absolute deviation over the last population's simulations (refitted
every population), times its fixed weight (:func:`~viralsim.inference.summary.statistic_weights`).
The acceptance threshold of each population is the median distance of the one before.

Reproducibility: pyabc draws parameters from numpy's *global* generator; :func:`fit`
seeds it with ``seed`` and each simulation's run index comes from the same stream, so
a fit in one process (``processes=1``) with a given seed is identical run to run.
With several processes or Dask, which particle is simulated where, and in which
order they are accepted, depends on timing: such a fit is a valid but not a
repeatable sample. A fit resumed from its database continues from its last complete
population (the interrupted one is drawn again), so it is not bit-identical to an
uninterrupted one either. File IO only through pyabc's SQLite database ``db``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.engines import simulate
from viralsim.engines.checks import ensure_checked
from viralsim.experiments.plan import dotted_override
from viralsim.inference.summary import (
    Observed,
    observed_statistics,
    simulated_statistics,
    statistic_names,
    statistic_weights,
)
from viralsim.scenario import Scenario, merge_tables

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Fit", "Prior", "fit", "override", "weighted_quantile"]

#: The share of the posterior inside the reported interval, and its quantiles.
INTERVAL = (0.05, 0.95)
#: Run indices of the simulations are drawn from 0 .. RUN_RANGE - 1.
RUN_RANGE = 2**31


@dataclass(frozen=True)
class Prior:
    """A uniform prior on one dotted scenario field: ``lo`` .. ``hi`` (whole numbers if ``integer``)."""

    path: str
    lo: float
    hi: float
    integer: bool = False

    def value(self, x: float) -> float | int:
        """The field's value for a drawn ``x`` (rounded for a whole-number field)."""
        return round(x) if self.integer else float(x)


def override(priors: Sequence[Prior], values: Sequence[float]) -> dict[str, Any]:
    """The scenario override setting each prior's field to its value (as a sweep's grid point does)."""
    out: dict[str, Any] = {}
    for prior, x in zip(priors, values, strict=True):
        out = merge_tables(out, dotted_override(prior.path, prior.value(x)))
    return out


class Model:
    """One simulation of a particle (pyabc calls it with ``{"p0": x0, "p1": x1, ...}``); picklable."""

    def __init__(self, scenario: Scenario, priors: Sequence[Prior], observed: Observed, seed: int) -> None:
        self.scenario = scenario
        self.priors = tuple(priors)
        self.observed = observed
        self.seed = seed
        self.names = statistic_names(observed)

    def __call__(self, pars: Mapping[str, float]) -> dict[str, float]:
        run = int(np.random.randint(RUN_RANGE))  # noqa: NPY002 - pyabc's global stream: seeded by fit()
        values = [float(pars[f"p{i}"]) for i in range(len(self.priors))]
        try:
            sc = ensure_checked(self.scenario.derive(override(self.priors, values)), "summary")
        except ValueError:  # a combination the scenario refuses: the particle is never accepted
            return dict.fromkeys(self.names, math.nan)
        res = simulate(sc, seed=self.seed, run=run, record="summary")
        return simulated_statistics(res.summary, res.reach_curve, sc.video.upload_h, self.observed)


@dataclass(frozen=True)
class Fit:
    """A finished (or stopped) fit: the last population's weighted particles and the run's history.

    Attributes
    ----------
    priors
        The fitted fields and their priors.
    samples
        The posterior sample (pandas): one column per field (its dotted path), ``weight`` (summing to 1).
    populations
        One row per population (pandas): ``population``, ``epsilon``, ``particles``, ``simulations``.
    observed
        The observation fitted.
    seed
        The seed of the fit.
    simulations
        Simulations run in all (the populations' and the prior sample that calibrates the distance).
    """

    priors: tuple[Prior, ...]
    samples: pd.DataFrame
    populations: pd.DataFrame
    observed: Observed
    seed: int
    simulations: int

    def summary(self) -> pd.DataFrame:
        """Per field: the posterior median, its 90 % interval (5 %, 95 %) and the prior's bounds."""
        import pandas as pd

        w = self.samples["weight"].to_numpy()
        rows = []
        for p in self.priors:
            x = self.samples[p.path].to_numpy(dtype=np.float64)
            q05, q50, q95 = weighted_quantile(x, w, (INTERVAL[0], 0.5, INTERVAL[1]))
            rows.append({"param": p.path, "median": q50, "q05": q05, "q95": q95, "prior_lo": p.lo, "prior_hi": p.hi})
        return pd.DataFrame(rows)

    def draw(self, n: int, seed: int) -> np.ndarray:
        """``n`` parameter vectors drawn from the posterior (rows; columns in prior order)."""
        rng = np.random.default_rng(seed)
        w = self.samples["weight"].to_numpy(dtype=np.float64)
        idx = rng.choice(len(w), size=n, p=w / w.sum())
        return self.samples[[p.path for p in self.priors]].to_numpy(dtype=np.float64)[idx]


def weighted_quantile(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of the weighted sample ``x`` (the weighted empirical CDF, linear between mid-points)."""
    order = np.argsort(x, kind="stable")
    xs, ws = np.asarray(x, dtype=np.float64)[order], np.asarray(w, dtype=np.float64)[order]
    cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return [float(np.interp(q, cdf, xs)) for q in qs]


Progress = Callable[[int, int, Mapping[str, float]], None]


def fit(
    scenario: Scenario,
    priors: Sequence[Prior],
    observed: Observed,
    *,
    db: str | Path | None,
    populations: int = 6,
    particles: int = 200,
    quantile: float = 0.5,
    max_runs: int | None = None,
    seed: int = 0,
    processes: int = 1,
    dask_client: Any = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> Fit:
    """Fit the ``priors``' fields of ``scenario`` to ``observed`` by ABC-SMC.

    Parameters
    ----------
    scenario
        The checked scenario whose fields are fitted (its other fields stay as they are).
    priors
        The fields and their uniform priors.
    observed
        The video's analytics.
    db
        The SQLite file of pyabc's history (created; with ``resume``, continued);
        None: an in-memory database (nothing written, nothing to resume).
    populations
        How many populations in all (a resumed fit counts the ones already done).
    particles
        Particles per population.
    quantile
        The acceptance threshold of a population is this quantile of the distances of the
        one before (0.5: the median). Lower shrinks the threshold faster: fewer populations
        reach a given tolerance, each at a lower acceptance rate.
    max_runs
        Stop after the population in which the simulations in all reach this many (None: no limit).
    seed
        Seeds pyabc's draws and, through them, every simulation's run index.
    processes
        Local processes (pyabc's multicore sampler when > 1; not repeatable, see the module's notes).
    dask_client
        A ``distributed.Client``: pyabc's Dask sampler on its cluster (not repeatable either).
    resume
        Continue the fit stored in ``db`` instead of starting a new one.
    progress
        Called after each population with ``(done, populations, info)``; ``info`` has
        ``epsilon``, ``acceptance_rate`` and ``simulations`` (in all).
    """
    import pyabc

    if not priors:
        raise ValueError("fit needs at least one parameter")
    if populations < 1 or particles < 2:
        raise ValueError("fit needs populations >= 1 and particles >= 2")
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"fit needs 0 < quantile < 1, got {quantile}")
    prior = pyabc.Distribution(**{f"p{i}": pyabc.RV("uniform", p.lo, p.hi - p.lo) for i, p in enumerate(priors)})
    distance = pyabc.AdaptivePNormDistance(
        p=2,
        fixed_weights=statistic_weights(observed),
        scale_function=pyabc.distance.mad_or_cmad,
        max_scale_weight_ratio=100.0,  # a statistic that hardly varies must not take over the distance
    )
    sampler = _sampler(processes, dask_client)
    model = Model(scenario, priors, observed, seed)
    if db is None and resume:
        raise ValueError("a fit without a database file cannot be resumed")
    url = "sqlite://" if db is None else f"sqlite:///{Path(db).resolve()}"
    with _quiet_pyabc():
        np.random.seed(seed)  # noqa: NPY002, TID251 - pyabc samples from numpy's global generator; fit() owns it here
        abc = pyabc.ABCSMC(
            model,
            prior,
            distance,
            population_size=particles,
            sampler=sampler,
            eps=pyabc.QuantileEpsilon(alpha=quantile),
        )
        if resume:
            abc.load(url, 1)
        else:
            abc.new(url, observed_statistics(observed))
        done = abc.history.max_t + 1
        if progress is not None and done > 0:
            progress(done, populations, _info(abc.history))
        left = populations - done
        if left > 0 and not _over_budget(abc.history, max_runs):
            t = abc.initialize_components_before_run(
                minimum_epsilon=0.0,
                max_nr_populations=left,
                min_acceptance_rate=0.0,
                max_total_nr_simulations=np.inf if max_runs is None else max_runs,
                max_walltime=None,
                min_eps_diff=0.0,
            )
            while True:  # pyabc's run() loop, with a progress report after each population
                ret = abc.run_generation(t=t)
                if progress is not None:
                    progress(t + 1, populations, _info(abc.history))
                if not ret["successful"] or abc.check_terminate(t=t, acceptance_rate=ret["acceptance_rate"]):
                    break
                t += 1
            abc.history.done()
        sampler.stop()
        return _result(abc.history, priors, observed, seed)


def _sampler(processes: int, dask_client: Any) -> Any:
    import pyabc

    if dask_client is not None:
        return pyabc.sampler.DaskDistributedSampler(dask_client=dask_client, batch_size=4)
    if processes > 1:
        return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=processes)
    return pyabc.sampler.SingleCoreSampler()


def _over_budget(history: Any, max_runs: int | None) -> bool:
    return max_runs is not None and history.max_t >= 0 and history.total_nr_simulations >= max_runs


def _info(history: Any) -> dict[str, float]:
    pops = history.get_all_populations()
    last = pops[pops["t"] >= 0].iloc[-1]
    return {
        "epsilon": float(last["epsilon"]),
        "acceptance_rate": float(last["particles"]) / max(1.0, float(last["samples"])),
        "simulations": float(history.total_nr_simulations),
    }


def _result(history: Any, priors: Sequence[Prior], observed: Observed, seed: int) -> Fit:
    import pandas as pd

    if history.max_t < 0:
        raise ValueError("the fit has no finished population yet")
    frame, w = history.get_distribution(m=0, t=history.max_t)
    samples = pd.DataFrame(
        {p.path: [p.value(x) for x in frame[f"p{i}"].to_numpy(dtype=np.float64)] for i, p in enumerate(priors)}
    )
    samples["weight"] = np.asarray(w, dtype=np.float64) / float(np.sum(w))
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    table = pd.DataFrame(
        {
            "population": pops["t"].astype(int).to_numpy() + 1,
            "epsilon": pops["epsilon"].astype(float).to_numpy(),
            "particles": pops["particles"].astype(int).to_numpy(),
            "simulations": pops["samples"].astype(int).to_numpy(),
        }
    )
    return Fit(tuple(priors), samples, table, observed, seed, int(history.total_nr_simulations))


@contextmanager
def _quiet_pyabc() -> Iterator[None]:
    """pyabc logs every population at INFO on stderr: the caller reports progress itself."""
    logger = logging.getLogger("ABC")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
