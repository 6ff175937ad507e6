"""Does ``viralsim fit`` recover known parameters? Coverage of its 90 % intervals over synthetic cases.

The criterion: the 90 % intervals cover the true values in >= 85 % of >= 20 synthetic
cases. Each case draws true values of ``video.appeal`` and ``behaviour.p_share`` from the
priors (``0.3:0.99`` and ``0.0005:0.01``, the README's example), simulates the bundled
``analytics`` scenario with them (seed 1000 + case), turns the run into an observed analytics
file (every 2 h), and fits it (single process, in-memory history, seed = case). The cases run
on ``--processes`` local processes; each case's numbers do not depend on which process runs it.

This is a measurement, not a unit test: at ``fit``'s defaults (6 populations of 200 particles,
the median schedule: what ``viralsim fit`` does) a fit costs ~4 000 simulations, and 40 cases
take far longer than the test suite may. It prints a line per finished case, then each field's
coverage, the criterion's verdict, the median interval width (share of the prior), and seconds
per fit; ``--json FILE`` keeps every case.

Usage::

    python benchmarks/fit_recovery.py                          # 40 cases, 2 processes, fit's defaults
    python benchmarks/fit_recovery.py --cases 20 --populations 3 --particles 60 --json recovery.json
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import time
from functools import partial
from pathlib import Path

import numpy as np

from viralsim import load_scenario
from viralsim.experiments.executors import LocalProcesses
from viralsim.inference import fit
from viralsim.inference.recovery import Case, coverage, synthetic_case
from viralsim.io.bundled import find_scenario, scenarios_dir
from viralsim.io.params import parse_priors

PRIORS = ["video.appeal=0.3:0.99", "behaviour.p_share=0.0005:0.01"]
#: fit()'s own defaults (populations, particles, quantile): what a user of ``viralsim fit`` gets
DEFAULTS = {k: v.default for k, v in inspect.signature(fit).parameters.items()}


def case(i: int, *, populations: int, particles: int, quantile: float) -> Case:
    """Synthetic case ``i`` of the bundled ``analytics`` scenario with the README's priors."""
    sc = load_scenario(find_scenario("analytics", scenarios_dir()))
    return synthetic_case(
        sc, parse_priors(PRIORS, sc), i, populations=populations, particles=particles, quantile=quantile
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=40)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--populations", type=int, default=DEFAULTS["populations"])
    ap.add_argument("--particles", type=int, default=DEFAULTS["particles"])
    ap.add_argument(
        "--quantile", type=float, default=DEFAULTS["quantile"], help="epsilon schedule: quantile of the last distances"
    )
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    sc = load_scenario(find_scenario("analytics", scenarios_dir()))
    priors = parse_priors(PRIORS, sc)
    run = partial(case, populations=args.populations, particles=args.particles, quantile=args.quantile)
    executor = LocalProcesses(args.processes)
    t0 = time.perf_counter()
    results = []
    try:
        for r in executor.map(run, range(args.cases)):
            results.append(r)
            fields = ", ".join(
                f"{p.path} {r.truth[j]:.4g} {'in' if r.covered(j) else 'OUT'}" for j, p in enumerate(priors)
            )
            print(f"case {r.case}: {fields} ({r.seconds:.0f} s)", flush=True)
    finally:
        executor.close()
    wall = time.perf_counter() - t0
    needed = math.ceil(0.85 * args.cases)
    print(
        f"{args.cases} cases, {args.populations} populations x {args.particles} particles, quantile "
        f"{args.quantile}: {wall:.0f} s on {args.processes} processes, "
        f"median {np.median([r.seconds for r in results]):.1f} s per fit"
    )
    for j, (p, hits) in enumerate(zip(priors, coverage(results, len(priors)), strict=True)):
        widths = [(r.q95[j] - r.q05[j]) / (p.hi - p.lo) for r in results]
        verdict = "meets" if hits >= needed else "misses"
        print(
            f"  {p.path}: covered {hits}/{args.cases} ({hits / args.cases:.0%}; {verdict} >= {needed}), "
            f"median 90 % interval {np.median(widths):.0%} of the prior"
        )
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {"args": vars(args) | {"json": str(args.json)}, "cases": [r.to_dict() for r in results]}, indent=1
            )
        )


if __name__ == "__main__":
    main()
