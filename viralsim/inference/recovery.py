"""Does :func:`~viralsim.inference.abc.fit` recover known values? Synthetic cases and their coverage.

A synthetic case draws the fields' true values from their priors, simulates the scenario with
them (one run, its own seed), turns the run into the analytics a creator would see
(:func:`~viralsim.inference.summary.observed_from_run`) and fits the scenario to them with
the same priors. Over many cases, a fit whose 90 % intervals are honest holds the truth in
about 90 % of them (:func:`coverage`). Each case's numbers depend only on its index and the
fit's settings (a fit in one process with the case's seed), not on where it runs.
No IO.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from viralsim.engines import simulate
from viralsim.inference.abc import Prior, fit, override
from viralsim.inference.summary import observed_from_run
from viralsim.scenario import Scenario

__all__ = ["Case", "coverage", "synthetic_case"]

#: The seed of case ``i``'s true values is ``[TRUTH_SEED, i]``; its observed run's seed ``OBSERVED_SEED + i``.
TRUTH_SEED = 2025
OBSERVED_SEED = 1000


@dataclass(frozen=True)
class Case:
    """One synthetic case: the true values, the fit's 90 % interval (5 %, 95 %) of each, its seconds."""

    case: int
    truth: tuple[float, ...]
    q05: tuple[float, ...]
    q95: tuple[float, ...]
    seconds: float

    def covered(self, j: int) -> bool:
        """Whether the interval of field ``j`` holds its true value."""
        return self.q05[j] <= self.truth[j] <= self.q95[j]

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case, "truth": self.truth, "q05": self.q05, "q95": self.q95, "seconds": self.seconds}


def synthetic_case(
    scenario: Scenario, priors: Sequence[Prior], i: int, *, every_h: float = 2.0, **settings: Any
) -> Case:
    """Case ``i``: truth from the priors, an observation of it every ``every_h`` hours, a fit of it.

    ``settings`` go to :func:`~viralsim.inference.abc.fit` (``populations``, ``particles``,
    ``quantile``); the fit runs in this process, in memory, with seed ``i``.
    """
    rng = np.random.default_rng([TRUTH_SEED, i])
    truth = tuple(float(p.value(rng.uniform(p.lo, p.hi))) for p in priors)
    observed = observed_from_run(simulate(scenario.derive(override(priors, truth)), seed=OBSERVED_SEED + i), every_h)
    t0 = time.perf_counter()
    result = fit(scenario, priors, observed, db=None, seed=i, **settings)
    table = result.summary()
    return Case(i, truth, tuple(table["q05"].tolist()), tuple(table["q95"].tolist()), time.perf_counter() - t0)


def coverage(cases: Sequence[Case], n_fields: int) -> list[int]:
    """How many of ``cases`` hold the truth in their interval, per field."""
    return [sum(c.covered(j) for c in cases) for j in range(n_fields)]
