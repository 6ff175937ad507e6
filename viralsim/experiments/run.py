"""Running a plan: chunks of runs on an executor, one flat row per run.

Runs go to an executor in *chunks* (lists of runs), so that per-task overhead
stays small; each chunk returns one flat row per run (the summary's ensemble
columns, and the run's reach curve on the scenario's time grid). A run's row
depends only on (scenario, seed, run) — see :mod:`viralsim.experiments.plan` —
so the executor, the number of workers and the chunking change nothing. A
*sink* (see ``viralsim.io.results_store``) may persist finished chunks and tell
which runs are already done, which is how an interrupted sweep resumes. This
module does no file IO and never prints; progress is reported through a callback.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from viralsim.engines import simulate
from viralsim.experiments.executors import Executor, make_executor
from viralsim.experiments.plan import Plan, compare_plan, ensemble_plan, sweep_plan
from viralsim.experiments.stats import CURVES, EnsembleResult
from viralsim.records import nan_when_none, summary_columns
from viralsim.scenario import Scenario
from viralsim.views import SOURCES

__all__ = [
    "SUMMARY_COLUMNS",
    "Chunk",
    "MemorySink",
    "Sink",
    "compare",
    "execute",
    "run_chunk",
    "run_ensemble",
    "sweep",
]

#: Summary keys kept per run (flat scalars), in table order: the ``column`` fields of
#: :class:`~viralsim.records.Summary`.
SUMMARY_COLUMNS = summary_columns()
#: The columns whose ``None`` is NaN in the table (``missing="nan"``).
_NAN_WHEN_NONE = nan_when_none()


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
    for name in CURVES:
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
