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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from viralsim._version import __version__
from viralsim.model.graph import GraphInput
from viralsim.records import AgentLog, StageRecord, Summary
from viralsim.result import RunResult
from viralsim.rng import Streams
from viralsim.scenario import Problem, Scenario

__all__ = ["Engine", "EngineRun", "Record", "RunSpec"]

Record = Literal["full", "summary"]


@dataclass(frozen=True)
class RunSpec:
    """What one platform's run is asked for, besides its scenario (the same for every engine).

    ``seed`` and ``run`` give the run's streams (``SeedSequence(seed, spawn_key=(run,))``,
    names prefixed by ``namespace``: ``"cross_post"`` for a second platform); ``variant``
    is provenance; ``graph`` an explicit social graph; ``record`` whether the views log is kept.
    """

    seed: int
    run: int = 0
    variant: str | None = None
    graph: GraphInput = field(default=None, compare=False)
    record: Record = "full"
    namespace: str = ""

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
