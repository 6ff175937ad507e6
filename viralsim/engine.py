"""The engine: ``simulate(scenario, seed) -> RunResult``.

Builds the world before t = 0 (population, social graph, run state: the
desmod "elaboration"), runs one ``simpy.Environment`` until the horizon, and
turns the accumulated column batches into a :class:`~viralsim.result.RunResult`
that carries the resolved scenario. No IO, no printing, no global randomness.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
import simpy

from viralsim._version import __version__
from viralsim.model.graph import AnnealedGraph, CSRGraph, scenario_graph
from viralsim.model.population import make_population
from viralsim.processes import upload
from viralsim.result import RunResult, reach_curve, summarise, views_log
from viralsim.rng import Streams
from viralsim.scenario import Scenario, problems, reachable_users, representation
from viralsim.state import VIEW_COLUMNS, Batch, RunState

__all__ = ["simulate"]


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    variant: str | None = None,
    *,
    run: int = 0,
    graph: Any = None,
    record: Literal["full", "summary"] = "full",
) -> RunResult:
    """Simulate one video on one platform.

    Parameters
    ----------
    scenario
        A validated scenario (see ``viralsim.load_scenario``).
    seed
        Root seed; defaults to the scenario's ``seed``. Same scenario, seed and
        run give identical results.
    variant
        Name of one of the scenario's variants to apply, or ``None``.
    run
        Run index of an ensemble: the run's streams come from
        ``SeedSequence(seed, spawn_key=(run,))``.
    graph
        An explicit social graph (``CSRGraph`` or networkx graph with nodes
        ``0..N-1``) overriding the scenario's generator; required for ``edge_list``.
    record
        ``"full"`` returns the views log (one row per view, sorted by time);
        ``"summary"`` leaves ``views`` as zero-length columns (same keys and dtypes)
        and skips building the log, so that ensembles of big runs stay small in
        memory and when pickled. Everything else (summary, stages, moderation,
        reach curve) is identical in both modes for the same seed.

    Returns
    -------
    RunResult
    """
    if record not in ("full", "summary"):
        raise ValueError(f"record must be 'full' or 'summary', got {record!r}")
    sc = scenario.variant(variant)
    bad = problems(sc, record=record)
    if bad:
        loc, msg = bad[0]
        raise ValueError(f"{'.'.join(map(str, loc))}: {msg}")
    seed = sc.seed if seed is None else seed
    if sc.engine == "agents":  # users as processes (viralsim.agents); imported only when asked for
        from viralsim.agents.engine import simulate_agents

        return simulate_agents(sc, seed, run=run, variant=variant, graph=graph, record=record)
    state = _run(sc, graph, Streams(seed, run))
    first = _finish(state, seed, run, variant, record)
    second = sc.second_platform()
    if second is None:
        return _with_platforms(first, None)
    assert sc.cross_post is not None
    views_by = _views_by(state.finished_batches, sc.video.upload_h + sc.cross_post.after_h)
    del state  # the first world's population and graph are not needed any more
    if views_by < sc.cross_post.if_views_at_least:
        return _with_platforms(first, None)
    # the second platform: its own users, graph and streams, the same video, later
    other = _run(second, graph if sc.social_graph.kind == "edge_list" else None, Streams(seed, run, "cross_post"))
    return _with_platforms(first, _with_platforms(_finish(other, seed, run, variant, record), None))


def _run(sc: Scenario, graph: Any, streams: Streams) -> RunState:
    """Build one platform's world and run it to the horizon."""
    g = scenario_graph(sc.social_graph, sc.population.users, graph, rng=streams["graph"])
    population = make_population(
        sc.population,
        sc.video.mix(),
        rng=streams["population"],
        capacity=int(reachable_users(sc)),
        exchangeable=isinstance(g, AnnealedGraph),
    )
    creator = sc.creator.user if isinstance(g, CSRGraph) and sc.creator.user is not None else None
    state = RunState(sc, streams, population, g, creator)
    env = simpy.Environment()
    env.process(upload(env, state))
    env.run(until=sc.horizon_h)
    if state.stop_reason is None:
        state.stop("horizon", sc.horizon_h)
    return state


def _views_by(batches: list[Batch], at_h: float) -> int:
    """Views that happened by ``at_h`` (each batch is in time order)."""
    return sum(int(np.searchsorted(b.time_h, at_h, side="right")) for b in batches)


def _with_platforms(first: RunResult, second: RunResult | None) -> RunResult:
    """``first`` with the cross-post's result and the per-platform summary keys."""
    s = first.summary
    n2 = 0 if second is None else int(second.summary["views"])
    s.update(
        cross_posted=second is not None,
        views_first=s["views"],
        views_second=n2,
        views_total=s["views"] + n2,
    )
    return dataclasses.replace(first, second_platform=second) if second is not None else first


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


def _finish(state: RunState, seed: int, run: int, variant: str | None, record: str) -> RunResult:
    sc = state.scenario
    batches, state.batches = state.batches, []
    state.stage_batches.clear()
    if state.removed_h is not None:  # views after a take-down never happen (children come after parents)
        at = state.removed_h
        batches = _renumber([b.head(int(np.searchsorted(b.time_h, at, side="right"))) for b in batches])
    state.finished_batches = batches
    if record == "full":
        views = views_log(batches)
    else:
        views = {k: np.empty(0, dtype=dt) for k, dt in VIEW_COLUMNS.items()}
    summary = summarise(
        batches,
        state.stages,
        population=sc.population.users,
        stages_reached=state.stages_reached,
        stop_reason=state.stop_reason,
        deliveries=state.deliveries,
        upload_h=sc.video.upload_h,
        sorted_h=views["time_h"] if record == "full" else None,
        fee=sc.creator.fee,
    )
    summary["recognised_topic"] = state.recognised_topic
    summary["representation"] = representation(sc.population)
    summary["users_materialised"] = state.population.materialised_users
    summary["stop_h"] = state.stop_h
    moderation = {k: v for k, v in state.moderation.items() if k != "background_waits_h"}
    waits = state.moderation.get("background_waits_h")
    if waits:
        moderation["background_reviews"] = len(waits)
        moderation["background_mean_wait_h"] = float(np.mean(waits))
    return RunResult(
        scenario=sc,
        seed=seed,
        run=run,
        variant=variant,
        views=views,
        stages=state.stages,
        moderation=moderation,
        summary=summary,
        reach_curve=reach_curve(batches, sc.horizon_h),
        version=__version__,
        record=record,
    )
