"""``simulate(scenario, seed) -> RunResult``: check once, dispatch to an engine, cross-post.

The engines are plug-ins behind :class:`~viralsim.engines.contracts.Engine`:
the registry (:mod:`viralsim.engines.registry`) maps the scenario's ``engine`` field to the module that
holds its ``ENGINE`` object (imported on first use, so a core run never
imports the agent engine). A ``[cross_post]`` scenario is combined here: the
first platform's run decides whether the video goes to the second platform,
which is run by the same engine with its own streams; no engine knows of it.
No IO, no printing, no global randomness.
"""

from __future__ import annotations

import dataclasses

from viralsim.engines.checks import ensure_checked
from viralsim.engines.contracts import Record, RunSpec, Watch
from viralsim.engines.registry import ENGINES, engine_for
from viralsim.model.graph import GraphInput
from viralsim.result import RunResult
from viralsim.scenario import Scenario

__all__ = ["ENGINES", "engine_for", "simulate"]


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    variant: str | None = None,
    *,
    run: int = 0,
    graph: GraphInput = None,
    record: Record = "full",
    watch: Watch | None = None,
) -> RunResult:
    """Simulate one video on one platform (and its cross-post, if the scenario has one).

    Parameters
    ----------
    scenario
        A validated scenario (see ``viralsim.load_scenario``). It is checked
        (:func:`viralsim.engines.checks.check`) unless that object already was,
        for ``record``: a loaded scenario and its variants are not checked again.
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
    watch
        Look at the (first platform's) run as it goes
        (:class:`~viralsim.engines.contracts.Watch`): the results do not change.

    Returns
    -------
    RunResult
    """
    if record not in ("full", "summary"):
        raise ValueError(f"record must be 'full' or 'summary', got {record!r}")
    sc = ensure_checked(scenario.variant(variant), record)  # a loaded scenario (or variant) is not checked again
    seed = sc.seed if seed is None else seed
    engine = engine_for(sc.engine)
    spec = RunSpec(seed, run, variant, graph, record, watch=watch)
    first = engine.run(sc, spec)
    second = sc.second_platform()
    if second is None:
        return _with_platforms(first.result, None)
    assert sc.cross_post is not None
    result = first.result
    views_by = first.views_by(sc.video.upload_h + sc.cross_post.after_h)
    del first  # the first world's batches are not needed any more
    if views_by < sc.cross_post.if_views_at_least:
        return _with_platforms(result, None)
    # the second platform: its own users, graph and streams, the same video, later
    other_graph = graph if sc.social_graph.kind == "edge_list" else None
    other = engine.run(second, dataclasses.replace(spec, graph=other_graph, namespace="cross_post", watch=None))
    return _with_platforms(result, _with_platforms(other.result, None))


def _with_platforms(first: RunResult, second: RunResult | None) -> RunResult:
    """``first`` with the cross-post's result and a summary with the per-platform fields."""
    summary = first.summary.with_platforms(None if second is None else second.summary.views)
    return dataclasses.replace(first, summary=summary, second_platform=second)
