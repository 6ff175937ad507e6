"""One video's push in the agent engine: the :class:`~viralsim.engines.push.TrafficPool` over a :class:`World`.

:class:`VideoPool` picks each batch of a stage (the unreached users most
interested in the video's recognised topic, a share of them at random with
``agents.explore_cohort``), runs the KPI gate on the counts the sessions keep
in ``World.gate``, and waits for a stage's evaluation on an event that a
session fires at the view that completes the fraction. The loop itself is the
shared :func:`viralsim.engines.push.push`; this module neither sequences time
beyond that wait nor touches the sessions' hot loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from viralsim.engines.agents.world import FOR_YOU, World
from viralsim.engines.moderation import Proc
from viralsim.engines.push import evaluation_views
from viralsim.model.behaviour import ACTION_COLUMNS
from viralsim.model.kpi import GateResult, evaluate_counts
from viralsim.records import StageRecord

__all__ = ["VideoPool"]


class VideoPool:
    """The push of video ``v`` of ``world``; deliveries draw from the stream ``push``."""

    def __init__(self, world: World, v: int) -> None:
        self.world = world
        self.v = v
        self.video = v if world.scenario.marketplace is not None else None  # what its stage rows carry
        self.upload_h = float(world.videos["upload_h"][v])
        self.rng = world.streams["push"]

    def available(self) -> bool:
        """Whether any user has not been reached yet."""
        return bool(self.world.unreached[self.v] > 0)

    def open_stage(self, stage: int) -> None:
        """Count ``stage`` as reached and start counting its views."""
        w = self.world
        w.stages_reached[self.v] = stage
        w.gate[self.v][stage] = [0.0] * (3 + len(ACTION_COLUMNS))

    def deliver(self, k: int, stage: int, t_h: float) -> int:
        """Deliver to the ``k`` unreached users most interested in the video's recognised topic.

        With ``agents.explore_cohort`` > 0 that share of the ``k`` goes to unreached users
        drawn at random instead (the platform exploring outside users' interests).
        """
        w, v, rng = self.world, self.v, self.rng
        cand = np.flatnonzero(~w.reached[v])
        x = w.interest[cand, int(w.videos["rec_topic"][v])]
        if len(cand) > k:
            explore = int(round(w.scenario.agents.explore_cohort * k))
            if explore:  # random users first, then the most interested of the others
                pick = rng.choice(len(cand), size=explore, replace=False)
                rest = np.ones(len(cand), dtype=bool)
                rest[pick] = False
                others, ox = cand[rest], x[rest]
                best = np.argpartition(-ox, k - explore - 1)[: k - explore] if k > explore else np.empty(0, np.intp)
                cand, x = np.concatenate([cand[pick], others[best]]), np.concatenate([x[pick], ox[best]])
            else:
                top = np.argpartition(-x, k - 1)[:k]
                cand, x = cand[top], x[top]
        key = (v, stage)  # how deep into the ranking the stage went: its users' interest in the topic
        w.cohort_interest[key] = w.cohort_interest.get(key, 0.0) + float(x.sum(dtype=np.float64))
        return w.deliver(v, cand, FOR_YOU, t_h, w.scenario.platform.push.watch_probability, rng=rng, stage=stage)

    def evaluate(self, stage: int, at_h: float) -> GateResult:
        """The KPI gate on the stage's views so far (the sessions count them live; ``at_h`` is now)."""
        w = self.world
        acc = w.gate[self.v][stage]
        sums = {"completed": acc[1], "watch_s": acc[2], **dict(zip(ACTION_COLUMNS, acc[3:], strict=True))}
        push = w.scenario.platform.push
        return evaluate_counts(int(acc[0]), sums, w.duration_s, push.thresholds_for(stage), push.score_weights)

    def wait_for_evaluation(self, env: simpy.Environment, stage: int, delivered: int, last_h: float) -> Proc:
        """Wait until a fraction of the cohort watched (the session of that view fires an event), or the window.

        Returns the evaluation time: the time of that view (later in its session than the
        session's start), or the end of the window after the last delivery.
        """
        w, v = self.world, self.v
        cfg = w.scenario.platform.push
        window = last_h + cfg.eval_window_h
        need = evaluation_views(cfg, delivered)
        if need < 1:
            ev = env.event()  # never fires: the window decides
        elif w.gate[v][stage][0] >= need:
            return env.now
        else:
            ev = env.event()
            w.waiting[v] = (stage, need, ev)
        yield ev | env.timeout(max(0.0, window - env.now))
        if ev.triggered:
            at: Any = ev.value
            yield env.timeout(max(0.0, float(at) - env.now))  # a view later in its session
        else:
            w.waiting.pop(v, None)
        return env.now

    def cohort_interest(self, stage: int) -> float:
        """The sum of the stage's users' interest in the recognised topic."""
        return self.world.cohort_interest.get((self.v, stage), 0.0)

    def record_stage(self, row: StageRecord) -> None:
        """Append the stage's row to the world's history."""
        self.world.stages.append(row)

    def stop(self, reason: str, at_h: float) -> None:
        """Record why the push of the video stopped."""
        self.world.stop(self.v, reason, at_h)

    def taken_down(self) -> bool:
        """Never: the agent engine does not take published videos down."""
        return False

    def after_stage(self, env: simpy.Environment, stage: int) -> Proc:
        """Nothing happens between stages (the agent engine refuses ``human_review_after_stage``)."""
        return False
        yield  # a generator with no events
