"""Benchmark of the agent engine: 50 000 users x 7 days x 500 competing videos.

Each run is a whole process (``python benchmarks/agents.py --child CASE``: start,
imports, build the world, simulate, summarise, exit), timed from outside, with the
child's peak resident memory from ``wait4``. Medians over ``--repeat`` runs.

Cases (the same world, seed 1; hybrid mode: push, Following feeds and shares):

- ``gated``: the push's KPI gate as in ``scenarios/creator_marketplace.toml`` (like
  rate >= 0.05): most videos stop after 200 or 1 000 users, a few reach 20 000;
- ``saturated``: every threshold at 0, so every video is pushed through every cohort
  (200 + 1 000 + 5 000 + 20 000 users): the most deliveries these cohorts allow.

Targets: <= 60 s and <= 2 GB peak RSS for each case.

``--profile CASE`` runs one case in-process under cProfile and prints where a
session's cost goes (SimPy kernel, the session loop, deliveries, the rest).

Usage::

    python benchmarks/agents.py                 # both cases, 3 runs each, a Markdown table
    python benchmarks/agents.py --only gated --repeat 5
    python benchmarks/agents.py --profile saturated
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from typing import Any

from viralsim import Scenario

TARGET_S, TARGET_BYTES = 60.0, 2 * 10**9


def scenario(case: str) -> Scenario:
    """The benchmark world: 50k users, 7 days, 500 videos from 300 creators."""
    thresholds = {"like": 0.05, "completion": 0.01} if case == "gated" else {"completion": 0.0}
    return Scenario.model_validate(
        {
            "name": f"agents_{case}",
            "horizon_h": 168,
            "seed": 1,
            "engine": "agents",
            "population": {
                "users": 50_000,
                "topics": ["animals", "comedy", "sport", "diy", "food", "music", "beauty", "gaming"],
                "interest_concentration": 0.3,
            },  # sessions: the default 4 a day (median), log-normal spread 1 (mean 6.6 a day)
            "social_graph": {"kind": "random_powerlaw", "mean_following": 50},
            "video": {"topic": "animals", "duration_s": 15},
            "marketplace": {"creators": 300, "uploads_per_day": 500 / 7, "followers": {"median": 100, "spread": 1.5}},
            "platform": {
                "push": {
                    "mode": "hybrid",
                    "cohorts": [200, 1000, 5000, 20000],
                    "delivery_batch": 5000,
                    "thresholds": thresholds,
                }
            },
            "agents": {"interest_drift": 0.5},
        }
    )


def child(case: str) -> None:
    """One run: simulate and print what it did as JSON."""
    from viralsim import simulate

    t0 = time.perf_counter()
    r = simulate(scenario(case))
    s = r.summary
    print(
        json.dumps(
            {
                "simulate_s": time.perf_counter() - t0,
                "sessions": s["sessions"],
                "views": s["views"],
                "videos": s["videos"],
                "deliveries": sum(s["deliveries"].values()),
            }
        )
    )


def measure(case: str) -> dict[str, Any]:
    """Run one case as a whole process; wall time, peak RSS and the child's report."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--child", case], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{case}: the run failed")
    return {"wall_s": wall, "peak_rss": usage.ru_maxrss * 1024, **json.loads(out)}


def profile(case: str) -> None:
    """cProfile one in-process run; split the run's time into the parts of a session's cost."""
    from viralsim import simulate

    sc = scenario(case)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    r = simulate(sc)
    prof.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    own: dict[str, float] = {}
    for (path, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
        own[f"{os.path.basename(path)}:{name}"] = own.get(f"{os.path.basename(path)}:{name}", 0.0) + row[2]
    cum = {f"{os.path.basename(p)}:{n}": row[3] for (p, _, n), row in stats.stats.items()}  # type: ignore[attr-defined]
    sessions = r.summary["sessions"]
    simpy_own = sum(t for k, t in own.items() if k.startswith(("core.py", "events.py")) or "heapq" in k)
    simpy_own += own.get("~:<method 'send' of 'generator' objects>", 0.0)
    parts = {
        "session loop (World.session, own)": own.get("world.py:session", 0.0) + own.get("world.py:_record", 0.0),
        "user processes (user_day, own)": own.get("processes.py:user_day", 0.0),
        "SimPy kernel (step, schedule, Timeout, resume)": simpy_own,
        "deliveries (World.deliver, cumulative)": cum.get("world.py:deliver", 0.0),
        "building the world (users, sessions, market)": cum.get("engine.py:_users", 0.0)
        + cum.get("engine.py:_market", 0.0),
        "result (views log, summary)": cum.get("finish.py:finish", 0.0) or cum.get("report.py:finish", 0.0),
    }
    parts["other (array appends, numpy item reads, drift, gate...)"] = total - sum(parts.values())
    print(f"{case}: {total:.1f} s under cProfile, {sessions} sessions, {r.summary['views']} views")
    for name, t in parts.items():
        print(f"  {name:56s} {t:6.1f} s {100 * t / total:5.1f} % {1e6 * t / sessions:6.2f} us/session")
    print("top 15 by own time:")
    for k, t in sorted(own.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {k:50s} {t:6.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["gated", "saturated"])
    parser.add_argument("--child", choices=["gated", "saturated"], help=argparse.SUPPRESS)
    parser.add_argument("--profile", choices=["gated", "saturated"])
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if args.profile:
        profile(args.profile)
        return 0
    print("| case | wall (median) | runs | peak RSS | sessions | views | deliveries | sessions/s | views/s | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in [args.only] if args.only else ["gated", "saturated"]:
        runs = [measure(case) for _ in range(args.repeat)]
        wall = statistics.median(r["wall_s"] for r in runs)
        rss = max(r["peak_rss"] for r in runs)
        r0 = runs[0]
        ok = wall <= TARGET_S and rss <= TARGET_BYTES
        each = ", ".join(f"{r['wall_s']:.1f}" for r in runs)
        print(
            f"| {case} | {wall:.1f} s | {each} | {rss / 2**30:.2f} GiB"
            f" | {r0['sessions']:,} | {r0['views']:,} | {r0['deliveries']:,} | {r0['sessions'] / wall:,.0f}"
            f" | {r0['views'] / wall:,.0f} | {'met' if ok else 'MISSED'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
