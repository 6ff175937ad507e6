"""Runs per second in summary mode (what inference and ensembles need), old code against new.

Inference by simulation (ABC: ``viralsim fit``) and ensembles run one scenario many
times with ``record="summary"``. This benchmark measures how many such runs a second
one process gets through, for the code of this checkout ("new") and of an older
revision ("old", checked out into a temporary folder by ``git archive``), as whole
processes **alternating in one invocation** (old/new, then new/old, ...), so that the
shared machine's busy spells slow both sides alike. Each child runs with
``PYTHONPATH`` = its checkout (the script checks where ``import viralsim`` resolves).

Cases (``--runs N`` runs per process, seeds 1..N):

- ``bees_seeds``: ``simulate(bees_bike, seed=s, record="summary")`` for s = 1..N;
- ``bees_abc``: the same, with a new ``video.appeal`` every run (uniform in 0.6–0.95 from
  a fixed seed, through ``Scenario.derive``), as an ABC sampler does: every run meets
  parameters it has never seen;
- ``tiny_seeds``, ``cat_seeds``: the same loop on ``tiny`` (an explicit small-world graph
  built every run) and ``cat_cucumber`` (moderation queue, many SimPy events);
- ``bees_ensemble``: ``run_ensemble(bees_bike, runs=N)`` in-process (the ensemble path:
  chunks, one flat row per run).

Each child times its loop (after one untimed warm-up run) and prints runs/s; the parent
also times the child's whole life (start, imports, scenario, warm-up, loop, exit).
Reported per case: the median runs/s of the loop on each side, new/old with a 95 %
bootstrap interval (each side resampled apart), the median of the per-round ratios,
the whole-process medians, and whether every run's summary, stage table and reach
curve are the same numbers on both sides (a SHA-256 over all of them).

Usage::

    python benchmarks/summary_speed.py --before HEAD~3                 # all cases, 5 rounds
    python benchmarks/summary_speed.py --before 60a52ed --only bees_seeds,bees_abc --repeat 7
    python benchmarks/summary_speed.py --before OLD_FOLDER --write-readme
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import before_after as ba  # benchmarks/before_after.py: children, bootstrap
import run as whole  # benchmarks/run.py: the checkout's revision, the README's blocks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START, END = "<!-- summary-speed:start -->", "<!-- summary-speed:end -->"
SIDES = ("old", "new")

#: case -> (scenario file, what the child does, description in the table)
CASES = {
    "bees_seeds": ("scenarios/bees_bike.toml", "seeds", "bees_bike, `simulate(sc, seed=s, record='summary')`"),
    "bees_abc": ("scenarios/bees_bike.toml", "abc", "bees_bike, a new `video.appeal` every run (ABC-like)"),
    "tiny_seeds": ("scenarios/tiny.toml", "seeds", "tiny (small-world graph built every run)"),
    "cat_seeds": ("scenarios/cat_cucumber.toml", "seeds", "cat_cucumber (moderation queue)"),
    "bees_ensemble": ("scenarios/bees_bike.toml", "ensemble", "bees_bike, `run_ensemble(sc, runs=N)` in-process"),
}
DEFAULT_RUNS = {"bees_seeds": 20, "bees_abc": 20, "tiny_seeds": 60, "cat_seeds": 100, "bees_ensemble": 20}


# --- the child: one process, N runs ----------------------------------------------------------------


def _digest(h: Any, result: Any) -> None:
    """Fold one run's summary, stages, moderation and reach curve into the hash ``h``."""
    import numpy as np

    body = {
        "summary": result.summary.to_dict(),
        "stages": [dict(s) for s in result.stages],
        "moderation": dict(result.moderation),
    }
    h.update(json.dumps(body, sort_keys=True, default=repr).encode())
    for k in sorted(result.reach_curve):
        h.update(k.encode())
        h.update(np.ascontiguousarray(result.reach_curve[k]).tobytes())


