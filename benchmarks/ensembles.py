"""Ensemble benchmarks: 1000 runs of bees_bike, the speed-up of local processes, the Dask overhead.

Three measurements, each repeated and reported as medians (the machine is shared and noisy):

``bees_1000``
    ``viralsim run scenarios/bees_bike.toml --runs 1000 --processes 2 --json`` as a whole
    process (start, 1000 simulations in summary mode, bands, JSON out). Target: <= 60 s.
``speedup``
    the same command with ``--runs N`` (default 400) and ``--processes 1`` (in-process) vs
    ``--processes 2``, alternated in one invocation; speed-up = median(1) / median(2).
    Target: >= 1.8x on 2 cores.
``dask_overhead``
    in one child process: ``execute(plan)`` of N runs of bees_bike on ``LocalProcesses(2)``
    and on a local Dask cluster of 2 single-threaded worker processes (cluster start timed
    apart), chunks of >= 16 runs; per-run time on each and their ratio. Target: Dask within
    20 % of local processes.

Usage::

    .venv/bin/python benchmarks/ensembles.py                      # all three, ~6 min
    .venv/bin/python benchmarks/ensembles.py --only speedup --repeat 5
    .venv/bin/python benchmarks/ensembles.py --write-readme       # refresh the table in benchmarks/README.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
START, END = "<!-- ensembles:start -->", "<!-- ensembles:end -->"
BEES = "scenarios/bees_bike.toml"
VIRALSIM = [sys.executable, "-m", "viralsim"]


def timed(cmd: list[str]) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return wall, json.loads(done.stdout)


def _median_views(data: dict[str, Any]) -> float:
    return float(data["table"][0]["views_median"])


def bench_1000(repeat: int, runs: int) -> dict[str, Any]:
    cmd = [*VIRALSIM, "run", BEES, "--runs", str(runs), "--processes", "2", "--json"]
    walls, views = [], []
    for _ in range(repeat):
        wall, data = timed(cmd)
        walls.append(wall)
        views.append(_median_views(data))
        print(f"  bees x{runs}, 2 processes: {wall:.1f} s (median views {views[-1]:,.0f})", flush=True)
    if len(set(views)) != 1:
        raise SystemExit(f"the same command gave different results: {views}")
    return {
        "runs": runs,
        "walls_s": walls,
        "median_s": statistics.median(walls),
        "per_run_ms": 1000 * statistics.median(walls) / runs,
        "median_views": views[0],
    }


def bench_speedup(repeat: int, runs: int) -> dict[str, Any]:
    one = [*VIRALSIM, "run", BEES, "--runs", str(runs), "--processes", "1", "--json"]
    two = [*VIRALSIM, "run", BEES, "--runs", str(runs), "--processes", "2", "--json"]
    w1, w2, results = [], [], set()
    for _ in range(repeat):  # alternate, so that a busy spell slows both sides
        for cmd, walls in ((one, w1), (two, w2)):
            wall, data = timed(cmd)
            walls.append(wall)
            results.add(json.dumps(data["table"], sort_keys=True))
            print(f"  bees x{runs}, {cmd[-2]} process(es): {wall:.1f} s", flush=True)
    if len(results) != 1:
        raise SystemExit("1 and 2 processes gave different results")
    m1, m2 = statistics.median(w1), statistics.median(w2)
    return {"runs": runs, "one_s": w1, "two_s": w2, "median_one_s": m1, "median_two_s": m2, "speedup": m1 / m2}


_DASK_CHILD = r"""
import json, sys, time
from viralsim import load_scenario
from viralsim.ensemble import Plan, execute, chunk_size
from viralsim.executors import DaskExecutor, LocalProcesses

runs, repeat = int(sys.argv[1]), int(sys.argv[2])
sc = load_scenario("scenarios/bees_bike.toml")
plan = Plan("ensemble", sc, 1, runs)
out = {"local_s": [], "dask_s": [], "dask_start_s": []}
local = LocalProcesses(2)
list(local.map(abs, [1, 2]))  # start the pool outside the timing, as the cluster is
t = time.perf_counter(); dask = DaskExecutor(workers=2); out["dask_start_s"].append(time.perf_counter() - t)
out["chunk_local"] = chunk_size(runs, 2, local.min_chunk, local.max_chunk)
out["chunk_dask"] = chunk_size(runs, 2, dask.min_chunk, dask.max_chunk)
views = set()
for _ in range(repeat):
    for name, ex in (("local_s", local), ("dask_s", dask)):
        t = time.perf_counter(); res = execute(plan, ex); out[name].append(time.perf_counter() - t)
        views.add(tuple(res.runs["views"]))
