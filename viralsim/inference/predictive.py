"""Posterior-predictive reach curves: runs of the scenario at parameters drawn from a fit's posterior.

Each of ``n`` draws is the scenario with the fitted fields set to one posterior particle
(drawn by weight), run once in summary mode with its own run index ``i`` (so both the
parameters and the run's chance vary, as in the observation); the cumulative views on
the reach curve's grid, from the upload on, give quantile bands to lay over the observed
curve. Repeatable for a given ``seed``. No IO, no printing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from viralsim.engines import simulate
from viralsim.engines.checks import ensure_checked
from viralsim.experiments.stats import QUANTILES, quantiles
from viralsim.inference.abc import Fit, override
from viralsim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["predictive_bands"]


def predictive_bands(scenario: Scenario, result: Fit, n: int = 100, seed: int = 0) -> pd.DataFrame:
    """Quantile bands of cumulative views (and by source) of ``n`` posterior-predictive runs.

    Returns a long table (pandas): ``curve`` (``total`` or a source), ``hour`` (since the
    upload), the quantiles ``q05`` ... ``q95`` of :data:`~viralsim.experiments.stats.QUANTILES`
    and ``mean``.
    """
    import pandas as pd

    if n < 1:
        raise ValueError(f"predictive runs must be >= 1, got {n}")
    draws = result.draw(n, seed)
    curves: dict[str, list[np.ndarray]] = {}
    grid = np.empty(0)
    for i, values in enumerate(draws):
        sc = ensure_checked(scenario.derive(override(result.priors, list(values))), "summary")
        res = simulate(sc, seed=seed, run=i, record="summary")
        c = res.reach_curve
        keep = np.asarray(c["time_h"], dtype=np.float64) >= sc.video.upload_h
        grid = np.asarray(c["time_h"], dtype=np.float64)[keep] - sc.video.upload_h
        for name in ("total", "for_you", "following", "share"):
            curves.setdefault(name, []).append(np.asarray(c[name], dtype=np.float64)[keep])
    frames = []
    for name, rows in curves.items():
        stack = np.stack(rows)
        q = quantiles(stack, QUANTILES)
        frame = pd.DataFrame({"curve": name, "hour": grid})
        for k, level in enumerate(QUANTILES):
            frame[f"q{round(level * 100):02d}"] = q[k]
        frame["mean"] = stack.mean(axis=0)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
