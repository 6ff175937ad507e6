"""Ensembles, paired comparisons and parameter sweeps.

A *plan* names every run to do: the scenario's variants (``"base"`` for the
scenario itself), the points of a parameter grid (dotted field -> value) and
the run indices ``0..runs-1``. Run ``i`` of every variant and every grid point
uses ``SeedSequence(seed, spawn_key=(i,))``: variants and grid points are
paired on common random numbers, and a run's result depends on nothing but
(scenario, seed, run) — not on the executor, the number of workers or the
chunking.

Runs go to an executor in *chunks* (lists of runs), so that per-task overhead
stays small; each chunk returns one flat row per run (the summary, and the
run's reach curve on the scenario's time grid). A *sink* (see
``viralsim.io.results_store``) may persist finished chunks and tell which runs
are already done, which is how an interrupted sweep resumes. This module does
no file IO and never prints; progress is reported through a callback.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from viralsim._version import __version__
from viralsim.engine import simulate
from viralsim.executors import Executor, make_executor
from viralsim.result import SOURCES
from viralsim.scenario import Scenario, apply_variant, problems

__all__ = [
    "BASE",
    "COMPARE_METRICS",
    "QUANTILES",
    "SUMMARY_COLUMNS",
    "EnsembleResult",
    "Plan",
    "bands",
    "compare",
    "compare_plan",
    "ensemble_plan",
    "dotted_override",
    "execute",
    "run_ensemble",
    "sweep",
    "sweep_plan",
]

#: The label of the scenario itself among its variants.
BASE = "base"
#: Quantiles of the reach-curve bands (and the column names ``q05`` ... ``q95``).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Summary keys kept per run (flat scalars), in table order.
SUMMARY_COLUMNS = (
    "views",
    "unique_viewers",
    "likes",
    "comments",
    "shares",
    "follows",
    "profile_clicks",
    "completions",
    "engaged_views",
    "cost_per_engaged_view",
    "share_to_view",
    "algorithmic_share",
    "stages_reached",
    "stages_passed",
    "stop_reason",
    "stop_h",
    "recognised_topic",
    "peak_rate_h",
    "time_to_10k_views_h",
    "time_to_100k_views_h",
    "cascade_views",
    "cascade_depth",
    "cascade_max_breadth",
    "structural_virality",
    "cross_posted",
    "views_second",
    "views_total",
)
#: What ``compare`` puts side by side.
COMPARE_METRICS = ("views", "shares", "share_to_view", "algorithmic_share", "stages_reached", "structural_virality")
_CURVES = ("total", *SOURCES)
_NAN_WHEN_NONE = {
    "stop_h",
    "peak_rate_h",
    "time_to_10k_views_h",
    "time_to_100k_views_h",
    "structural_virality",
    "cost_per_engaged_view",
    "views_second",
    "views_total",
}


def dotted_override(path: str, value: Any) -> dict[str, Any]:
    """``"a.b.c", v`` -> ``{"a": {"b": {"c": v}}}`` (how a swept field becomes a variant table)."""
    out: dict[str, Any] = {}
    node = out
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


@dataclass(frozen=True)
class Plan:
    """Every run of an ensemble, comparison or sweep, and how to resolve its scenario.

    ``variants`` are labels (:data:`BASE` or names of the scenario's variants);
    ``points`` are grid points (dotted field -> value), ``({},)`` when nothing
    is swept. A grid point is applied on top of the variant.
    """

    kind: str
    scenario: Scenario
    seed: int
    runs: int
    variants: tuple[str, ...] = (BASE,)
    params: tuple[str, ...] = ()
    points: tuple[Mapping[str, Any], ...] = ({},)
    _cache: dict[tuple[str, int], Scenario] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.runs < 1:
            raise ValueError(f"runs must be >= 1, got {self.runs}")
        for label in self.variants:
            if label != BASE and label not in self.scenario.variants:
                self.scenario.variant(label)  # raises KeyError naming the known variants
        for i in range(len(self.points)):
            for label in self.variants:
                self.resolved(label, i)  # every combination is valid before any run starts

    def resolved(self, label: str, point: int) -> Scenario:
        """The scenario run for variant ``label`` at grid point ``point`` (validated)."""
        key = (label, point)
        sc = self._cache.get(key)
        if sc is None:
            sc = self.scenario.variant(None if label == BASE else label)
            override: dict[str, Any] = {}
            for path, value in self.points[point].items():
                _merge(override, dotted_override(path, value))
            if override:
                sc = apply_variant(sc, override)
            bad = problems(sc)
            if bad:
                loc, msg = bad[0]
                raise ValueError(f"{'.'.join(map(str, loc))}: {msg}")
            self._cache[key] = sc
        return sc

    def keys(self) -> list[tuple[str, int, int]]:
        """Every run as ``(variant, point, run)``, in table order."""
        return [(v, p, r) for v in self.variants for p in range(len(self.points)) for r in range(self.runs)]

    def in_order(self, rows: Iterable[Mapping[str, Any]]) -> list[Any]:
        """``rows`` (one per run) sorted in table order: variant, grid point, run."""
        order = {k: i for i, k in enumerate(self.keys())}
        return sorted(rows, key=lambda r: order[(r["variant"], r["point"], r["run"])])

    def manifest(self) -> dict[str, Any]:
        """What the plan is, as JSON-ready data (the results folder's ``manifest.json``)."""
        return {
            "kind": self.kind,
            "scenario": self.scenario.name,
            "seed": self.seed,
            "runs": self.runs,
            "variants": list(self.variants),
            "params": list(self.params),
            "points": [dict(p) for p in self.points],
            "version": __version__,
            "fingerprint": self.fingerprint(),
            "provenance": {"scenario": self.scenario.model_dump(mode="json"), "version": __version__},
        }

    def fingerprint(self) -> str:
        """A hash of everything that decides the results (to refuse resuming a different command)."""
        data = {
            "scenario": self.scenario.model_dump(mode="json"),
            "seed": self.seed,
            "runs": self.runs,
            "variants": list(self.variants),
            "params": list(self.params),
            "points": [dict(p) for p in self.points],
            "version": __version__,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for k, v in other.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


# --- the work of one chunk (runs in a worker: top-level, picklable) -----------------------------


@dataclass(frozen=True)
class Chunk:
    """Runs for one worker task: ``(variant, point, run)`` keys and their resolved scenarios."""

    seed: int
    keys: tuple[tuple[str, int, int], ...]
    scenarios: Mapping[tuple[str, int], Scenario]
    params: Mapping[int, Mapping[str, Any]]
    graph: Any = None


def run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """Simulate every run of ``chunk``; one flat row per run (summary and reach curve)."""
    return [_row(chunk, key) for key in chunk.keys]


def _row(chunk: Chunk, key: tuple[str, int, int]) -> dict[str, Any]:
    label, point, run = key
    res = simulate(chunk.scenarios[(label, point)], seed=chunk.seed, run=run, graph=chunk.graph, record="summary")
    s = res.summary
    row: dict[str, Any] = {"variant": label, "point": point, **chunk.params[point], "run": run, "seed": chunk.seed}
    for k in SUMMARY_COLUMNS:
        v = s.get(k)
        row[k] = math.nan if v is None and k in _NAN_WHEN_NONE else v
    for name in SOURCES:
        row[f"views_{name}"] = s["views_by_source"][name]
    row["moderation_decision"] = res.moderation.get("decision")
    row["moderation_delay_h"] = _float(res.moderation.get("delay_h"))
    row["moderation_queue_delay_h"] = _float(res.moderation.get("queue_delay_h"))
    curve = res.reach_curve
    row["curve_time_h"] = np.asarray(curve["time_h"], dtype=np.float64)
    for name in _CURVES:
        row[f"curve_{name}"] = np.asarray(curve[name], dtype=np.int64)
    return row


def _float(x: Any) -> float:
    return math.nan if x is None else float(x)


# --- running a plan ----------------------------------------------------------------------------


class Sink(Protocol):
    """Where finished rows go (e.g. a results folder that lets a rerun resume)."""

    def done(self) -> set[tuple[str, int, int]]:
        """Keys of the runs already finished."""
        ...

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Keep the rows of one finished chunk (all or nothing)."""
        ...

    def rows(self) -> list[dict[str, Any]]:
        """Every finished row (after the last chunk)."""
        ...


class MemorySink:
    """Rows kept in memory (no resume)."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []

    def done(self) -> set[tuple[str, int, int]]:
        return {(r["variant"], r["point"], r["run"]) for r in self._rows}

    def add(self, rows: list[dict[str, Any]]) -> None:
        self._rows.extend(rows)

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)


Progress = Callable[[int, int], None]


def chunk_size(todo: int, workers: int, minimum: int = 1, maximum: int = 32) -> int:
    """Runs per chunk: ~8 chunks per worker for balance, within ``[minimum, maximum]``."""
    if todo <= 0:
        return 1
    return max(1, min(todo, max(minimum, min(maximum, math.ceil(todo / (8 * max(1, workers)))))))


def chunks(plan: Plan, keys: Sequence[tuple[str, int, int]], size: int, graph: Any = None) -> Iterator[Chunk]:
    """``keys`` cut into chunks of ``size`` runs, each carrying the scenarios it needs."""
    for i in range(0, len(keys), size):
        part = tuple(keys[i : i + size])
        needed = {(v, p) for v, p, _ in part}
        yield Chunk(
            seed=plan.seed,
            keys=part,
            scenarios={k: plan.resolved(*k) for k in needed},
            params={p: dict(plan.points[p]) for _, p in needed},
            graph=graph,
        )


def execute(
    plan: Plan,
    executor: Executor | None = None,
    *,
    sink: Sink | None = None,
    progress: Progress | None = None,
    graph: Any = None,
) -> EnsembleResult:
    """Run every run of ``plan`` not yet in ``sink``; return all rows as an :class:`EnsembleResult`."""
    sink = MemorySink() if sink is None else sink
    keys = plan.keys()
    done = sink.done()
    todo = [k for k in keys if k not in done]
    total = len(keys)
    count = total - len(todo)
    if progress is not None:
        progress(count, total)
    own = executor is None
    if executor is None:
        executor = make_executor("auto", work=len(todo) * plan.scenario.population.users)
    try:
        size = chunk_size(len(todo), executor.workers, executor.min_chunk, executor.max_chunk)
        for rows in executor.map(run_chunk, chunks(plan, todo, size, graph)):
            sink.add(rows)
            count += len(rows)
            if progress is not None:
                progress(count, total)
    finally:
        if own:
            executor.close()
    return EnsembleResult.from_rows(plan, sink.rows())


def _seed(scenario: Scenario, seed: int | None) -> int:
    seed = scenario.seed if seed is None else seed
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return seed


def ensemble_plan(scenario: Scenario, runs: int = 100, seed: int | None = None, variant: str | None = None) -> Plan:
    """The plan of ``runs`` replications of the scenario (or one of its variants)."""
    return Plan("ensemble", scenario, _seed(scenario, seed), runs, variants=(variant or BASE,))


def compare_plan(
    scenario: Scenario, variants: Iterable[str] | None = None, runs: int = 100, seed: int | None = None
) -> Plan:
    """The plan of a paired comparison: the base and ``variants`` (default: all of them)."""
    names = list(scenario.variants) if variants is None else list(variants)
    if BASE in names:
        raise ValueError(f"a variant may not be called {BASE!r}: that label is the scenario itself")
    return Plan("compare", scenario, _seed(scenario, seed), runs, variants=(BASE, *dict.fromkeys(names)))


def run_ensemble(
    scenario: Scenario,
    runs: int = 100,
    seed: int | None = None,
    variant: str | None = None,
    executor: Executor | None = None,
    *,
    sink: Sink | None = None,
    progress: Progress | None = None,
    graph: Any = None,
) -> EnsembleResult:
    """``runs`` replications of one scenario (or one of its variants), summary only.

    Run ``i`` uses ``SeedSequence(seed, spawn_key=(i,))``: the result is the
    same for any executor, number of workers or chunking.
    """
    return execute(ensemble_plan(scenario, runs, seed, variant), executor, sink=sink, progress=progress, graph=graph)


def compare(
    scenario: Scenario,
    variants: Iterable[str] | None = None,
    runs: int = 100,
    seed: int | None = None,
    executor: Executor | None = None,
    *,
    sink: Sink | None = None,
    progress: Progress | None = None,
    graph: Any = None,
) -> EnsembleResult:
    """The base scenario and its variants (default: all of them) on the same seeds (paired)."""
    return execute(compare_plan(scenario, variants, runs, seed), executor, sink=sink, progress=progress, graph=graph)


def sweep_plan(
    scenario: Scenario,
    params: Mapping[str, Sequence[Any]],
    runs: int = 20,
    seed: int | None = None,
    variant: str | None = None,
) -> Plan:
    """The plan of a sweep: the full grid over ``params`` (dotted field -> values)."""
    seed = _seed(scenario, seed)
    if not params:
        raise ValueError("a sweep needs at least one parameter")
    names = tuple(params)
    points = tuple(dict(zip(names, values, strict=True)) for values in itertools.product(*params.values()))
    return Plan("sweep", scenario, seed, runs, variants=(variant or BASE,), params=names, points=points)


def sweep(
    scenario: Scenario,
    params: Mapping[str, Sequence[Any]],
    runs: int = 20,
    seed: int | None = None,
    variant: str | None = None,
    executor: Executor | None = None,
    *,
    sink: Sink | None = None,
    progress: Progress | None = None,
    graph: Any = None,
) -> EnsembleResult:
    """Every point of the grid over ``params`` (dotted field -> values), ``runs`` runs each."""
    plan = sweep_plan(scenario, params, runs, seed, variant)
    return execute(plan, executor, sink=sink, progress=progress, graph=graph)


# --- results -----------------------------------------------------------------------------------


def bands(rows: Sequence[Mapping[str, Any]], plan: Plan) -> Any:
    """Reach-curve quantile bands per (variant, point, source), long format (pandas)."""
    import pandas as pd

    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["variant"], r["point"]), []).append(r)
    frames = []
    for label, point in [(v, p) for v in plan.variants for p in range(len(plan.points))]:
        members = groups.get((label, point))
        if not members:
            continue
        grid = np.asarray(members[0]["curve_time_h"], dtype=np.float64)
        for name in _CURVES:
            curves = np.stack([np.asarray(m[f"curve_{name}"]) for m in members]).astype(np.float64)
            q = np.quantile(curves, QUANTILES, axis=0)
            frame = {"variant": label, "point": point, "source": name, "time_h": grid}
            frame.update({_qname(p): q[i] for i, p in enumerate(QUANTILES)})
            frame["mean"] = curves.mean(axis=0)
            frames.append(pd.DataFrame(frame))
    cols = ["variant", "point", "source", "time_h", *map(_qname, QUANTILES), "mean"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def _qname(q: float) -> str:
    return f"q{round(q * 100):02d}"


@dataclass(frozen=True)
class EnsembleResult:
    """Per-run summaries (``runs``, one row per run) and reach-curve quantile bands (``bands``)."""

    plan: Plan
    runs: Any
    bands: Any

    @classmethod
    def from_rows(cls, plan: Plan, rows: Sequence[Mapping[str, Any]]) -> EnsembleResult:
        import pandas as pd

        rows = plan.in_order(rows)
        table = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("curve_")} for r in rows])
        return cls(plan=plan, runs=table, bands=bands(rows, plan))

    def manifest(self) -> dict[str, Any]:
        return self.plan.manifest()

    def table(self, metrics: Sequence[str] = COMPARE_METRICS) -> Any:
        """Median and 90 % interval of each metric, one row per variant (and grid point)."""
        return summary_table(self.runs, metrics, by=self._by())

    def differences(self, metrics: Sequence[str] = COMPARE_METRICS, baseline: str = BASE) -> Any:
        """Paired differences ``variant - baseline`` over the same runs: median and 90 % interval."""
        return paired_differences(self.runs, metrics, baseline=baseline)

    def _by(self) -> list[str]:
        return ["variant", "point", *self.plan.params] if self.plan.params else ["variant"]


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    """5 %, 50 % and 95 % quantiles; whole-number data get whole-number ends (empirical quantiles)."""
    if not len(x):
        return math.nan, math.nan, math.nan
    if np.all(x == np.round(x)):
        lo, hi = np.quantile(x, [0.05, 0.95], method="inverted_cdf")
    else:
        lo, hi = np.quantile(x, [0.05, 0.95])
    return float(lo), float(np.median(x)), float(hi)


