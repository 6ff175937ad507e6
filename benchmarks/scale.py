"""Platform-scale benchmarks: time and peak memory of whole runs, by population and by views.

Every point is a whole process, ``viralsim run FILE --json``, whose JSON carries the
process's own peak resident memory (``peak_memory_mib``, from ``getrusage``); the wall
time is measured around it. Medians of ``--repeat`` runs (the machine is shared and
noisy). The scenarios are ``scenarios/platform_scale.toml`` with the population size,
the representation or the push's tiers changed:

``platform_scale``
    the scenario as it is: 1.5e9 users, eight tiers, > 10^7 views. Targets: <= 15 s and
    <= 3 GB. The baseline measured in the same invocation is ``viralsim run
    scenarios/bees_bike.toml --json`` (2.4M users, ~700k views); the table gives the ratio.
``by_population``
    the push stopped after the 500k tier (~0.6M views) on 10^6 ... 1.5e9 users, implicit
    (memory should stay flat) and materialised where it fits (memory grows with users).
``by_views``
    1.5e9 users, the push stopped after 4 ... 8 tiers: 10^5 ... 1.6 x 10^7 views.

Usage::

    .venv/bin/python benchmarks/scale.py                   # everything, ~4 min
    .venv/bin/python benchmarks/scale.py --only by_views --repeat 5
    .venv/bin/python benchmarks/scale.py --write-readme    # refresh benchmarks/README.md and docs/scale_memory.png
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
PLOT = ROOT / "docs" / "scale_memory.png"
START, END = "<!-- scale:start -->", "<!-- scale:end -->"
SCENARIO = ROOT / "scenarios" / "platform_scale.toml"
TIERS = [300, 3_000, 15_000, 100_000, 500_000, 2_000_000, 5_000_000, 12_000_000]
VIRALSIM = [sys.executable, "-m", "viralsim"]


def variant_file(folder: Path, users: int, tiers: int, how: str = "auto") -> Path:
    """platform_scale.toml with ``users``, the first ``tiers`` tiers and a representation."""
    text = SCENARIO.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^users = [\d_]+", f"users = {users}", text, count=1)
    text = re.sub(r"(?m)^cohorts = \[.*\]", f"cohorts = {TIERS[:tiers]}", text, count=1)
    text = re.sub(r'(?m)^representation = "\w+"', f'representation = "{how}"', text, count=1)
    text = text.split("[variants.")[0]
    path = folder / f"u{users}_t{tiers}_{how}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_once(path: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    done = subprocess.run([*VIRALSIM, "run", str(path), "--json"], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{path.name}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    out = json.loads(done.stdout)
    return {
        "wall_s": wall,
        "peak_mib": out["peak_memory_mib"],
        "views": out["views"],
        "users": out["population"],
        "in_memory": out["users_materialised"],
        "representation": out["representation"],
        "stages": out["stages_passed"],
    }


def point(path: Path, repeat: int, label: str) -> dict[str, Any]:
    runs = [run_once(path) for _ in range(repeat)]
    if len({r["views"] for r in runs}) != 1:
        raise SystemExit(f"{label}: the same run gave different views: {[r['views'] for r in runs]}")
    row = dict(runs[0])
    row["wall_s"] = statistics.median(r["wall_s"] for r in runs)
    row["peak_mib"] = statistics.median(r["peak_mib"] for r in runs)
    row["walls"] = [round(r["wall_s"], 2) for r in runs]
    print(
        f"  {label}: {row['views']:,} views, {row['wall_s']:.2f} s, {row['peak_mib']:.0f} MiB "
        f"({row['in_memory']:,} users in memory, {row['representation']})",
        flush=True,
    )
    return row


def bench_platform_scale(folder: Path, repeat: int) -> dict[str, Any]:
    bees = ROOT / "scenarios" / "bees_bike.toml"
    main, base = [], []
    for _ in range(repeat):  # alternate with the baseline, so that a busy spell slows both
        main.append(run_once(SCENARIO))
        base.append(run_once(bees))
    med = statistics.median(r["wall_s"] for r in main)
    bmed = statistics.median(r["wall_s"] for r in base)
    row = {
        **main[0],
        "wall_s": med,
        "peak_mib": statistics.median(r["peak_mib"] for r in main),
        "walls": [round(r["wall_s"], 2) for r in main],
        "bees_s": bmed,
        "bees_peak_mib": statistics.median(r["peak_mib"] for r in base),
        "ratio": med / bmed,
    }
    print(
        f"  platform_scale: {row['views']:,} views, {med:.2f} s ({row['walls']}), {row['peak_mib']:.0f} MiB;"
        f" bees_bike {bmed:.2f} s -> ratio {row['ratio']:.1f}",
        flush=True,
    )
    return row


def bench_by_population(folder: Path, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for users in (10**6, 10**7, 10**8, 10**9, 1_500_000_000):
        rows.append(point(variant_file(folder, users, 5, "implicit"), repeat, f"implicit {users:.0e} users"))
    for users in (10**6, 10**7, 3 * 10**7):
        rows.append(point(variant_file(folder, users, 5, "materialised"), repeat, f"materialised {users:.0e} users"))
    return rows


def bench_by_views(folder: Path, repeat: int) -> list[dict[str, Any]]:
    return [
        point(variant_file(folder, 1_500_000_000, tiers, "auto"), repeat, f"1.5e9 users, {tiers} tiers")
        for tiers in (4, 5, 6, 7, 8)
    ]


def table(results: dict[str, Any]) -> str:
    lines = []
    ps = results.get("platform_scale")
    if ps:
        lines += [
            f"`viralsim run scenarios/platform_scale.toml --json` (1.5 × 10⁹ users, {ps['stages']} tiers passed): "
            f"**{ps['wall_s']:.1f} s** (runs {ps['walls']}), peak **{ps['peak_mib']:.0f} MiB**, "
            f"{ps['views']:,} views, {ps['in_memory']:,} users in memory — targets ≤ 15 s and ≤ 3 GB. "
            f"Baseline in the same invocation: `viralsim run scenarios/bees_bike.toml --json` {ps['bees_s']:.2f} s, "
            f"{ps['bees_peak_mib']:.0f} MiB; ratio {ps['ratio']:.1f}× for ~24× the views.",
            "",
        ]
    for key, title in (
        ("by_population", "By population (the push stopped after the 500k tier)"),
        ("by_views", "By views (1.5 × 10⁹ users)"),
    ):
        rows = results.get(key)
        if not rows:
            continue
        lines += [
            f"**{title}**",
            "",
            "| users | held as | users in memory | views | time (s) | peak (MiB) |",
            "|---:|---|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['users']:.2g} | {r['representation']} | {r['in_memory']:,} | {r['views']:,} |"
                f" {r['wall_s']:.2f} | {r['peak_mib']:.0f} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def plot(results: dict[str, Any]) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    pop = results.get("by_population", [])
    for how, style in (("implicit", "o-"), ("materialised", "s--")):
        rows = [r for r in pop if r["representation"] == how]
        if rows:
            left.plot([r["users"] for r in rows], [r["peak_mib"] for r in rows], style, label=how)
    left.set(
        xscale="log",
        yscale="log",
        xlabel="population (users)",
        ylabel="peak memory (MiB)",
        title="Fixed push (~0.6M views): memory vs population",
    )
    left.legend()
    rows = results.get("by_views", [])
    if rows:
        right.plot([r["views"] for r in rows], [r["peak_mib"] for r in rows], "o-", label="peak memory (MiB)")
        twin = right.twinx()
        twin.plot([r["views"] for r in rows], [r["wall_s"] for r in rows], "^:", color="tab:red", label="time (s)")
        twin.set_ylabel("time (s)", color="tab:red")
    right.set(
        xscale="log",
        yscale="log",
        xlabel="views",
        ylabel="peak memory (MiB)",
        title="1.5 × 10⁹ users: memory and time vs views",
    )
    fig.savefig(PLOT, dpi=110)


def write_readme(results: dict[str, Any]) -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{table(results)}{END}"
    if START in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text += f"\n## Platform scale (benchmarks/scale.py)\n\n{block}\n"
    README.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["platform_scale", "by_population", "by_views"], action="append")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--json", type=Path, help="also save the raw results here")
    args = parser.parse_args()
    which = args.only or ["platform_scale", "by_population", "by_views"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "platform_scale" in which:
            results["platform_scale"] = bench_platform_scale(folder, max(args.repeat, 5))
        if "by_population" in which:
            results["by_population"] = bench_by_population(folder, args.repeat)
        if "by_views" in which:
            results["by_views"] = bench_by_views(folder, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(table(results))
    if args.write_readme:
        write_readme(results)
        plot(results)


if __name__ == "__main__":
    main()
