"""The one mutable state of a run, changed only through a few named methods.

SimPy processes (:mod:`viralsim.processes`) decide *when*; this state applies
their decisions in vectorised batches: :meth:`RunState.deliver` turns a batch
of deliveries into views (who watches, when, and what they do),
:meth:`RunState.evaluate_stage` runs the KPI gate on what a stage has
collected so far, and :meth:`RunState.record_stage` / :meth:`RunState.stop`
keep the history. Views are appended as column batches (never one object per
viewer) and become tables only in :mod:`viralsim.result`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from viralsim.model.behaviour import view_outcomes
from viralsim.model.graph import ContactGraph
from viralsim.model.kpi import KPI_COLUMNS as _KPI_COLUMNS
from viralsim.model.kpi import GateResult, evaluate_counts
from viralsim.model.population import Population
from viralsim.rng import Streams
from viralsim.scenario import Scenario

__all__ = ["SOURCES", "VIEW_COLUMNS", "RunState"]

# KPI columns kept as running counts per stage batch (watch_s is summed in seconds beside them)
_COUNTED = tuple(c for c in _KPI_COLUMNS if c != "watch_s")

#: View sources, by code: the For You push, the Following feed, a share.
SOURCES = ("for_you", "following", "share")

#: Columns of the views log and their dtypes.
VIEW_COLUMNS = {
    "time_h": np.float64,
    "user": np.int64,
    "video": np.int32,
    "source": np.int8,
    "stage": np.int16,
    "watch_s": np.float32,
    "completed": np.bool_,
    "liked": np.bool_,
    "commented": np.bool_,
    "shared": np.bool_,
    "followed": np.bool_,
    "profile_click": np.bool_,
    "parent": np.int64,
}


class RunState:
    """Everything a run accumulates: the views log, stage history, moderation record."""

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        population: Population,
        graph: ContactGraph,
        creator: int | None,
    ) -> None:
        self.scenario = scenario
        self.streams = streams
        self.population = population
        self.graph = graph
        self.creator = creator
        self.batches: list[dict[str, np.ndarray]] = []
        self.n_views = 0
        self.deliveries = dict.fromkeys(SOURCES, 0)
        self.stage_batches: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.stages: list[dict[str, Any]] = []
        self.moderation: dict[str, Any] = {}
        self.recognised_topic: str | None = None
        self.stop_reason: str | None = None
        self.stop_h: float | None = None
        self.stages_reached = 0
        self.removed_h: float | None = None  # when the platform took the video down, if it did
        self.moderators: Any = None  # the human moderators' simpy.Resource, set by upload()

    # -- views ----------------------------------------------------------------------------
    def deliver(
        self,
        users: np.ndarray,
        source: str,
        t_h: float | np.ndarray,
        watch_probability: float,
        *,
        rng: np.random.Generator,
        stage: int = 0,
        parent: np.ndarray | None = None,
        distinct: bool = False,
    ) -> tuple[int, dict[str, np.ndarray]]:
        """Deliver the video to ``users`` at time(s) ``t_h``; append the views that follow.

        Users already reached, and repeats within the batch, are skipped (the
        first delivery wins); ``distinct=True`` promises there are no repeats. A delivered user watches with
        ``watch_probability`` at their next session, if that is within the
        horizon. Returns the index of the first new view and the batch of new views.
        """
        pop = self.population
        users = np.asarray(users, dtype=np.int64)
        t = np.broadcast_to(np.asarray(t_h, dtype=float), users.shape)
        keep = ~pop.is_reached(users)
        if not distinct:  # keep the first delivery to each user
            _, first = np.unique(users, return_index=True)
            once = np.zeros(len(users), dtype=bool)
            once[first] = True
            keep &= once
        if self.creator is not None:
            keep &= users != self.creator  # the creator does not watch their own video
        users, t = users[keep], t[keep]
        if parent is not None:
            parent = parent[keep]
        slots = pop.reach(users)
        self.deliveries[source] += len(users)
        attrs = pop.attributes(slots)
        when = pop.clock.next_session(t, attrs["rate_per_h"], attrs["tz_h"], rng=rng)
        watched = (rng.random(len(users)) < watch_probability) & (when <= self.scenario.horizon_h)
        idx = np.flatnonzero(watched)
        idx = idx[np.argsort(when[idx])]  # each batch is kept in time order (times are continuous: no ties)
        out = view_outcomes(
            attrs["interest"][idx], attrs["propensity"][idx], self.scenario.video, self.scenario.behaviour, rng=rng
        )
        n = len(idx)
        batch: dict[str, np.ndarray] = {
            "time_h": when[idx],
            "user": users[idx],
            "video": np.zeros(n, dtype=np.int32),
            "source": np.full(n, SOURCES.index(source), dtype=np.int8),
            "stage": np.full(n, stage, dtype=np.int16),
            **out,
            "parent": parent[idx] if parent is not None else np.full(n, -1, dtype=np.int64),
        }
        start = self.n_views
        self.batches.append(batch)
        self.n_views += n
        if stage:
            # prefix sums of the KPI columns let the gate count views up to any time cheaply
            # (int32 counts for the action columns, float64 seconds for watch_s)
            counts = np.cumsum(np.stack([batch[c] for c in _COUNTED]), axis=1, dtype=np.int32)
            watched_s = np.cumsum(batch["watch_s"], dtype=np.float64)
            self.stage_batches.setdefault(stage, []).append((batch["time_h"], counts, watched_s))
        return start, batch

    def evaluate_stage(self, stage: int, at_h: float) -> GateResult:
        """The KPI gate on the views of ``stage`` that have happened by ``at_h``."""
        totals = np.zeros(len(_COUNTED), dtype=np.int64)
        seconds = 0.0
        n = 0
        for times, counts, watched_s in self.stage_batches.get(stage, []):
            k = int(np.searchsorted(times, at_h, side="right"))
            if k:
                n += k
                totals += counts[:, k - 1]
                seconds += float(watched_s[k - 1])
        sums: dict[str, float] = {c: float(v) for c, v in zip(_COUNTED, totals.tolist(), strict=True)}
        sums["watch_s"] = seconds
        push = self.scenario.platform.push
        return evaluate_counts(
            n, sums, self.scenario.video.duration_s,
            push.thresholds_for(stage), push.score_weights,
        )  # fmt: skip

    def stage_eval_time(self, stage: int, delivered: int, last_delivery_h: float) -> float:
        """When the stage is evaluated: once a fraction of its cohort watched, or the window."""
        push = self.scenario.platform.push
        window = last_delivery_h + push.eval_window_h
        parts = [b[0] for b in self.stage_batches.get(stage, [])]
        times = np.concatenate(parts) if parts else np.empty(0)
        # round first: 0.55 * 100 is 55.000000000000007 in floating point, not 56 views
        k = int(np.ceil(round(push.evaluate_after_fraction * delivered, 9)))
        if k < 1 or len(times) < k:
            return window
        return float(min(np.partition(times, k - 1)[k - 1], window))

    def record_stage(self, row: dict[str, Any]) -> None:
        """Append one row to the stage history."""
        self.stages.append(row)

    def remove(self, at_h: float) -> None:
        """Take the video down at ``at_h``: views that would come later never happen."""
        self.removed_h = at_h

    def stop(self, reason: str, at_h: float) -> None:
        """Record why and when the platform's distribution stopped (first reason wins)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_h = at_h
