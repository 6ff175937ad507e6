"""SimPy processes: they only sequence time and hand decisions to pure functions.

- :func:`upload` — the upload pipeline: moderation (the shared
  :func:`~viralsim.engines.moderation.moderate_upload`), recognition, then the
  following feed and (in ``content``/``hybrid`` mode) the staged push, the shared
  :func:`~viralsim.engines.push.push` over a :class:`CohortPool`;
- :func:`following_feed` — the creator's followers, one delivery batch;
- :func:`share_generation` — one generation of a share cascade, vectorised.

Every process takes ``env`` first and the run state second; none keeps
per-viewer Python objects or processes. :class:`CohortPool` is the run's side of
the push loop: the population ranked by affinity, the gate on drawn view times.
"""

from __future__ import annotations

import numpy as np
import simpy

from viralsim.engines.cohort.state import RunState
from viralsim.engines.moderation import Proc, moderate_upload, stage_review
from viralsim.engines.push import push
from viralsim.model.kpi import GateResult
from viralsim.model.platform import recognise
from viralsim.records import StageRecord
from viralsim.views import Batch

__all__ = ["CohortPool", "following_feed", "share_generation", "upload"]


def upload(env: simpy.Environment, run: RunState) -> Proc:
    """The upload pipeline: moderation (:func:`moderate_upload`), recognition, then distribution."""
    run.moderators = simpy.Resource(env, capacity=run.scenario.platform.moderation.moderators)
    if (yield from moderate_upload(env, run, run.moderators, run.take_down)):
        run.stop("removed_by_moderation", env.now)
        return
    _distribute(env, run)


def _distribute(env: simpy.Environment, run: RunState) -> None:
    """Recognise the topic, then start the following feed and (content/hybrid) the push."""
    sc = run.scenario
    topic = recognise(
        sc.video.main_topic(), list(sc.population.topics), sc.platform.recognition, rng=run.streams["recognition"]
    )
    run.recognised_topic = topic
    run.population.set_ranking_topic(topic)
    env.process(following_feed(env, run))
    if sc.platform.push.mode in ("content", "hybrid"):
        env.process(push(env, CohortPool(env, run), sc.platform.push, run.streams["push.pool_size"]))
    else:
        run.stop("no_push_social_mode", env.now)


def following_feed(env: simpy.Environment, run: RunState) -> Proc:
    """Deliver the video to the creator's followers (one batch) and start their shares."""
    sc = run.scenario
    rng = run.streams["following"]
    followers = run.graph.followers(run.creator, sc.creator.followers, rng=rng)
    if run.creator is not None:
        followers = followers[followers != run.creator]
    feed = sc.platform.following
    batch = run.deliver(
        followers, "following", env.now, feed.watch_probability, rng=rng, half_life_h=feed.freshness_half_life_h
    )
    _spread(env, run, batch)
    yield env.timeout(0)  # a process must be a generator


def _spread(env: simpy.Environment, run: RunState, batch: Batch) -> None:
    """Start the share generation of the views in ``batch`` (only where shares propagate)."""
    if run.scenario.platform.push.mode == "content":
        return
    sharers = batch.outcomes.actions["shared"]
    if len(sharers):
        env.process(share_generation(env, run, batch, sharers))


def share_generation(env: simpy.Environment, run: RunState, batch: Batch, sharers: np.ndarray) -> Proc:
    """One generation of the share cascade: every sharer's recipients, in one vectorised step."""
    sc = run.scenario
    rng = run.streams["shares"]
    times = batch.time_h[sharers]
    yield env.timeout(max(0.0, float(times.min()) - env.now))
    if run.removed_h is not None:  # a removed video cannot be shared any more
        keep = times <= run.removed_h
        sharers, times = sharers[keep], times[keep]
    sharing = sc.platform.sharing
    who, rec = run.graph.recipients(batch.user[sharers], sharing.recipients_per_share, rng=rng)
    opened = rng.random(len(rec)) < sharing.open_probability
    who, rec = who[opened], rec[opened]
    order = np.argsort(times[who], kind="stable")  # earliest share first wins a repeated recipient
    who, rec = who[order], rec[order]
    new = run.deliver(rec, "share", times[who], 1.0, rng=rng, parent=batch.start + sharers[who])
    _spread(env, run, new)


class CohortPool:
    """The run's push as a :class:`~viralsim.engines.push.TrafficPool`: the population ranked by affinity.

    Each stage draws from its own stream ``push.stage.{n}``; the stage is evaluated once
    a fraction of its cohort watched (known from the drawn view times) or the window passed.
    """

    def __init__(self, env: simpy.Environment, run: RunState) -> None:
        self.env = env
        self.run = run
        self.video: int | None = None  # one video: its stage rows carry no index
        self.upload_h = run.scenario.video.upload_h
        self._rng = run.streams["push.stage.1"]

    def available(self) -> bool:
        """Whether anyone is left to reach."""
        return self.run.population.available > 0

    def open_stage(self, stage: int) -> None:
        """Count ``stage`` as reached; its deliveries draw from stream ``push.stage.{stage}``."""
        self.run.stages_reached = stage
        self._rng = self.run.streams[f"push.stage.{stage}"]

    def deliver(self, k: int, stage: int, t_h: float) -> int:
        """The next ``k`` users by affinity; their shares start spreading."""
        run = self.run
        sent, batch = run.deliver_push(k, stage, t_h, rng=self._rng)
        _spread(self.env, run, batch)
        return sent

    def evaluate(self, stage: int, at_h: float) -> GateResult:
        """The KPI gate on the stage's views by ``at_h``."""
        return self.run.evaluate_stage(stage, at_h)

    def wait_for_evaluation(self, env: simpy.Environment, stage: int, delivered: int, last_h: float) -> Proc:
        """Wait until the stage's evaluation time (:meth:`RunState.stage_eval_time`); return it."""
        t_eval = max(env.now, self.run.stage_eval_time(stage, delivered, last_h))
        yield env.timeout(t_eval - env.now)
        return t_eval

    def cohort_interest(self, stage: int) -> float:
        """The sum of the stage's users' interest in the ranking topic."""
        return self.run.cohort_interest.get(stage, 0.0)

    def record_stage(self, row: StageRecord) -> None:
        """Append the stage's row to the run's history."""
        self.run.record_stage(row)

    def stop(self, reason: str, at_h: float) -> None:
        """Record why the push stopped."""
        self.run.stop(reason, at_h)

    def taken_down(self) -> bool:
        """Whether a moderator took the video down (a late review)."""
        return self.run.removed_h is not None

    def after_stage(self, env: simpy.Environment, stage: int) -> Proc:
        """The human review after stage ``human_review_after_stage``; True if it removed the video."""
        run = self.run
        if run.scenario.platform.push.human_review_after_stage != stage:
            return False
        return (yield from stage_review(env, run, run.moderators, stage, run.take_down))
