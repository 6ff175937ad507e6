"""Time (or profile) ``viralsim.simulate()`` in-process on one scenario.

The scenario is loaded once; ``simulate()`` runs once untimed as a warm-up
(first-call costs: lazy imports, the Beta quantile table, page faults of a
fresh heap) and then ``--repeat`` times, timed with ``time.perf_counter``.
Prints one JSON object: every timing, the warm-up's time, and the run's views
and stop reason (the same seed every time, so the same run).

``--profile N`` instead runs ``simulate()`` once (after the warm-up) under
cProfile and prints the top N functions by own time and by cumulative time.

Usage::

    python benchmarks/time_simulate.py scenarios/bees_bike.toml --repeat 5
    python benchmarks/time_simulate.py benchmarks/scenarios/ten_million.toml --profile 10
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import time

from viralsim import simulate
from viralsim.io.scenario_file import ScenarioError, load_scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs after the warm-up (default 5)")
    parser.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's)")
    parser.add_argument("--profile", type=int, metavar="N", default=0, help="print a cProfile top N instead")
    args = parser.parse_args(argv)
    try:
        sc = load_scenario(args.scenario)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        return 1

    t0 = time.perf_counter()
    result = simulate(sc, seed=args.seed)
    first = time.perf_counter() - t0
    del result

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        simulate(sc, seed=args.seed)
        prof.disable()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).strip_dirs().sort_stats(order).print_stats(args.profile)
            print(f"=== {args.scenario}: top {args.profile} by {order} ===")
            print(out.getvalue().strip())
        return 0

    times = []
    summary: dict = {}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = simulate(sc, seed=args.seed)
        times.append(time.perf_counter() - t0)
        summary = result.summary
        del result
    print(
        json.dumps(
            {
                "scenario": args.scenario,
                "times_s": times,
                "median_s": statistics.median(times) if times else None,
                "warmup_s": first,
                "views": summary.get("views"),
                "shares": summary.get("shares"),
                "stop_reason": summary.get("stop_reason"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
