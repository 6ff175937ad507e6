"""Run viralsim's benchmarks: whole-process wall time, CPU time and peak RSS, against targets.

Every benchmark runs in a fresh child process, ``--repeat`` times, one after
the other. A child's wall time is measured around its whole life (interpreter
start, imports, the run, the output), its CPU time and peak resident set size
come from ``os.wait4`` (the child's own ``rusage``, so one child's memory never
hides another's). The table reports the median, min and max wall time, the
median CPU time and the largest peak RSS. Speed ratios (viralsim against the
naive baseline) compare figures measured in the same invocation, so that a
busy machine slows both sides.

Usage::

    .venv/bin/python benchmarks/run.py                 # everything: 5 runs, naive once (~3 min)
    .venv/bin/python benchmarks/run.py --repeat 9 --naive-repeat 3
    .venv/bin/python benchmarks/run.py --skip-naive    # the fast ones only (~1.5 min)
    .venv/bin/python benchmarks/run.py --only bees_cli,bees_simulate
    .venv/bin/python benchmarks/run.py --write-readme  # also refresh the table in benchmarks/README.md

Exit status: 0 when every benchmark ran and every sanity check on its output
passed (missed speed or memory *targets* are reported, not fatal); 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
BEES = "scenarios/bees_bike.toml"
TEN_M = "benchmarks/scenarios/ten_million.toml"


@dataclass
class Bench:
    """One benchmark: a command run in a fresh process, its targets and a check of its output."""

    name: str
    what: str
    cmd: list[str]
    repeat: int
    target_s: float | None = None  # on the median wall time (or in-process time, see `inprocess`)
    target_rss_mib: float | None = None
    inprocess: bool = False  # the timed figure is the child's own `simulate()` median, not its life
    check: Callable[[dict[str, Any], dict[str, Bench]], str] | None = None
    timeout_s: float = 600.0
    # filled in by run()
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    inner_s: list[float] = field(default_factory=list)
    output: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    error: str = ""
    skipped: bool = False

    @property
    def times(self) -> list[float]:
        return self.inner_s if self.inprocess else self.wall_s

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def peak_rss_mib(self) -> float | None:
        return max(self.rss_kib) / 1024.0 if self.rss_kib else None


def run_child(
    cmd: list[str], timeout_s: float, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> tuple[float, float, int, int, str, str]:
    """Run ``cmd`` to completion in ``cwd``: (wall s, user+sys CPU s, peak RSS KiB, exit code, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        killer = threading.Timer(timeout_s, lambda: os.kill(proc.pid, signal.SIGKILL))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves: its own rusage
        finally:
            killer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait again
        out.seek(0)
        err.seek(0)
        return (
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss,  # KiB on Linux
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def run(bench: Bench, echo: bool = True) -> None:
    """Run one benchmark ``bench.repeat`` times, filling in its measurements."""
    for i in range(bench.repeat):
        wall, cpu, rss, code, out, err = run_child(bench.cmd, bench.timeout_s)
        if code != 0:
            bench.error = f"exit {code}: {(err.strip().splitlines() or ['(no stderr)'])[-1]}"
            if echo:
                print(f"  {bench.name}: run {i + 1} failed ({bench.error})", flush=True)
            return
        bench.wall_s.append(wall)
        bench.cpu_s.append(cpu)
        bench.rss_kib.append(rss)
        if out.strip().startswith("{"):
            bench.output = json.loads(out)
            if bench.inprocess:
                bench.inner_s.extend(bench.output["times_s"])
        if echo:
            inner = f", simulate() median {bench.output['median_s']:.3f} s" if bench.inprocess else ""
            print(
                f"  {bench.name}: run {i + 1}/{bench.repeat}: {wall:.2f} s wall, {cpu:.2f} s CPU,"
                f" {rss / 1024:.0f} MiB{inner}",
                flush=True,
            )


# -- checks of each benchmark's output (the runs must be the runs we think they are) ----------
def check_bees(out: dict[str, Any], _: dict[str, Bench]) -> str:
    views, reason = out.get("views", 0), str(out.get("stop_reason"))
    ok = 500_000 <= views <= 1_000_000 and reason.startswith("kpi_below_threshold")
    return f"{'' if ok else 'CHECK FAILED: '}{views:,} views, {out.get('shares')} shares, {reason}"


def check_ten_million(out: dict[str, Any], _: dict[str, Bench]) -> str:
    views, reason = out.get("views", 0), str(out.get("stop_reason"))
    ok = views >= 5_000_000 and reason.startswith("kpi_below_threshold")
    stage = f", stopped in stage {out['stages_reached']}" if "stages_reached" in out else ""
    return f"{'' if ok else 'CHECK FAILED (needs >= 5M views and a KPI stop): '}{views:,} views{stage}, {reason}"


def check_naive(out: dict[str, Any], benches: dict[str, Bench]) -> str:
    views = out.get("views", 0)
    note = f"{views:,} views, {out.get('shares')} shares, {out.get('stop_reason')}"
    note += f" (population built in {out.get('build_population_s')} s, simulated in {out.get('simulate_s')} s)"
    ref = benches.get("bees_cli")
    if ref is not None and ref.output.get("views"):
        diff = views / ref.output["views"] - 1.0
        flag = "" if abs(diff) <= 0.25 else "CHECK FAILED: "
        note = f"{flag}{note}; {diff:+.1%} views vs viralsim"
    return note


def benchmarks(repeat: int, naive_repeat: int) -> list[Bench]:
    py = sys.executable
    exe = Path(py).parent / "viralsim"
    cli = [str(exe)] if exe.exists() else [py, "-m", "viralsim"]
    imports = "import viralsim.cli, viralsim.engines, viralsim.io.scenario_file, viralsim.io.outputs"
    return [
        Bench(
            "startup",
            "`python -c 'import viralsim.cli, ...'`: interpreter + imports of `viralsim run`",
            [py, "-c", imports],
            repeat,
        ),
        Bench(
            "bees_cli",
            f"`viralsim run {BEES} --json` (2.4M users, ~714K views)",
            [*cli, "run", BEES, "--json"],
            repeat,
            target_s=1.5,
            target_rss_mib=300,
            check=check_bees,
        ),
        Bench(
            "bees_simulate",
            f"in-process `simulate()` on {BEES} (median of {repeat} after a warm-up)",
            [py, "benchmarks/time_simulate.py", BEES, "--repeat", str(repeat)],
            1,
            target_s=0.1,
            inprocess=True,
            check=check_bees,
        ),
        Bench(
            "ten_million_cli",
            f"`viralsim run {TEN_M} --json` (10M users, >= 5M views, KPI stop)",
            [*cli, "run", TEN_M, "--json"],
            repeat,
            target_s=5.0,
            target_rss_mib=1536,
            check=check_ten_million,
        ),
        Bench(
            "ten_million_simulate",
            f"in-process `simulate()` on {TEN_M} (median of {repeat} after a warm-up)",
            [py, "benchmarks/time_simulate.py", TEN_M, "--repeat", str(repeat)],
            1,
            inprocess=True,
            check=check_ten_million,
        ),
        Bench(
            "naive_bees",
            "`python benchmarks/naive_baseline.py --json`: bees_bike, one object per user,"
            " one SimPy process per viewer",
            [py, "benchmarks/naive_baseline.py", BEES, "--json"],
            naive_repeat,
            check=check_naive,
            timeout_s=1800,
        ),
    ]


# -- reporting ------------------------------------------------------------------------------
def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _target(b: Bench) -> str:
    parts = []
    if b.target_s is not None:
        parts.append(f"≤ {b.target_s:g} s")
    if b.target_rss_mib is not None:
        parts.append(
            f"≤ {b.target_rss_mib / 1024:g} GiB" if b.target_rss_mib >= 1024 else f"≤ {b.target_rss_mib:g} MiB"
        )
    return ", ".join(parts) or "—"


def _verdict(b: Bench) -> str:
    if b.skipped:
        return "skipped"
    if b.error:
        return f"ERROR ({b.error})"
    misses = []
    if b.target_s is not None and b.median is not None and b.median > b.target_s:
        misses.append(f"time {b.median / b.target_s:.1f}× target")
    if b.target_rss_mib is not None and b.peak_rss_mib is not None and b.peak_rss_mib > b.target_rss_mib:
        misses.append(f"RSS {b.peak_rss_mib / b.target_rss_mib:.2f}× target")
    if b.target_s is None and b.target_rss_mib is None:
        return "—"
    return "met" if not misses else "missed: " + ", ".join(misses)


def ratio_line(benches: dict[str, Bench]) -> str:
    fast, naive = benches.get("bees_cli"), benches.get("naive_bees")
    if fast is None or naive is None or not fast.wall_s or not naive.wall_s:
        return "viralsim vs naive: not measured in this run (naive skipped)."
    r = statistics.median(naive.wall_s) / statistics.median(fast.wall_s)
    rc = statistics.median(naive.cpu_s) / statistics.median(fast.cpu_s)
    rm = naive.peak_rss_mib / fast.peak_rss_mib if naive.peak_rss_mib and fast.peak_rss_mib else float("nan")
    verdict = "met" if r >= 50 else "missed"
    return (
        f"viralsim vs naive (bees_bike, whole process, same invocation): **{r:.0f}× faster** wall"
        f" ({rc:.0f}× less CPU, {rm:.1f}× less peak RSS); target ≥ 50×: {verdict}."
    )


def table(benches: list[Bench]) -> str:
    head = "| benchmark | runs | median s | min s | max s | CPU s (median) | peak RSS MiB | target | result | output |"
    rows = [head, "|" + "---|" * 10]
    for b in benches:
        if b.skipped:
            continue
        t = b.times
        cpu = statistics.median(b.cpu_s) if b.cpu_s and not b.inprocess else None  # a child's CPU is not simulate()'s
        rss = f"{b.peak_rss_mib:.0f}" if b.peak_rss_mib else "—"
        runs = f"{len(t)}" + (" in 1 process" if b.inprocess and t else "")
        rows.append(
            f"| `{b.name}` | {runs} | {_s(b.median)} | {_s(min(t) if t else None)} | {_s(max(t) if t else None)} "
            f"| {_s(cpu)} | {rss} | {_target(b)} | {_verdict(b)} | {b.note} |"
        )
    return "\n".join(rows)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import simpy

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores (shared), {cpu}; load average at start {load}; Python"
        f" {platform.python_version()}, numpy {numpy.__version__}, simpy {simpy.__version__};"
        f" viralsim at {revision()}"
    )


def revision(folder: Path = ROOT) -> str:
    """The checkout's commit, and whether viralsim/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "viralsim"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return f"commit {head}" + (" + uncommitted changes" if dirty else "")


def report(benches: list[Bench], started: str, mach: str, args: argparse.Namespace) -> str:
    by = {b.name: b for b in benches}
    cmd = "python benchmarks/run.py" + "".join(
        f" {a}"
        for a, on in (
            (f"--repeat {args.repeat}", True),
            (f"--naive-repeat {args.naive_repeat}", True),
            ("--skip-naive", args.skip_naive),
        )
        if on
    )
    lines = [
        f"Measured {started} on {mach}.",
        f"Command: `{cmd}`. Times in seconds (wall clock of the whole process unless the row is in-process).",
        "",
        table(benches),
        "",
        ratio_line(by),
    ]
    sim = by.get("bees_simulate")
    cli = by.get("bees_cli")
    start = by.get("startup")
    if sim and cli and start and sim.median and cli.median and start.median:
        lines += [
            "",
            f"Where the bees_cli wall time goes: ~{start.median:.2f} s interpreter and imports,"
            f" ~{sim.median:.2f} s `simulate()`, ~{max(cli.median - start.median - sim.median, 0):.2f} s the rest"
            " (scenario parsing and validation, JSON output, exit).",
        ]
    return "\n".join(lines)


def write_readme(text: str, start: str = START, end: str = END, heading: str = "Results") -> None:
    """Replace the README's part between the ``start`` and ``end`` markers (added under ``heading`` if missing)."""
    body = README.read_text() if README.exists() else "# viralsim benchmarks\n"
    if start not in body or end not in body:
        body = body.rstrip() + f"\n\n## {heading}\n\n{start}\n{end}\n"
    head, rest = body.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run viralsim's benchmarks (see benchmarks/README.md).")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each fast benchmark (default 5)")
    parser.add_argument(
        "--naive-repeat", type=int, default=1, help="runs of the naive baseline (default 1; ~1.5 min each)"
    )
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive baseline")
    parser.add_argument("--only", default=None, help="comma-separated benchmark names to run")
    parser.add_argument("--write-readme", action="store_true", help=f"write the results table into {README.name}")
    parser.add_argument("--json", dest="json_path", default=None, help="also write the raw measurements here")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.naive_repeat < 1:
        parser.error("--repeat and --naive-repeat must be >= 1")

    started = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    mach = machine()
    benches = benchmarks(args.repeat, args.naive_repeat)
    only = set(args.only.split(",")) if args.only else None
    if only is not None and only - {b.name for b in benches}:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(only - {b.name for b in benches}))}")
    by = {b.name: b for b in benches}
    print(f"viralsim benchmarks, {started}; {mach}", flush=True)
    failed = False
    for b in benches:
        if (only is not None and b.name not in only) or (args.skip_naive and b.name == "naive_bees"):
            b.skipped = True
            continue
        print(f"{b.name}: {b.what}", flush=True)
        run(b)
        if b.error:
            failed = True
        elif b.check is not None and b.output:
            b.note = b.check(b.output, by)
            failed |= "CHECK FAILED" in b.note
    text = report(benches, started, mach, args)
    print()
    print(text)
    if args.write_readme:
        write_readme(text)
        print(f"\nwrote the table into {README.relative_to(ROOT)}")
    if args.json_path:
        raw = [
            {
                "name": b.name,
                "cmd": b.cmd,
                "wall_s": b.wall_s,
                "cpu_s": b.cpu_s,
                "rss_kib": b.rss_kib,
                "inner_s": b.inner_s,
                "note": b.note,
                "error": b.error,
                "skipped": b.skipped,
            }
            for b in benches
        ]
        Path(args.json_path).write_text(json.dumps({"started": started, "machine": mach, "benchmarks": raw}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