def child(case: str, runs: int) -> dict[str, Any]:
    """Time ``runs`` summary runs of ``case`` after one warm-up; their runs/s and a hash of their results."""
    import numpy as np

    from viralsim import load_scenario, simulate

    path, kind, _ = CASES[case]
    sc = load_scenario(path)
    h = hashlib.sha256()
    if kind == "ensemble":
        from viralsim.experiments.executors import InProcess
        from viralsim.experiments.run import run_ensemble

        run_ensemble(sc, runs=2, executor=InProcess())  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        ens = run_ensemble(sc, runs=runs, executor=InProcess())
        loop_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        h.update(ens.runs.to_json(orient="split", double_precision=15).encode())
        h.update(ens.bands.to_json(orient="split", double_precision=15).encode())
        return {"runs": runs, "loop_s": loop_s, "cpu_s": cpu_s, "digest": h.hexdigest()}
    if kind == "abc":
        from viralsim.experiments.plan import dotted_override

        appeal = np.random.default_rng(2026).uniform(0.6, 0.95, runs + 1)
        scenarios = [sc.derive(dotted_override("video.appeal", float(a))) for a in appeal]
    else:
        scenarios = [sc] * (runs + 1)
    simulate(scenarios[0], seed=runs + 1, record="summary")  # warm-up: lazy imports, first tables
    loop_s = cpu_s = 0.0
    for s in range(1, runs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        result = simulate(scenarios[s], seed=s, record="summary")
        loop_s, cpu_s = loop_s + time.perf_counter() - t0, cpu_s + time.process_time() - c0
        _digest(h, result)  # not timed
    return {"runs": runs, "loop_s": loop_s, "cpu_s": cpu_s, "digest": h.hexdigest()}


# --- the parent -------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    runs: int
    rate: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})  # runs/s of the loop
    cpu_rate: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})  # runs per CPU s
    wall_s: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})  # whole process
    digests: dict[str, set[str]] = field(default_factory=lambda: {s: set() for s in SIDES})


def checkout(before: str, into: Path) -> tuple[Path, str]:
    """The old side: ``before`` if it is a folder, else that git revision archived into ``into``."""
    if Path(before).is_dir():
        return Path(before).resolve(), whole.revision(Path(before))
    found = subprocess.run(
        ["git", "rev-parse", "--short", "--verify", f"{before}^{{commit}}"], cwd=ROOT, capture_output=True, text=True
    )
    if found.returncode != 0:
        raise SystemExit(f"--before {before}: neither a folder nor a git revision of {ROOT}")
    rev = found.stdout.strip()
    tar = into / "old.tar"
    subprocess.run(["git", "archive", "-o", str(tar), rev], cwd=ROOT, check=True)
    with tarfile.open(tar) as t:
        t.extractall(into / "old", filter="data")
    return into / "old", f"commit {rev}"


def measure(case: Case, side: str, folder: Path, keep: bool = True) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case.name, "--runs", str(case.runs)]
    wall, _cpu, _rss, out = ba.run_child(cmd, folder)
    data = json.loads(out)
    rate, cpu_rate = data["runs"] / data["loop_s"], data["runs"] / data["cpu_s"]
    case.digests[side].add(data["digest"])
    if keep:
        case.rate[side].append(rate)
        case.cpu_rate[side].append(cpu_rate)
        case.wall_s[side].append(wall)
    print(
        f"  {case.name:14s} {side}: {rate:7.2f} runs/s, {cpu_rate:7.2f} runs per CPU s, {wall:6.2f} s whole process",
        flush=True,
    )


