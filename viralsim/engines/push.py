"""The staged push (the traffic pool), shared by both engines.

- :class:`TrafficPool` — what an engine exposes of one video's push: who is
  left to reach, delivery of a batch, the KPI gate, when a stage is evaluated,
  the stage history and stop reasons;
- :func:`push` — the one SimPy process of the push: one stage after another,
  each cohort delivered in batches with early KPI checks between them, the
  stage evaluated once a fraction of the cohort watched (or the window passed),
  then gated on its KPIs;
- :func:`pool_factor`, :func:`graded_factor` — the optional per-video pool
  size (``pool_spread``) and graded promotion (``graded``) that scale cohorts;
- :func:`stage_row` — the one place a stage's history row is built.

This module only sequences time and decisions: its one draw is a video's pool
factor, from the generator the engine passes, and only when ``pool_spread`` > 0
(deliveries draw from each pool's own stream); it holds no state of a run. It
imports neither engine.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import simpy

from viralsim.engines.moderation import Proc
from viralsim.model.kpi import GateResult, gate_margin
from viralsim.records import StageRecord
from viralsim.scenario import KPI_NAMES, MAX_USERS, Push

__all__ = ["TrafficPool", "evaluation_views", "graded_factor", "pool_factor", "push", "scaled_size", "stage_row"]


class TrafficPool(Protocol):
    """One video's push as an engine runs it (the engine's state behind it)."""

    #: The video's index in a marketplace (its stage rows carry it), ``None`` for a run of one video.
    video: int | None
    #: When the video was uploaded (hours on the simulation clock): its stage rows count hours from it.
    upload_h: float

    def available(self) -> bool:
        """Whether anyone is left to reach (False: the population is exhausted)."""
        ...

    def open_stage(self, stage: int) -> None:
        """Stage ``stage`` starts: count it as reached, start counting its views."""
        ...

    def deliver(self, k: int, stage: int, t_h: float) -> int:
        """Deliver a batch of ``k`` users of ``stage`` at ``t_h``; return how many were delivered to."""
        ...

    def evaluate(self, stage: int, at_h: float) -> GateResult:
        """The KPI gate on the views of ``stage`` that happened by ``at_h``."""
        ...

    def wait_for_evaluation(self, env: simpy.Environment, stage: int, delivered: int, last_h: float) -> Proc:
        """Wait until ``stage`` is evaluated (a fraction of ``delivered`` watched, or the window after
        ``last_h``); return the evaluation time (hours)."""
        ...

    def cohort_interest(self, stage: int) -> float:
        """The sum of the stage's users' interest in the ranking topic."""
        ...

    def record_stage(self, row: StageRecord) -> None:
        """Append one row (:func:`stage_row`) to the stage history."""
        ...

    def stop(self, reason: str, at_h: float) -> None:
        """Why and when the push stopped (the first reason wins)."""
        ...

    def taken_down(self) -> bool:
        """Whether the video was taken down (its push ends without a stop reason of its own)."""
        ...

    def after_stage(self, env: simpy.Environment, stage: int) -> Proc:
        """What happens after ``stage`` passed its gate; return True if the push must end there."""
        ...


def push(env: simpy.Environment, pool: TrafficPool, cfg: Push, rng: np.random.Generator | None = None) -> Proc:
    """The staged push: deliver each stage in batches, gate it on its KPIs, go on or stop.

    ``rng`` draws the video's :func:`pool_factor` (needed only with ``pool_spread`` > 0); a
    passed stage's :func:`graded_factor` scales the next cohort. Without either the cohorts are
    exactly the listed sizes.
    """
    factor = pool_factor(cfg, rng)
    promoted = 1.0
    for stage, listed in enumerate(cfg.cohort_sizes(), start=1):
        size = listed if factor == 1.0 and promoted == 1.0 else scaled_size(listed, factor * promoted)
        if not pool.available():
            pool.stop("population_exhausted", env.now)
            return
        pool.open_stage(stage)
        start_h = last_h = env.now
        delivered = 0
        early: GateResult | None = None
        # the cohort is the next `size` users by affinity, ranked batch by batch as it is delivered
        for j in range(0, size, cfg.delivery_batch):
            if j > 0:
                yield env.timeout(cfg.batch_interval_h)
                if pool.taken_down():  # by a late review
                    return
                check = pool.evaluate(stage, env.now)
                if check.views >= cfg.min_views_to_evaluate and not check.passed:
                    early = check
                    break
            k = min(cfg.delivery_batch, size - j)
            sent = pool.deliver(k, stage, env.now)
            delivered += sent
            last_h = env.now
            if sent < k:  # the population ran out
                break
        if early is None:
            t_eval: float = yield from pool.wait_for_evaluation(env, stage, delivered, last_h)
            if pool.taken_down():  # by a late review while the stage ran
                return
            # evaluate at t_eval itself: env.now + (t_eval - env.now) may round to just below it,
            # which would leave out the view that completed the fraction
            gate = pool.evaluate(stage, t_eval)
        else:
            t_eval, gate = env.now, early
        interest = pool.cohort_interest(stage) / max(delivered, 1)
        up = pool.upload_h  # the rows count hours after the upload
        row = stage_row(
            cfg, stage, size, delivered, interest, start_h - up, t_eval - up, gate, early is not None, video=pool.video
        )
        pool.record_stage(row)
        if not gate.passed:
            pool.stop(f"kpi_below_threshold:{','.join(gate.failed)}", env.now)
            return
        promoted = graded_factor(cfg, gate, stage)
        if (yield from pool.after_stage(env, stage)):
            return
    pool.stop("all_stages_passed", env.now)


def pool_factor(cfg: Push, rng: np.random.Generator | None) -> float:
    """A video's multiplier of all its cohort sizes: log-normal, median 1, log-sd ``pool_spread``.

    Exactly 1.0, drawing nothing, when ``pool_spread`` is 0.
    """
    if cfg.pool_spread == 0:
        return 1.0
    if rng is None:
        raise ValueError("platform.push.pool_spread > 0 needs a random generator for the pool factor")
    return float(np.exp(cfg.pool_spread * rng.standard_normal()))


def graded_factor(cfg: Push, gate: GateResult, stage: int) -> float:
    """The multiplier of the next cohort after ``stage`` passed ``gate``: margin ** graded, in [1, graded_cap].

    The margin is :func:`~viralsim.model.kpi.gate_margin` against the stage's thresholds (no
    threshold set: the cap). Exactly 1.0 when ``graded`` is 0.
    """
    if cfg.graded == 0:
        return 1.0
    margin = gate_margin(gate, cfg.thresholds_for(stage))
    if not margin >= 1.0:  # NaN (no views) or a gate passed without views
        return 1.0
    try:
        return float(min(cfg.graded_cap, margin**cfg.graded))
    except OverflowError:
        return cfg.graded_cap


def scaled_size(listed: int, factor: float) -> int:
    """A listed cohort size times ``factor``, rounded, at least 1 and at most MAX_USERS."""
    return int(min(max(1, round(listed * factor)), MAX_USERS))


def evaluation_views(cfg: Push, delivered: int) -> int:
    """Views of a stage after which it is evaluated: ``evaluate_after_fraction`` of the users delivered to."""
    # round first: 0.55 * 100 is 55.000000000000007 in floating point, not 56 views
    return int(math.ceil(round(cfg.evaluate_after_fraction * delivered, 9)))


def stage_row(
    cfg: Push,
    stage: int,
    size: int,
    delivered: int,
    cohort_interest: float,
    start_h: float,
    evaluated_h: float,
    gate: GateResult,
    stopped_mid_stage: bool,
    *,
    video: int | None = None,
) -> StageRecord:
    """One row of the stage history: the cohort, when it was evaluated, its KPIs against the thresholds.

    ``start_h`` and ``evaluated_h`` are hours after the video's upload.
    """
    thresholds = cfg.thresholds_for(stage)
    return StageRecord(
        video=video,
        stage=stage,
        cohort_size=size,
        delivered=delivered,
        cohort_interest=cohort_interest,
        start_h=start_h,
        evaluated_h=evaluated_h,
        views_evaluated=gate.views,
        **{k: gate.rates[k] for k in KPI_NAMES},
        score=gate.score,
        **{f"threshold_{k}": getattr(thresholds, k) for k in (*KPI_NAMES, "score")},
        passed=gate.passed,
        failed=",".join(gate.failed),
        stopped_mid_stage=stopped_mid_stage,
    )
