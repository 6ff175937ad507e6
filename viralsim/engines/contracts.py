"""The contract between ``simulate`` and an engine.

An engine is a module-level object with a ``name``, the checks of what it can
run (``problems``, ``memory_estimate``: see :mod:`viralsim.engines.checks`) and a
``run`` method that simulates one platform and returns an :class:`EngineRun`: the
:class:`~viralsim.result.RunResult` and the times of its views (what the
dispatcher in :mod:`viralsim.engines` needs to decide a cross-post without
knowing the engine). Engines never import each other; they share the layers
below them (``engines.moderation``, ``engines.push``, ``views``, ``model``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from viralsim.result import RunResult
from viralsim.scenario import Problem, Scenario

__all__ = ["Engine", "EngineRun", "Record"]

Record = Literal["full", "summary"]


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

    def run(
        self,
        sc: Scenario,
        *,
        seed: int,
        run: int,
        variant: str | None,
        graph: Any,
        record: Record,
        namespace: str = "",
    ) -> EngineRun:
        """Simulate one platform of a checked scenario (variant applied)."""
        ...

    def problems(self, sc: Scenario, *, record: Record, memory_limit: int) -> list[Problem]:
        """What this engine refuses to run (limits, memory, unsupported fields), as ``(location, message)``."""
        ...

    def memory_estimate(self, sc: Scenario, record: Record = "summary") -> float:
        """Estimated peak bytes of one run of ``sc`` by this engine."""
        ...