dask.close(); local.close()
out["identical"] = len(views) == 1
print(json.dumps(out))
"""


def bench_dask(repeat: int, runs: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _DASK_CHILD, str(runs), str(repeat)], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"dask benchmark failed: {done.stderr.strip()[-800:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    if not data["identical"]:
        raise SystemExit("Dask and local processes gave different results")
    ml, md = statistics.median(data["local_s"]), statistics.median(data["dask_s"])
    data.update(
        runs=runs,
        median_local_s=ml,
        median_dask_s=md,
        per_run_local_ms=1000 * ml / runs,
        per_run_dask_ms=1000 * md / runs,
        ratio=md / ml,
    )
    print(f"  local {ml:.1f} s vs dask {md:.1f} s for {runs} runs (ratio {md / ml:.2f})", flush=True)
    return data


def table(res: dict[str, Any]) -> str:
    rows = ["| benchmark | measured (median) | target | met |", "|---|---|---|---|"]
    if "bees_1000" in res:
        b = res["bees_1000"]
        rows.append(
            f"| `viralsim run bees_bike --runs {b['runs']} --processes 2` (whole process) | "
            f"{b['median_s']:.1f} s ({b['per_run_ms']:.0f} ms per run; runs {', '.join(f'{w:.1f}' for w in b['walls_s'])} s) | "
            f"≤ 60 s | {'yes' if b['median_s'] <= 60 else '**no**'} |"
        )
    if "speedup" in res:
        s = res["speedup"]
        rows.append(
            f"| speed-up of 2 processes over 1 (`--runs {s['runs']}`, whole process) | "
            f"{s['speedup']:.2f}× ({s['median_one_s']:.1f} s → {s['median_two_s']:.1f} s) | ≥ 1.8× | "
            f"{'yes' if s['speedup'] >= 1.8 else '**no**'} |"
        )
    if "dask_overhead" in res:
        d = res["dask_overhead"]
        rows.append(
            f"| Dask local cluster (2 workers) vs local processes, {d['runs']} bees runs, chunks "
            f"{d['chunk_dask']} vs {d['chunk_local']} | {d['per_run_dask_ms']:.0f} vs {d['per_run_local_ms']:.0f} ms "
            f"per run: ratio {d['ratio']:.2f} (cluster start {statistics.median(d['dask_start_s']):.1f} s, apart) | "
            f"≤ 1.20 | {'yes' if d['ratio'] <= 1.2 else '**no**'} |"
        )
    return "\n".join(rows)


def write_readme(text: str) -> None:
    body = README.read_text(encoding="utf-8")
    block = f"{START}\n{text}\n{END}"
    if START in body and END in body:
        head, rest = body.split(START, 1)
        body = head + block + rest.split(END, 1)[1]
    else:
        body = body.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(body, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--runs", type=int, default=1000, help="runs of the bees_1000 benchmark")
    ap.add_argument("--speedup-runs", type=int, default=400)
    ap.add_argument("--dask-runs", type=int, default=192)
    ap.add_argument("--only", default="bees_1000,speedup,dask_overhead")
    ap.add_argument("--write-readme", action="store_true")
    ap.add_argument("--json", dest="json_path", default=None)
    args = ap.parse_args()
    only = set(args.only.split(","))
    res: dict[str, Any] = {}
    if "bees_1000" in only:
        print("bees_1000", flush=True)
        res["bees_1000"] = bench_1000(args.repeat, args.runs)
    if "speedup" in only:
        print("speedup", flush=True)
        res["speedup"] = bench_speedup(args.repeat, args.speedup_runs)
    if "dask_overhead" in only:
        print("dask_overhead", flush=True)
        res["dask_overhead"] = bench_dask(args.repeat, args.dask_runs)
    text = table(res)
    print(text)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(res, indent=2))
    if args.write_readme:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        write_readme(
            f"Measured {stamp}, `{' '.join(['benchmarks/ensembles.py', *sys.argv[1:]])}`, "
            f"{os.cpu_count()} cores:\n\n{text}"
        )


if __name__ == "__main__":
    main()