def summary_table(runs: Any, metrics: Sequence[str], by: Sequence[str] = ("variant",)) -> Any:
    """Median, 5 % and 95 % quantiles of ``metrics`` per group, groups in their first-seen order."""
    import pandas as pd

    out = []
    for key, group in runs.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        row["runs"] = len(group)
        for m in metrics:
            x = pd.to_numeric(group[m], errors="coerce").to_numpy(dtype=np.float64)
            x = x[~np.isnan(x)]
            lo, med, hi = _interval(x)
            row[f"{m}_median"], row[f"{m}_q05"], row[f"{m}_q95"] = med, lo, hi
        out.append(row)
    return pd.DataFrame(out)


def paired_differences(runs: Any, metrics: Sequence[str], baseline: str = BASE) -> Any:
    """Per variant: median and 90 % interval of ``metric(variant, run) - metric(baseline, run)``."""
    import pandas as pd

    base = runs[runs["variant"] == baseline].set_index(["point", "run"])
    out = []
    for label, group in runs[runs["variant"] != baseline].groupby("variant", sort=False):
        g = group.set_index(["point", "run"])
        common = g.index.intersection(base.index)
        row: dict[str, Any] = {"variant": label, "baseline": baseline, "pairs": len(common)}
        for m in metrics:
            d = (
                pd.to_numeric(g.loc[common, m], errors="coerce") - pd.to_numeric(base.loc[common, m], errors="coerce")
            ).to_numpy(dtype=np.float64)
            d = d[~np.isnan(d)]
            lo, med, hi = _interval(d)
            row[f"{m}_median"], row[f"{m}_q05"], row[f"{m}_q95"] = med, lo, hi
        out.append(row)
    return pd.DataFrame(out)