def summary(case: Case) -> dict[str, Any]:
    old, new = case.rate["old"], case.rate["new"]
    lo, hi = ba.bootstrap(old, new)
    digests = case.digests["old"] | case.digests["new"]
    return {
        "name": case.name,
        "runs": case.runs,
        "rounds": len(old),
        "old": {"median": statistics.median(old), "min": min(old), "max": max(old)},
        "new": {"median": statistics.median(new), "min": min(new), "max": max(new)},
        "ratio": statistics.median(new) / statistics.median(old),
        "ratio_ci": [lo, hi],
        "paired_ratio": statistics.median(n / o for o, n in zip(old, new, strict=True)),
        "cpu_old": statistics.median(case.cpu_rate["old"]),
        "cpu_new": statistics.median(case.cpu_rate["new"]),
        "wall_old": statistics.median(case.wall_s["old"]),
        "wall_new": statistics.median(case.wall_s["new"]),
        "identical": len(digests) == 1,
    }


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| case | runs × rounds | old runs/s (min–max) | new runs/s (min–max) | new/old (95 % CI)"
        " | per-round new/old | runs per CPU s old → new (ratio) | whole process s old → new | results identical |",
        "|" + "---|" * 9,
    ]
    for r in rows:
        o, n = r["old"], r["new"]
        out.append(
            f"| {CASES[r['name']][2]} | {r['runs']} × {r['rounds']}"
            f" | {o['median']:.2f} ({o['min']:.2f}–{o['max']:.2f}) | {n['median']:.2f} ({n['min']:.2f}–{n['max']:.2f})"
            f" | **{r['ratio']:.2f}×** ({r['ratio_ci'][0]:.2f}–{r['ratio_ci'][1]:.2f}) | {r['paired_ratio']:.2f}"
            f" | {r['cpu_old']:.2f} → {r['cpu_new']:.2f} ({r['cpu_new'] / r['cpu_old']:.2f})"
            f" | {r['wall_old']:.2f} → {r['wall_new']:.2f} | {'yes' if r['identical'] else '**NO**'} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="the old code: a git revision (archived into a temp folder) or a checkout folder")
    ap.add_argument("--repeat", type=int, default=5, help="rounds of each case (default 5)")
    ap.add_argument("--runs", type=int, default=None, help="runs per process (default: per case, 20-100)")
    ap.add_argument("--only", default=None, help="comma-separated case names: " + ", ".join(CASES))
    ap.add_argument("--write-readme", action="store_true", help="write the table into benchmarks/README.md")
    ap.add_argument("--json", type=Path, help="also save the raw measurements here")
    ap.add_argument("--child", choices=sorted(CASES), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.runs or DEFAULT_RUNS[args.child])))
        return 0
    if not args.before:
        ap.error("--before is required")
    names = list(CASES) if not args.only else args.only.split(",")
    unknown = set(names) - set(CASES)
    if unknown:
        ap.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    todo = [Case(n, args.runs or DEFAULT_RUNS[n]) for n in names]
    with tempfile.TemporaryDirectory(prefix="summary_speed_") as tmp:
        old_folder, old_rev = checkout(args.before, Path(tmp))
        folders = {"old": old_folder, "new": ROOT}
        revs = {"old": old_rev, "new": whole.revision(ROOT)}
        for side, folder in folders.items():
            ba.imports_from(side, folder)
            print(f"{side}: {folder} ({revs[side]})", flush=True)
        started = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        load_start = ba.load()
        for case in todo:
            for side in SIDES:  # warm-up: byte-code caches, page cache
                measure(case, side, folders[side], keep=False)
            for i in range(args.repeat):
                for side in SIDES if i % 2 == 0 else SIDES[::-1]:
                    measure(case, side, folders[side])
        load_end = ba.load()
    rows = [summary(c) for c in todo]
    cmd = f"python benchmarks/summary_speed.py --before OLD --repeat {args.repeat}"
    if args.only:
        cmd += f" --only {args.only}"
    if args.runs:
        cmd += f" --runs {args.runs}"
    text = "\n".join(
        [
            f"Measured {started}: old = {revs['old']}, new = {revs['new']}; {os.cpu_count()} cores shared with"
            f" other work, load average {load_start} at the start and {load_end} at the end."
            f" Command: `{cmd}`.",
            "",
            table(rows),
        ]
    )
    print()
    print(text)
    bad = [r["name"] for r in rows if not r["identical"]]
    if bad:
        print(f"\nDIFFERENT RESULTS between old and new (or between repeats): {', '.join(bad)}")
    if args.write_readme:
        whole.write_readme(text, START, END, "Runs per second in summary mode")
        print("\nwrote the table into benchmarks/README.md")
    if args.json:
        raw = [{**summary(c), "rate": c.rate, "cpu_rate": c.cpu_rate, "wall_s": c.wall_s} for c in todo]
        args.json.write_text(json.dumps({"started": started, "load": [load_start, load_end], "cases": raw}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
