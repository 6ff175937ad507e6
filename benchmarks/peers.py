"""The share cascade against peer libraries: viralsim vs EoN and NDlib on the same graphs.

One workload, three implementations. The graph is an undirected
random graph (``--mean-degree`` contacts per node, uniform random pairs, no loops or
repeated edges) drawn from a fixed seed, so every library gets the very same graph.
The cascade is an independent cascade with edge probability ``--p`` started from the
neighbours of node 0 (node 0 itself never takes part): in viralsim node 0 is the
creator and its followers all watch; in EoN and NDlib they are the initial infecteds
and node 0 starts removed. Per library:

- **viralsim** — ``simulate(scenario, seed, graph=csr)``: the whole public call
  (population, moderation, following feed, the cascade one numpy step per
  generation, every view's outcomes, the summary with the spread-tree metrics, the
  reach curve). Graph construction: ``CSRGraph.from_edges`` from the edge arrays.
- **EoN** ``fast_nonMarkov_SIR`` — the same independent cascade: recovery after
  exactly 1, transmission times Exp(-ln(1 - p)) drawn per node in one numpy call
  (``trans_and_rec_time_fxn``, EoN's fastest way to state it).
- **EoN** ``fast_SIR`` — EoN's Markovian SIR with tau / (tau + gamma) = p (the same
  mean edge transmissibility; not the same model, shown because it is EoN's
  optimised path).
- **NDlib** ``IndependentCascadesModel`` — per-edge threshold p; the model and its
  configuration (``add_edge_configuration`` for every edge) are timed as *setup*,
  ``iteration()`` until no node is infected as the cascade.

Graph construction for EoN and NDlib is networkx (``Graph.add_edges_from`` on the
edge list), timed separately. Each (size, library) runs in its own child process
(so one library's memory and garbage never slow another); inside it, every run is
timed with ``time.perf_counter`` and the table gives medians over ``--repeat`` runs.
Ratios compare medians measured in the same invocation.

Usage::

    .venv/bin/python benchmarks/peers.py                        # 100k and 1M nodes, 5 runs each
    .venv/bin/python benchmarks/peers.py --sizes 100000 --repeat 7
    .venv/bin/python benchmarks/peers.py --write-readme         # also refresh benchmarks/README.md

EoN and NDlib come with the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import importlib.util
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = HERE / "README.md"
START, END = "<!-- peers:start -->", "<!-- peers:end -->"
SECTION = "## Share cascade vs peer libraries"
LIBRARIES = ("viralsim", "eon", "ndlib")
TARGETS = {"eon_nonmarkov": 30.0, "eon_fast_sir": 30.0, "ndlib": 50.0}


# -- the workload ---------------------------------------------------------------------------------
def edges(n: int, mean_degree: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Undirected edges (u < v) of a random graph: n * mean_degree / 2 uniform pairs, loops and repeats dropped."""
    rng = np.random.default_rng(seed)
    m = int(round(n * mean_degree / 2))
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    u, v = np.minimum(a, b), np.maximum(a, b)
    key = np.unique((u * n + v)[u != v])
    return key // n, key % n


def ic_scenario(n: int, p: float) -> Any:
    """viralsim as an independent cascade with edge probability p from node 0's neighbours.

    Every viewer shares (``p_share = 1``, no engagement or propensity scaling) to all
    contacts, each contact opens with probability p and then always watches; node 0 is
    the creator, whose followers (its neighbours) all watch; moderation auto-approves.
    """
    from viralsim import Scenario

    return Scenario.model_validate(
        {
            "name": "independent_cascade",
            "horizon_h": 1e6,
            "population": {
                "users": n,
                "topics": ["a"],
                "sessions_per_day": {"median": 24.0, "spread": 0.0},
                "diurnal_profile": [1.0] * 24,
                "propensity_spread": 0.0,
            },
            "social_graph": {"kind": "edge_list", "path": "unused"},  # the graph is passed to simulate()
            "creator": {"user": 0},
            "video": {"topic": "a", "upload_h": 0.0},
            "platform": {
                "moderation": {"auto_approve_below": 1.0, "auto_remove_above": 1.0},
                "push": {"mode": "social", "cohorts": [1]},
                "following": {"watch_probability": 1.0},
                "sharing": {"recipients_per_share": "all", "open_probability": p},
            },
            "behaviour": {"p_share": 1.0, "engagement_elasticity": 0.0},
        }
    )


CPU: dict[str, list[float]] = {}  # CPU seconds of every timed call, by key (reported next to wall time)


