"""The cohort engine (``engine = "core"``): one video followed in vectorised batches.

Builds the world before t = 0 (population, social graph, run state: the
desmod "elaboration"), runs one ``simpy.Environment`` until the horizon, and
turns the accumulated view batches into a :class:`~viralsim.result.RunResult`
that carries the resolved scenario. Users are rows of numpy arrays (or exist
only once reached, :mod:`viralsim.model.population`); SimPy processes stand for
the platform's decisions and batches of deliveries. No IO, no printing, no
global randomness.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from viralsim.engines.cohort import memory
from viralsim.engines.cohort.processes import upload
from viralsim.engines.cohort.state import RunState
from viralsim.engines.contracts import EngineRun, Progress, Record, RunSpec, Watch, run_watched
from viralsim.model.graph import AnnealedGraph, CSRGraph, scenario_graph
from viralsim.model.population import make_population
from viralsim.result import RunResult
from viralsim.rng import Streams
from viralsim.scenario import Problem, Scenario, representation
from viralsim.views import SOURCES, Batch, empty_views, reach_curve, summarise, views_log

__all__ = ["ENGINE", "CohortEngine"]


class CohortEngine:
    """The cohort engine behind the :class:`~viralsim.engines.contracts.Engine` contract."""

    name = "core"

    def run(self, sc: Scenario, spec: RunSpec) -> EngineRun:
        """Simulate one platform; see :func:`viralsim.simulate`."""
        state = _run(sc, spec.graph, spec.streams(), spec.watch)
        result = _finish(state, spec)
        return EngineRun(result, [b.time_h for b in state.finished_batches])

    def problems(self, sc: Scenario, *, record: Record, memory_limit: int) -> list[Problem]:
        """What this engine refuses; see :func:`viralsim.engines.cohort.memory.problems`."""
        return memory.problems(sc, record=record, memory_limit=memory_limit)

    def memory_estimate(self, sc: Scenario, record: Record = "summary") -> float:
        """Peak bytes of one run; see :func:`viralsim.engines.cohort.memory.memory_estimate`."""
        return memory.memory_estimate(sc, record)


#: The engine instance the registry of :mod:`viralsim.engines` dispatches to.
ENGINE = CohortEngine()


def _run(sc: Scenario, graph: Any, streams: Streams, watch: Watch | None = None) -> RunState:
    """Build one platform's world and run it to the horizon (showing ``watch`` its progress)."""
    g = scenario_graph(sc.social_graph, sc.population.users, graph, rng=streams["graph"])
    population = make_population(
        sc.population,
        sc.video.mix(),
        rng=streams["population"],
        capacity=int(memory.reachable_users(sc)),
        exchangeable=isinstance(g, AnnealedGraph),
    )
    creator = sc.creator.user if isinstance(g, CSRGraph) and sc.creator.user is not None else None
    state = RunState(sc, streams, population, g, creator)
    env = simpy.Environment()
    env.process(upload(env, state))
    run_watched(env, sc.horizon_h, watch, lambda t: _progress(state, t))
    if state.stop_reason is None:
        state.stop("horizon", sc.horizon_h)
    return state


def _progress(state: RunState, t: float) -> Progress:
    """What the run's result will say about the time before ``t`` (every view before ``t`` exists by now).

    A view is counted when it happened before ``t`` and, if the video was taken
    down, by the take-down (as :func:`_finish` keeps them).
    """
    removed = state.removed_h
    heads = []
    for b in state.batches:
        if not len(b) or b.time_h[0] >= t:
            continue  # nothing of it yet
        if b.time_h[-1] < t and removed is None:
            heads.append(b)  # all of it
            continue
        k = int(np.searchsorted(b.time_h, t, side="left"))
        if removed is not None:
            k = min(k, int(np.searchsorted(b.time_h, removed, side="right")))
        heads.append(b.head(k))
    by_source = dict.fromkeys(SOURCES, 0)
    for b in heads:
        by_source[SOURCES[b.source]] += len(b)
    curve = reach_curve(heads, state.scenario.horizon_h)
    before = curve["time_h"] < t
    return Progress(
        time_h=t,
        views_by_source=by_source,
        shares=sum(len(b.outcomes.actions["shared"]) for b in heads),
        reach_curve={k: v[before] for k, v in curve.items()},
        stages=tuple(state.stages),
        stages_reached=state.stages_reached,
        stop_reason=state.stop_reason,
        stop_h=None if state.stop_h is None else state.stop_h - state.scenario.video.upload_h,  # as the summary's
    )


def _renumber(batches: list[Batch]) -> list[Batch]:
    """Append indices (``start``, ``parent``) of batches that lost their last views."""
    old = np.array([b.start for b in batches], dtype=np.int64)
    new = np.cumsum([0] + [len(b) for b in batches[:-1]])
    for b, start in zip(batches, new.tolist(), strict=True):
        if b.parent is not None:
            j = np.searchsorted(old, b.parent, side="right") - 1  # the batch each parent view is in
            b.parent = b.parent - old[j] + new[j]
        b.start = start
    return batches


def _finish(state: RunState, spec: RunSpec) -> RunResult:
    record = spec.record
    sc = state.scenario
    batches, state.batches = state.batches, []
    state.stage_batches.clear()
    if state.removed_h is not None:  # views after a take-down never happen (children come after parents)
        at = state.removed_h
        batches = _renumber([b.head(int(np.searchsorted(b.time_h, at, side="right"))) for b in batches])
    state.finished_batches = batches
    views = views_log(batches) if record == "full" else empty_views()
    summary = summarise(
        batches,
        state.stages,
        population=sc.population.users,
        stages_reached=state.stages_reached,
        stop_reason=state.stop_reason,
        deliveries=state.deliveries,
        upload_h=sc.video.upload_h,
        recognised_topic=state.recognised_topic,
        representation=representation(sc.population),
        users_materialised=state.population.materialised_users,
        stop_h=state.stop_h,
        sorted_h=views["time_h"] if record == "full" else None,
        fee=sc.creator.fee,
    )
    moderation = {k: v for k, v in state.moderation.items() if k != "background_waits_h"}
    waits = state.moderation.get("background_waits_h")
    if waits:
        moderation["background_reviews"] = len(waits)
        moderation["background_mean_wait_h"] = float(np.mean(waits))
    return spec.result(
        sc,
        views=views,
        stages=state.stages,
        moderation=moderation,
        summary=summary,
        reach_curve=reach_curve(batches, sc.horizon_h),
    )
