"""The one mutable state of a run, changed only through a few named methods.

SimPy processes (:mod:`viralsim.engines.cohort.processes`) decide *when*; this state applies
their decisions in vectorised batches: :meth:`RunState.deliver` turns a batch
of deliveries into views (who watches, when, and what they do),
:meth:`RunState.evaluate_stage` runs the KPI gate on what a stage has
collected so far, and :meth:`RunState.record_stage` / :meth:`RunState.stop`
keep the history. Views are appended as :class:`Batch` es of columns, each in
time order (never one object per viewer), and become tables only in
:mod:`viralsim.views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from viralsim.engines.push import evaluation_views
from viralsim.model.behaviour import ACTION_COLUMNS, viewing
from viralsim.model.graph import ContactGraph
from viralsim.model.idset import first_occurrences
from viralsim.model.kpi import GateResult, evaluate_counts
from viralsim.model.population import Population
from viralsim.records import StageRecord
from viralsim.rng import Streams
from viralsim.scenario import Scenario
from viralsim.views import SOURCES, Batch, time_order

__all__ = ["GateIndex", "RunState"]

# searchsorted queries of the gate: (start, end) of each action's first k views in action_keys
_ACTION_BASE = np.repeat(np.arange(len(ACTION_COLUMNS)), 2)
_ACTION_UPTO = np.tile([0, 1], len(ACTION_COLUMNS))


@dataclass
class GateIndex:
    """Prefix counts of one push batch, so that the KPI gate counts its first ``k`` views cheaply.

    ``completed_upto`` and ``watched_upto`` are prefix sums of completions and seconds
    watched; ``action_keys`` holds every action's view indices in one sorted array
    (action j's index i is ``j (n + 1) + i``).
    """

    batch: Batch
    completed_upto: np.ndarray
    watched_upto: np.ndarray
    action_keys: np.ndarray

    @classmethod
    def of(cls, batch: Batch) -> GateIndex:
        """The gate index of a batch."""
        out = batch.outcomes
        step = len(batch) + 1
        return cls(
            batch,
            np.cumsum(out.completed, dtype=np.int32),
            np.cumsum(out.watch_s, dtype=np.float64),
            np.concatenate([j * step + out.actions[c] for j, c in enumerate(ACTION_COLUMNS)]),
        )

    def counts(self, k: int) -> tuple[int, float, np.ndarray]:
        """Completions, seconds watched and count of each action among the first ``k`` views."""
        base = _ACTION_BASE * (len(self.batch) + 1)
        at = np.searchsorted(self.action_keys, base + _ACTION_UPTO * k)
        return int(self.completed_upto[k - 1]), float(self.watched_upto[k - 1]), at[1::2] - at[::2]


class RunState:
    """Everything a run accumulates: the view batches, stage history, moderation record."""

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
        if creator is not None:
            population.withhold(creator)  # the creator does not watch their own video
        self.viewing = viewing(scenario.video, scenario.behaviour, scenario.population.propensity_spread)
        self.batches: list[Batch] = []
        self.n_views = 0
        self.deliveries = dict.fromkeys(SOURCES, 0)
        self.stage_batches: dict[int, list[GateIndex]] = {}
        self.cohort_interest: dict[int, float] = {}  # stage -> sum of its users' interest in the ranking topic
        self.stages: list[StageRecord] = []
        self.moderation: dict[str, Any] = {}
        self.recognised_topic: str | None = None
        self.stop_reason: str | None = None
        self.stop_h: float | None = None
        self.stages_reached = 0
        self.removed_h: float | None = None  # when the platform took the video down, if it did
        self.moderators: Any = None  # the human moderators' simpy.Resource, set by upload()
        self.finished_batches: list[Batch] = []  # the batches as the result kept them (after a take-down)

    # -- views ----------------------------------------------------------------------------
    def deliver(
        self,
        users: np.ndarray,
        source: str,
        t_h: float | np.ndarray,
        watch_probability: float,
        *,
        rng: np.random.Generator,
        parent: np.ndarray | None = None,
        half_life_h: float | None = None,
    ) -> Batch:
        """Deliver the video to ``users`` at time(s) ``t_h``; append the views that follow.

        Users already reached (and the creator), and repeats within the batch, are
        skipped: the first delivery wins. ``parent`` (share deliveries) is the append
        index of the view each delivery came from. ``half_life_h`` (a newest-first
        feed) buries the post: a user whose next session comes ``w`` hours after the
        delivery still finds it with probability ``2 ** (-w / half_life_h)``.
        Returns the batch of new views.
        """
        pop = self.population
        users = np.asarray(users, dtype=np.int64)
        keep = ~pop.is_reached(users)
        if len(users) > 1:  # keep the first delivery to each user
            keep &= first_occurrences(users)
        users = users[keep]
        t = t_h if np.ndim(t_h) == 0 else np.asarray(t_h, dtype=float)[keep]
        if parent is not None:
            parent = parent[keep]
        key = pop.reach(users, rng=rng)
        return self._views(users, key, source, t, watch_probability, rng=rng, parent=parent, half_life_h=half_life_h)

    def deliver_push(self, k: int, stage: int, t_h: float, *, rng: np.random.Generator) -> tuple[int, Batch]:
        """Deliver to the next ``k`` users by affinity (a batch of a push stage).

        Returns how many users were delivered to (fewer than ``k`` when the
        population runs out) and the batch of new views.
        """
        users, key = self.population.next_by_affinity(k)
        push = self.scenario.platform.push
        # how interested the cohort is in the recognised topic (how deep the ranking went)
        ranking = self.population.ranking_interest(users, key)
        self.cohort_interest[stage] = self.cohort_interest.get(stage, 0.0) + float(ranking.sum())
        batch = self._views(users, key, "for_you", t_h, push.watch_probability, rng=rng, stage=stage, ranking=ranking)
        # prefix sums let the gate count the stage's views up to any time cheaply
        self.stage_batches.setdefault(stage, []).append(GateIndex.of(batch))
        return len(users), batch

    def _views(
        self,
        users: np.ndarray,
        key: np.ndarray,
        source: str,
        t_h: float | np.ndarray,
        watch_probability: float,
        *,
        rng: np.random.Generator,
        stage: int = 0,
        parent: np.ndarray | None = None,
        half_life_h: float | None = None,
        ranking: np.ndarray | None = None,
    ) -> Batch:
        """Who of the reached ``users`` watches, when, and what they do: append the views.

        ``ranking``: the users' interest in the ranking topic, when the push knows it already.
        """
        pop = self.population
        self.deliveries[source] += len(users)
        # a delivered user watches with watch_probability at their next session, if before the horizon
        idx = np.flatnonzero(rng.random(len(users), dtype=np.float32) < np.float32(watch_probability))
        rate, tz = pop.sessions(users[idx], rng=rng)
        t = t_h if isinstance(t_h, float) or np.ndim(t_h) == 0 else np.asarray(t_h)[idx]
        when = pop.clock.next_session(t, rate, tz, rng=rng, size=len(idx))
        # sessions after the horizon never happen; the rest is kept in time order (sorting only
        # these also keeps the time quantum of time_order fine: rare users come back weeks later)
        inside = np.flatnonzero(when <= self.scenario.horizon_h)
        order, when = time_order(when[inside])
        order = inside[order]
        if half_life_h is not None:  # buried under newer posts before the user's next session
            wait = when[: len(order)] - (t if np.ndim(t) == 0 else np.asarray(t)[order])
            found = rng.random(len(order)) < np.exp2(-wait / half_life_h)
            when = when[: len(order)][found]
            order = order[found]
        idx = idx[order]
        viewers = users[idx]
        interest = pop.interest(viewers, key[idx], rng=rng, ranking=None if ranking is None else ranking[idx])
        batch = Batch(
            start=self.n_views,
            source=SOURCES.index(source),
            stage=stage,
            time_h=when[: len(order)],
            user=viewers,
            outcomes=self.viewing.outcomes(interest, rng=rng),
            parent=None if parent is None else parent[idx],
        )
        self.batches.append(batch)
        self.n_views += len(batch)
        return batch

    def evaluate_stage(self, stage: int, at_h: float) -> GateResult:
        """The KPI gate on the views of ``stage`` that have happened by ``at_h``."""
        n, completed, seconds = 0, 0, 0.0
        actions = np.zeros(len(ACTION_COLUMNS), dtype=np.int64)
        for g in self.stage_batches.get(stage, []):
            k = int(np.searchsorted(g.batch.time_h, at_h, side="right"))
            if k:
                done, watched, acted = g.counts(k)
                n += k
                completed += done
                seconds += watched
                actions += acted
        sums = {"completed": float(completed), "watch_s": seconds}
        sums.update(zip(ACTION_COLUMNS, map(float, actions.tolist()), strict=True))
        push = self.scenario.platform.push
        return evaluate_counts(
            n,
            sums,
            self.scenario.video.duration_s,
            push.thresholds_for(stage),
            push.score_weights,
        )

    def stage_eval_time(self, stage: int, delivered: int, last_delivery_h: float) -> float:
        """When the stage is evaluated: once a fraction of its cohort watched, or the window."""
        push = self.scenario.platform.push
        window = last_delivery_h + push.eval_window_h
        parts = [g.batch.time_h for g in self.stage_batches.get(stage, [])]
        times = np.concatenate(parts) if parts else np.empty(0)
        k = evaluation_views(push, delivered)
        if k < 1 or len(times) < k:
            return window
        return float(min(np.partition(times, k - 1)[k - 1], window))

    def record_stage(self, row: StageRecord) -> None:
        """Append one row to the stage history."""
        self.stages.append(row)

    def remove(self, at_h: float) -> None:
        """Take the video down at ``at_h``: views that would come later never happen."""
        self.removed_h = at_h

    def take_down(self, reason: str, at_h: float) -> None:
        """Take the video down at ``at_h`` (a moderator removed it after publishing) and stop for ``reason``."""
        self.remove(at_h)
        self.stop(reason, at_h)

    def stop(self, reason: str, at_h: float) -> None:
        """Record why and when the platform's distribution stopped (first reason wins)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.stop_h = at_h