def timed(f: Any, *args: Any, key: str = "", **kwargs: Any) -> tuple[float, Any]:
    """Wall seconds of ``f(*args, **kwargs)`` and its result; its CPU seconds go to ``CPU[key]``."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = f(*args, **kwargs)
    wall = time.perf_counter() - t0
    CPU.setdefault(key, []).append(time.process_time() - c0)
    return wall, out


def networkx_graph(src: np.ndarray, dst: np.ndarray, n: int) -> Any:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
    return g


# -- children: one library, one size ----------------------------------------------------------------
def child_viralsim(n: int, args: argparse.Namespace) -> dict[str, Any]:
    from viralsim import CSRGraph, simulate

    src, dst = edges(n, args.mean_degree, args.graph_seed)
    build = []
    for _ in range(args.repeat):
        t, csr = timed(CSRGraph.from_edges, np.concatenate([src, dst]), np.concatenate([dst, src]), n)
        build.append(t)
    sc = ic_scenario(n, args.p)
    runs, sizes, depth = [], [], []
    for seed in range(args.repeat):
        t, r = timed(simulate, sc, seed=seed, graph=csr, key="viralsim")
        runs.append(t)
        sizes.append(r.summary["views"])
        depth.append(r.summary["cascade_depth"])
    import viralsim

    source = str(Path(viralsim.__file__).resolve().parent.parent)  # the checkout that was measured
    return {
        "build": {"viralsim_csr": build},
        "run": {"viralsim": runs},
        "size": {"viralsim": sizes},
        "source": source,
        "edges": int(len(src)),
        "roots": int(csr.degree(np.array([0]))[0]),
        "depth": depth,
    }


def child_eon(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import EoN

    src, dst = edges(n, args.mean_degree, args.graph_seed)
    build = []
    for _ in range(args.build_repeat):
        g = None
        gc.collect()
        t, g = timed(networkx_graph, src, dst, n)
        build.append(t)
    roots = list(g.neighbors(0))
    tau = -math.log1p(-args.p)

    def ic_delays(node: Any, susceptible: list[Any], rng: np.random.Generator) -> tuple[dict[Any, float], float]:
        # recovery after exactly 1; an edge transmits iff its Exp(tau) time is below 1: probability p
        return dict(zip(susceptible, rng.exponential(1.0 / tau, len(susceptible)).tolist(), strict=True)), 1.0

    runs: dict[str, list[float]] = {"eon_nonmarkov": [], "eon_fast_sir": []}
    sizes: dict[str, list[int]] = {"eon_nonmarkov": [], "eon_fast_sir": []}
    for seed in range(args.repeat):
        rng = np.random.default_rng(seed)
        t, out = timed(
            EoN.fast_nonMarkov_SIR,
            g,
            trans_and_rec_time_fxn=ic_delays,
            trans_and_rec_time_args=(rng,),
            initial_infecteds=roots,
            initial_recovereds=[0],
            rng=rng,
            key="eon_nonmarkov",
        )
        runs["eon_nonmarkov"].append(t)
        sizes["eon_nonmarkov"].append(int(out[3][-1]))
        t, out = timed(
            EoN.fast_SIR,
            g,
            args.p / (1 - args.p),
            1.0,
            initial_infecteds=roots,
            initial_recovereds=[0],
            rng=rng,
            key="eon_fast_sir",
        )
        runs["eon_fast_sir"].append(t)
        sizes["eon_fast_sir"].append(int(out[3][-1]))
    return {"build": {"networkx": build}, "run": runs, "size": sizes}


def child_ndlib(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc

    src, dst = edges(n, args.mean_degree, args.graph_seed)
    g = networkx_graph(src, dst, n)
    roots = list(g.neighbors(0))

    def setup(seed: int) -> Any:
        model = ep.IndependentCascadesModel(g, seed=seed)
        config = mc.Configuration()
        config.add_model_initial_configuration("Infected", roots)
        config.add_model_initial_configuration("Removed", [0])
        for e in g.edges():
            config.add_edge_configuration("threshold", e, args.p)
        model.set_initial_status(config)
        return model

    def cascade(model: Any) -> int:
        while True:
            it = model.iteration(node_status=False)
            if it["iteration"] > 0 and it["node_count"][1] == 0:
                return int(it["node_count"][2]) - 1  # node 0 started removed

    setups, runs, sizes = [], [], []
    for seed in range(args.ndlib_repeat or args.repeat):
        model = None
        gc.collect()
        t, model = timed(setup, seed)
        setups.append(t)
        t, size = timed(cascade, model, key="ndlib")
        runs.append(t)
        sizes.append(size)
    return {"setup": {"ndlib": setups}, "run": {"ndlib": runs}, "size": {"ndlib": sizes}}


def child(args: argparse.Namespace) -> None:
    fn = {"viralsim": child_viralsim, "eon": child_eon, "ndlib": child_ndlib}[args.child]
    out = fn(args.n, args)
    out["cpu"] = {k: v for k, v in CPU.items() if k}
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


# -- the parent: run the children, tabulate ------------------------------------------------------
def missing_peers() -> list[str]:
    return [name for name, mod in (("EoN", "EoN"), ("NDlib", "ndlib")) if importlib.util.find_spec(mod) is None]


def run_child(lib: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        lib,
        "--n",
        str(n),
        "--repeat",
        str(args.repeat),
        "--build-repeat",
        str(args.build_repeat),
        "--ndlib-repeat",
        str(args.ndlib_repeat or args.repeat),
        "--p",
        repr(args.p),
        "--mean-degree",
        repr(args.mean_degree),
        "--graph-seed",
        str(args.graph_seed),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        raise SystemExit(f"peers.py: {lib} at {n:,} nodes failed (exit {proc.returncode}): {tail}")
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"  {lib:8s} {n:>9,} nodes: done in {time.perf_counter() - t0:.0f} s, peak RSS {out['peak_rss_mib']:.0f} MiB",
        flush=True,
    )
    return out


def fmt(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def table(results: dict[int, dict[str, dict[str, Any]]], args: argparse.Namespace) -> str:
    rows = [
        "| nodes | what | call | runs | median s | min s | max s | CPU s (median) | final size (median)"
        " | vs viralsim (wall) | vs viralsim (CPU) | target | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    med = statistics.median
    for n, by_lib in results.items():
        vs = by_lib["viralsim"]
        base, base_cpu = med(vs["run"]["viralsim"]), med(vs["cpu"]["viralsim"])
        nodes = f"{n:,}"

        def row(
            what: str,
            call: str,
            times: list[float],
            cpu: list[float] | None,
            size: list[int] | None,
            ratio: float | None,
            ratio_cpu: float | None,
            target: float | None,
            nodes: str = nodes,
        ) -> None:
            size_s = f"{int(med(size)):,}" if size else "—"
            cpu_s = fmt(med(cpu)) if cpu else "—"
            r_s = "1" if ratio == 1.0 else (f"{ratio:.1f}×" if ratio is not None else "—")
            rc_s = "1" if ratio_cpu == 1.0 else (f"{ratio_cpu:.1f}×" if ratio_cpu is not None else "—")
            target_s = f"≥ {target:.0f}×" if target else "—"
            result = "—" if not target or ratio is None else ("met" if ratio >= target else "missed")
            rows.append(
                f"| {nodes} | {what} | {call} | {len(times)} | {fmt(med(times))} | {fmt(min(times))}"
                f" | {fmt(max(times))} | {cpu_s} | {size_s} | {r_s} | {rc_s} | {target_s} | {result} |"
            )

        row(
            "graph",
            "viralsim `CSRGraph.from_edges` (arrays)",
            vs["build"]["viralsim_csr"],
            None,
            None,
            None,
            None,
            None,
        )
        if "eon" in by_lib:
            nxb = by_lib["eon"]["build"]["networkx"]
            row("graph", "networkx `Graph.add_edges_from`", nxb, None, None, None, None, None)
            notes.append(
                f"{nodes} nodes: graph construction, networkx / viralsim CSR = "
                f"**{med(nxb) / med(vs['build']['viralsim_csr']):.0f}×**"
            )
        row(
            "cascade",
            "viralsim `simulate(graph=csr)`",
            vs["run"]["viralsim"],
            vs["cpu"]["viralsim"],
            vs["size"]["viralsim"],
            1.0,
            1.0,
            None,
        )
        peers = [
            ("eon", "eon_nonmarkov", "EoN `fast_nonMarkov_SIR` (same IC)"),
            ("eon", "eon_fast_sir", "EoN `fast_SIR` (Markovian, same mean T)"),
            ("ndlib", "ndlib", "NDlib `IndependentCascades` `iteration()`"),
        ]
        for lib, key, call in peers:
            if lib not in by_lib:
                continue
            times, cpu = by_lib[lib]["run"][key], by_lib[lib]["cpu"][key]
            ratio, ratio_cpu = med(times) / base, med(cpu) / base_cpu
            row("cascade", call, times, cpu, by_lib[lib]["size"][key], ratio, ratio_cpu, TARGETS[key])
            notes.append(
                f"{nodes} nodes: {call.split(' (')[0]} / viralsim = **{ratio:.0f}×** wall, {ratio_cpu:.0f}× CPU"
                f" (target ≥ {TARGETS[key]:.0f}×: {'met' if ratio >= TARGETS[key] else 'missed'})"
            )
        if "ndlib" in by_lib:
            nd = by_lib["ndlib"]
            row("setup", "NDlib model + per-edge thresholds", nd["setup"]["ndlib"], None, None, None, None, None)
        mem = ", ".join(f"{lib} {by_lib[lib]['peak_rss_mib']:,.0f} MiB" for lib in LIBRARIES if lib in by_lib)
        notes.append(
            f"{nodes} nodes: {vs['edges']:,} edges, {vs['roots']} roots, cascade depth "
            f"{int(med(vs['depth']))} share generations (viralsim); peak RSS per child: {mem}"
        )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    source = next(iter(results.values()))["viralsim"].get("source", ROOT)
    import networkx as nx

    versions = f"Python {platform.python_version()}, numpy {np.__version__}, networkx {nx.__version__}"
    for name, dist in (("EoN", "EoN"), ("NDlib", "ndlib")):
        try:
            from importlib.metadata import version

            versions += f", {name} {version(dist)}"
        except Exception:  # noqa: BLE001 - a version string is decoration
            pass
    head = (
        f"Measured {dt.datetime.now():%Y-%m-%d %H:%M} on {os.cpu_count()} cores (shared); load average at end "
        f"{load}; {versions}; viralsim at commit {commit(source)}.\n"
        f"Command: `{command(args)}`. Random graph, mean degree {args.mean_degree:g}, edge probability "
        f"p = {args.p:g} (R ≈ {args.mean_degree * args.p:.1f}), roots = node 0's neighbours; times in seconds, "
        f"in-process, over the runs; ratios are medians over medians.\n"
    )
    return head + "\n" + "\n".join(rows) + "\n\n" + "\n".join(f"- {r}" for r in notes)


def commit(source: str | Path = ROOT) -> str:
    """The git commit of the viralsim checkout at ``source``, marked when its package has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=source, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "viralsim"], cwd=source, capture_output=True, text=True
        )
    except OSError:
        return "?"
    return (head.stdout.strip() or "?") + (" with uncommitted changes to viralsim/" if dirty.stdout.strip() else "")


