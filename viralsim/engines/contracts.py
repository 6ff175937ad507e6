"""The contract between ``simulate`` and an engine.

An engine is a module-level object with a ``name``, the checks of what it can
run (``problems``, ``memory_estimate``: see :mod:`viralsim.engines.checks`) and a
``run`` method that simulates one platform for a :class:`RunSpec` and returns an :class:`EngineRun`: the
:class:`~viralsim.result.RunResult` and the times of its views (what the
dispatcher in :mod:`viralsim.engines` needs to decide a cross-post without
knowing the engine). Engines never import each other; they share the layers
below them (``engines.moderation``, ``engines.push``, ``views``, ``model``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import simpy

from viralsim._version import __version__
from viralsim.model.graph import GraphInput
from viralsim.records import AgentLog, StageRecord, Summary
from viralsim.result import RunResult
from viralsim.rng import Streams
from viralsim.scenario import Problem, Scenario

__all__ = ["Engine", "EngineRun", "Progress", "Record", "RunSpec", "Watch", "run_watched"]

Record = Literal["full", "summary"]


@dataclass(frozen=True)
class Progress:
    """A running platform at ``time_h``: only what its final result will say about the time before ``time_h``.

    ``views_by_source`` and ``shares`` count the views (and shares) that happened
    before ``time_h``; ``reach_curve`` holds the points of the final
    :attr:`~viralsim.result.RunResult.reach_curve` before ``time_h`` (same grid,
    same values); ``stages`` the push stages evaluated so far, ``stages_reached``
    the stages opened so far, ``stop_reason``/``stop_h`` why and when the push
    stopped (``None`` while it goes on). ``time_h`` and the reach curve's times are
    on the simulation clock; ``stop_h`` and the stage rows count hours after the
    upload, as the final summary's and stage table's do.
    """

    time_h: float
    views_by_source: dict[str, int]
    shares: int
    reach_curve: dict[str, np.ndarray]
    stages: tuple[StageRecord, ...]
    stages_reached: int
    stop_reason: str | None
    stop_h: float | None


@dataclass(frozen=True)
class Watch:
    """Look at a run as it goes: ``see`` gets a :class:`Progress` every ``every_h`` simulated hours and at the end.

    Watching changes no result (the run's events happen in the same order with
    the same draws; only the simulation is paused between steps). ``see`` may
    raise to abandon the run: the exception leaves :func:`viralsim.simulate`.
    Both engines report it; a cross-post's second platform is not watched.
    """

    every_h: float
    see: Callable[[Progress], None]

    def __post_init__(self) -> None:
        if not self.every_h > 0:
            raise ValueError(f"watch: every_h must be > 0, got {self.every_h}")


def run_watched(
    env: simpy.Environment, until_h: float, watch: Watch | None, progress: Callable[[float], Progress]
) -> None:
    """``env.run(until=until_h)``, paused every ``watch.every_h`` hours to show ``watch`` the run's ``progress``.

    A pause adds one urgent stop event; the run's own events keep their order
    (by time, priority, then the order they were scheduled), so the results are
    those of one uninterrupted run.
    """
    if watch is None:
        env.run(until=until_h)
        return
    start, t, k = float(env.now), float(env.now), 0
    while t < until_h:
        k += 1
        t = start + k * watch.every_h
        t = until_h if t > until_h * (1 - 1e-12) else t  # the last step ends at the horizon exactly
        env.run(until=t)
        watch.see(progress(t))


@dataclass(frozen=True)
class RunSpec:
    """What one platform's run is asked for, besides its scenario (the same for every engine).

    ``seed`` and ``run`` give the run's streams (``SeedSequence(seed, spawn_key=(run,))``,
    names prefixed by ``namespace``: ``"cross_post"`` for a second platform); ``variant``
    is provenance; ``graph`` an explicit social graph; ``record`` whether the views log is kept;
    ``watch`` who looks at the run as it goes (:class:`Watch`; results do not change).
    """

    seed: int
    run: int = 0
    variant: str | None = None
    graph: GraphInput = field(default=None, compare=False)
    record: Record = "full"
    namespace: str = ""
    watch: Watch | None = field(default=None, compare=False)

    def streams(self) -> Streams:
        """The run's named random streams."""
        return Streams(self.seed, self.run, self.namespace)

    def result(
        self,
        sc: Scenario,
        *,
        views: dict[str, np.ndarray],
        stages: list[StageRecord],
        moderation: dict[str, Any],
        summary: Summary,
        reach_curve: dict[str, np.ndarray],
        agents: AgentLog | None = None,
    ) -> RunResult:
        """The :class:`~viralsim.result.RunResult` of this run, with its provenance."""
        return RunResult(
            scenario=sc,
            seed=self.seed,
            run=self.run,
            variant=self.variant,
            views=views,
            stages=stages,
            moderation=moderation,
            summary=summary,
            reach_curve=reach_curve,
            version=__version__,
            record=self.record,
            agents=agents,
        )


@dataclass(frozen=True)
class EngineRun:
    """One platform's run: its result and its views' times (hours; each array sorted)."""

    result: RunResult
    view_times: Sequence[np.ndarray]

    def views_by(self, at_h: float) -> int:
        """Views that happened by ``at_h``."""
        return sum(int(np.searchsorted(t, at_h, side="right")) for t in self.view_times)


class Engine(Protocol):
    """What every engine offers the dispatcher."""

    name: str

    def run(self, sc: Scenario, spec: RunSpec) -> EngineRun:
        """Simulate one platform of a checked scenario (variant applied)."""
        ...

    def problems(self, sc: Scenario, *, record: Record, memory_limit: int) -> list[Problem]:
        """What this engine refuses to run (limits, memory, unsupported fields), as ``(location, message)``."""
        ...

    def memory_estimate(self, sc: Scenario, record: Record = "summary") -> float:
        """Estimated peak bytes of one run of ``sc`` by this engine."""
        ...
