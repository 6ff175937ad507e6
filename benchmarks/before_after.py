"""Before and after: whole-process times of two checkouts of viralsim, interleaved in one invocation.

Each case is one command, run as a fresh process in each checkout (``cwd`` = the
checkout, ``PYTHONPATH`` = the checkout, so that ``import viralsim`` finds that
checkout's package whatever the interpreter has installed). The two sides alternate
round by round, in the order old/new, then new/old, and so on, so that a busy spell of
the shared machine slows both sides alike and a slow drift cancels. Every process is
timed around its whole life (start, imports, the run, the output, exit); its CPU time
and peak resident memory come from ``os.wait4`` (the child's own ``rusage``, which on
Linux includes the worker processes it has reaped, so an ensemble's peak is the largest
of its processes).

Cases: ``import`` (``python -c "import viralsim.cli"``), ``bees``, ``creator_marketplace``
(agent engine) and ``platform_scale`` (``viralsim run FILE --json``), ``compare_bees``
(``viralsim compare scenarios/bees_bike.toml --runs 40 --json --processes 2``), and two
in-process ones, ``bees_simulate`` and ``marketplace_simulate``: ``benchmarks/time_simulate.py``
(this checkout's) run against each side's package, whose time is the child's median
``simulate()`` after a warm-up rather than its whole life (less diluted by start-up).

Reported per case and side: the median, min and max wall time, the median CPU time
and the largest peak RSS; and the ratio new/old of the medians with a 95 % bootstrap
interval (each side resampled apart, seeded) and the median of the per-round ratios.
A case is flagged as a regression when the ratio of medians exceeds 1.10 and the
sides' min..max spreads do not overlap.

Every run's JSON output is checked: all the numbers under a key holding ``views``
(the summary's views, every ensemble's bands and table rows) must be identical between
the two sides, and the same on every repeat.

Usage::

    python benchmarks/before_after.py --before /work/wt-before            # all cases, 5 rounds
    python benchmarks/before_after.py --before OLD --only bees,import --repeat 9
    python benchmarks/before_after.py --before OLD --write-readme         # refresh benchmarks/README.md

``--after`` defaults to this checkout. One untimed warm-up run of each case and side
comes first (it writes the byte-code caches and fills the page cache).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import run as whole  # benchmarks/run.py: the whole-process timing, the checkout's revision, the README's blocks

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
START, END = "<!-- before-after:start -->", "<!-- before-after:end -->"
TIMEOUT_S = 3600.0  # a child that has not ended by then is killed (a hang, not a measurement)
SIDES = ("old", "new")
VOLATILE = {"peak_memory_mib", "times_s", "median_s", "warmup_s"}  # output keys that measure the process


@dataclass
class Case:
    """One command, run in both checkouts."""

    name: str
    args: list[str]  # after `python`
    repeat: int
    what: str
    inner: bool = False  # the time is the child's own median `simulate()` (time_simulate.py), not its life
    wall_s: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    cpu_s: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SIDES})
    rss_kib: dict[str, list[int]] = field(default_factory=lambda: {s: [] for s in SIDES})
    views: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: {s: [] for s in SIDES})


def cases(repeat: int, scale_repeat: int) -> list[Case]:
    cli = ["-m", "viralsim"]
    return [
        Case("import", ["-c", "import viralsim.cli"], repeat, '`python -c "import viralsim.cli"`'),
        Case("bees", [*cli, "run", "scenarios/bees_bike.toml", "--json"], repeat, "`run bees_bike.toml --json`"),
        Case(
            "creator_marketplace",
            [*cli, "run", "scenarios/creator_marketplace.toml", "--json"],
            repeat,
            "`run creator_marketplace.toml --json` (agent engine)",
        ),
        Case(
            "platform_scale",
            [*cli, "run", "scenarios/platform_scale.toml", "--json"],
            scale_repeat,
            "`run platform_scale.toml --json`",
        ),
        Case(
            "compare_bees",
            [*cli, "compare", "scenarios/bees_bike.toml", "--runs", "40", "--json", "--processes", "2"],
            repeat,
            "`compare bees_bike.toml --runs 40 --json --processes 2`",
        ),
        Case(
            "bees_simulate",
            [str(HERE / "time_simulate.py"), "scenarios/bees_bike.toml", "--repeat", "5"],
            repeat,
            "in-process `simulate()` on bees_bike (median of 5 after a warm-up, per process)",
            inner=True,
        ),
        Case(
            "marketplace_simulate",
            [str(HERE / "time_simulate.py"), "scenarios/creator_marketplace.toml", "--repeat", "2"],
            repeat,
            "in-process `simulate()` on creator_marketplace (median of 2 after a warm-up, per process)",
            inner=True,
        ),
    ]


def run_child(cmd: list[str], folder: Path) -> tuple[float, float, int, str]:
    """Run ``cmd`` in ``folder`` with that checkout first on the path: (wall s, CPU s, peak RSS KiB, stdout)."""
    env = {**os.environ, "PYTHONPATH": str(folder)}
    wall, cpu, rss, code, out, err = whole.run_child(cmd, TIMEOUT_S, cwd=folder, env=env)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} in {folder}: exit {code}\n{err.strip()[-800:]}")
    return wall, cpu, rss, out


def view_numbers(data: Any, path: str = "", inside: bool = False) -> dict[str, Any]:
    """Every number in ``data`` under a key that holds ``views``, by its path (the run's results)."""
    found: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            found.update(view_numbers(value, f"{path}/{key}", inside or "views" in str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.update(view_numbers(value, f"{path}[{i}]", inside))
    elif inside and isinstance(data, (int, float)) and not isinstance(data, bool):
        found[path] = data
    return found


def strip(data: Any) -> Any:
    """``data`` without the keys that measure the process rather than the run (its peak memory)."""
    if isinstance(data, dict):
        return {k: strip(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [strip(v) for v in data]
    return data


def fingerprint(stdout: str) -> tuple[str, str]:
    """One run's JSON output, canonical: (its view numbers, all of it but the volatile keys); empty if none."""
    if not stdout.strip():
        return "", ""
    data = json.loads(stdout)
    numbers = view_numbers(data)
    if not numbers:
        raise SystemExit(f"no view counts in the output: {stdout[:300]}")
    return json.dumps(numbers, sort_keys=True), json.dumps(strip(data), sort_keys=True)


def measure(case: Case, side: str, folder: Path, py: str, keep: bool = True) -> None:
    wall, cpu, rss, out = run_child([py, *case.args], folder)
    if case.inner:
        wall = json.loads(out)["median_s"]
    if keep:
        case.wall_s[side].append(wall)
        case.cpu_s[side].append(cpu)
        case.rss_kib[side].append(rss)
    case.views[side].append(fingerprint(out))
    print(
        f"  {case.name:20s} {side}: {wall:7.3f} s {'simulate()' if case.inner else 'wall'}, {cpu:7.3f} s CPU, {rss / 1024:6.0f} MiB",
        flush=True,
    )


def bootstrap(old: list[float], new: list[float], n: int = 4000, seed: int = 1) -> tuple[float, float]:
    """95 % interval of median(new) / median(old), each side resampled with replacement apart."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(old), np.asarray(new)
    ratios = np.median(rng.choice(b, (n, len(b))), axis=1) / np.median(rng.choice(a, (n, len(a))), axis=1)
    lo, hi = np.quantile(ratios, [0.025, 0.975])
    return float(lo), float(hi)


def summary(case: Case) -> dict[str, Any]:
    old, new = case.wall_s["old"], case.wall_s["new"]
    ratio = statistics.median(new) / statistics.median(old)
    lo, hi = bootstrap(old, new)
    disjoint = min(new) > max(old) or max(new) < min(old)
    outputs = case.views["old"] + case.views["new"]
    return {
        "name": case.name,
        "what": case.what,
        "runs": len(old),
        "old": {"median": statistics.median(old), "min": min(old), "max": max(old)},
        "new": {"median": statistics.median(new), "min": min(new), "max": max(new)},
        "cpu_old": statistics.median(case.cpu_s["old"]),
        "cpu_new": statistics.median(case.cpu_s["new"]),
        "rss_old_mib": max(case.rss_kib["old"]) / 1024,
        "rss_new_mib": max(case.rss_kib["new"]) / 1024,
        "ratio": ratio,
        "ratio_ci": [lo, hi],
        "paired_ratio": statistics.median(n / o for o, n in zip(old, new, strict=True)),
        "regression": ratio > 1.10 and disjoint,
        "views_identical": len({v for v, _ in outputs}) == 1,
        "output_identical": len({o for _, o in outputs}) == 1,
        "view_numbers": len(json.loads(outputs[0][0])) if outputs[0][0] else 0,
        "views_checked": sum(1 for v, _ in outputs if v),
    }


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| case | runs | old median s (min–max) | new median s (min–max) | new/old (95 % CI) | per-round new/old"
        " | CPU s old → new (ratio) | peak RSS MiB old → new | views identical |"
    )
    out = [head, "|" + "---|" * 9]
    for r in rows:
        o, n = r["old"], r["new"]
        flag = " **regression**" if r["regression"] else ""
        views = "— (no output)"
        if r["views_checked"]:
            views = f"{'yes' if r['views_identical'] else '**NO**'} ({r['view_numbers']} figures, {r['views_checked']} runs)"
            views += "; whole output: " + ("identical" if r["output_identical"] else "**differs**")
        out.append(
            f"| {r['what']} | {r['runs']} | {o['median']:.3f} ({o['min']:.3f}–{o['max']:.3f})"
            f" | {n['median']:.3f} ({n['min']:.3f}–{n['max']:.3f})"
            f" | {r['ratio']:.3f} ({r['ratio_ci'][0]:.2f}–{r['ratio_ci'][1]:.2f}){flag} | {r['paired_ratio']:.3f}"
            f" | {r['cpu_old']:.2f} → {r['cpu_new']:.2f} ({r['cpu_new'] / r['cpu_old']:.2f}) | {r['rss_old_mib']:.0f} → {r['rss_new_mib']:.0f} | {views} |"
        )
    return "\n".join(out)


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def imports_from(side: str, folder: Path) -> str:
    """Where ``import viralsim`` resolves with ``PYTHONPATH`` = ``folder``; exits unless inside ``folder``."""
    where = subprocess.run(
        [sys.executable, "-c", "import viralsim; print(viralsim.__file__)"],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not where.startswith(str(folder)):
        raise SystemExit(f"{side}: viralsim imports from {where}, not from {folder}")
    return where


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="the old checkout (its folder holds viralsim/)")
    ap.add_argument("--after", type=Path, default=ROOT, help="the new checkout (default: this one)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds of each case (default 5)")
    ap.add_argument("--scale-repeat", type=int, default=3, help="rounds of platform_scale (default 3)")
    ap.add_argument("--only", default=None, help="comma-separated case names")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--write-readme", action="store_true", help=f"write the table into {README.name}")
    ap.add_argument("--json", type=Path, help="also save the raw measurements here")
    args = ap.parse_args(argv)
    folders = {"old": args.before.resolve(), "new": args.after.resolve()}
    todo = cases(args.repeat, args.scale_repeat)
    if args.only:
        names = set(args.only.split(","))
        if names - {c.name for c in todo}:
            ap.error(f"unknown case(s): {', '.join(sorted(names - {c.name for c in todo}))}")
        todo = [c for c in todo if c.name in names]
    py = sys.executable
    started = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    load_start = load()
    for side, folder in folders.items():
        where = imports_from(side, folder)
        print(f"{side}: {folder} ({whole.revision(folder)}), viralsim from {where}", flush=True)
    print(f"load average at start: {load_start}", flush=True)

    for case in todo:
        if not args.no_warmup:
            for side in SIDES:
                measure(case, side, folders[side], py, keep=False)
        for i in range(case.repeat):
            for side in SIDES if i % 2 == 0 else SIDES[::-1]:
                measure(case, side, folders[side], py)
    load_end = load()
    rows = [summary(c) for c in todo]
    cmd = f"python benchmarks/before_after.py --before OLD --repeat {args.repeat} --scale-repeat {args.scale_repeat}"
    if args.only:
        cmd += f" --only {args.only}"
    text = "\n".join(
        [
            f"Measured {started}: old = {whole.revision(folders['old'])}, new = {whole.revision(folders['new'])};"
            f" {os.cpu_count()} cores shared with other work, load average {load_start} at the start"
            f" and {load_end} at the end. Command: `{cmd}`.",
            "",
            table(rows),
        ]
    )
    print()
    print(text)
    bad = [r["name"] for r in rows if r["views_checked"] and not r["views_identical"]]
    if bad:
        print(f"\nDIFFERENT RESULTS between old and new (or between repeats): {', '.join(bad)}")
    if args.write_readme:
        whole.write_readme(text, START, END, "Before and after the engine redesign")
        print(f"\nwrote the table into {README.relative_to(ROOT)}")
    if args.json:
        raw = [{**summary(c), "wall_s": c.wall_s, "cpu_s": c.cpu_s, "rss_kib": c.rss_kib, "args": c.args} for c in todo]
        args.json.write_text(json.dumps({"started": started, "load": [load_start, load_end], "cases": raw}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