def command(args: argparse.Namespace) -> str:
    parts = ["python benchmarks/peers.py", f"--sizes {','.join(str(n) for n in args.sizes)}", f"--repeat {args.repeat}"]
    if args.ndlib_repeat:
        parts.append(f"--ndlib-repeat {args.ndlib_repeat}")
    if args.skip:
        parts.append(f"--skip {','.join(args.skip)}")
    return " ".join(parts)


def write_readme(text: str) -> None:
    """Replace the text between the peers markers at the end of the README (append the section if absent)."""
    body = README.read_text()
    if START not in body or END not in body:
        body = body.rstrip() + f"\n\n{SECTION}\n\n{START}\n{END}\n"
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per library and size (default 5)")
    ap.add_argument("--ndlib-repeat", type=int, default=0, help="NDlib runs, if not --repeat (it is the slow one)")
    ap.add_argument("--build-repeat", type=int, default=3, help="networkx graph constructions timed (default 3)")
    ap.add_argument("--p", type=float, default=0.15, help="edge probability of the cascade (default 0.15)")
    ap.add_argument("--mean-degree", type=float, default=10.0)
    ap.add_argument("--graph-seed", type=int, default=2026)
    ap.add_argument("--skip", type=lambda s: [x for x in s.split(",") if x], default=[], help="e.g. ndlib")
    ap.add_argument("--write-readme", action="store_true", help="refresh the peers table in benchmarks/README.md")
    ap.add_argument("--json", type=Path, help="also save the raw measurements here")
    ap.add_argument("--child", choices=LIBRARIES, help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    unknown = set(args.skip) - {"eon", "ndlib"}
    if unknown:
        ap.error(f"--skip takes eon and/or ndlib, got {', '.join(sorted(unknown))}")
    missing = [m for m in missing_peers() if m.lower() not in args.skip]
    if missing:
        print(
            f"peers.py: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed;"
            f" {'it comes' if len(missing) == 1 else 'they come'} with the bench extra:\n"
            f"    .venv/bin/pip install -e '.[bench]'\n"
            f"or leave {'it' if len(missing) == 1 else 'them'} out: --skip {','.join(m.lower() for m in missing)}",
            file=sys.stderr,
        )
        sys.exit(1)
    libs = [lib for lib in LIBRARIES if lib not in args.skip]
    results: dict[int, dict[str, dict[str, Any]]] = {}
    for n in args.sizes:
        results[n] = {lib: run_child(lib, n, args) for lib in libs}
    text = table(results, args)
    print()
    print(text)
    if args.json:
        args.json.write_text(json.dumps({str(n): r for n, r in results.items()}, indent=1))
    if args.write_readme:
        write_readme(text)
        print(f"\nwrote {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
