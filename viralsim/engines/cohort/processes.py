"""SimPy processes: they only sequence time and hand decisions to pure functions.

- :func:`upload` — the upload pipeline: moderation, recognition, then the
  following feed and (in ``content``/``hybrid`` mode) the staged push;
- :func:`push` — the traffic pool: one stage after another, each delivered in
  batches and gated by its KPIs;
- :func:`following_feed` — the creator's followers, one delivery batch;
- :func:`share_generation` — one generation of a share cascade, vectorised.

Every process takes ``env`` first and the run state second; none keeps
per-viewer Python objects or processes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from viralsim.engines.cohort.state import RunState
from viralsim.engines.moderation import Proc, background_reviews, human_review
from viralsim.model.platform import classifier_path, classifier_score, recognise
from viralsim.scenario import KPI_NAMES
from viralsim.views import Batch

__all__ = ["following_feed", "push", "share_generation", "upload"]


def upload(env: simpy.Environment, run: RunState) -> Proc:
    """The upload pipeline: moderation, recognition, then distribution."""
    sc = run.scenario
    mod = sc.platform.moderation
    rng = run.streams["moderation"]
    score = classifier_score(sc.video.violation, mod, rng=rng)
    path = classifier_path(score, mod)
    record = run.moderation
    record.update(classifier_score=score, path=path, violation=sc.video.violation)
    moderators = simpy.Resource(env, capacity=mod.moderators)
    run.moderators = moderators
    reviewed = env.event()
    if path == "human":
        env.process(background_reviews(env, run, moderators, reviewed))
    yield env.timeout(sc.video.upload_h)
    if path == "human":
        record.update(decision="pending", correct=None)  # what the record says if the horizon comes first
        review = env.process(human_review(env, run, moderators, "moderation"))
        limit = mod.publish_unreviewed_after_h
        yield review if limit is None else review | env.timeout(limit)
        if not review.triggered:  # still queued: published unreviewed, the review goes on
            record.update(
                decision="published_unreviewed",
                correct=not sc.video.violation,
                delay_h=env.now - sc.video.upload_h,
                decided_h=env.now,
                published_unreviewed=True,
            )
            env.process(_late_review(env, run, review, reviewed))
            _distribute(env, run)
            return
        outcome: Any = review.value
        removed, waited, took = outcome
        reviewed.succeed()
        record.update(queue_delay_h=waited, review_h=took)
    else:
        removed = path == "auto_remove"
        record.update(queue_delay_h=0.0, review_h=0.0)
    record.update(
        decision="removed" if removed else "approved",
        correct=removed == sc.video.violation,
        delay_h=env.now - sc.video.upload_h,
        decided_h=env.now,
    )
    if removed:
        run.stop("removed_by_moderation", env.now)
        return
    _distribute(env, run)


def _late_review(env: simpy.Environment, run: RunState, review: simpy.Process, reviewed: simpy.Event) -> Proc:
    """The review of a video published unreviewed: a removal takes it down (earlier views stay)."""
    removed, waited, took = yield review
    reviewed.succeed()
    violation = run.scenario.video.violation
    run.moderation.update(
        queue_delay_h=waited,
        review_h=took,
        reviewed_h=env.now,
        decision="removed_after_publishing" if removed else "approved",
        correct=removed == violation,
    )
    if removed:
        run.remove(env.now)
        run.stop("removed_after_publishing", env.now)


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
        env.process(push(env, run))
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


def push(env: simpy.Environment, run: RunState) -> Proc:
    """The staged push: deliver each stage in batches, gate it on its KPIs, go on or stop."""
    sc = run.scenario
    cfg = sc.platform.push
    pop = run.population
    for stage, size in enumerate(cfg.cohort_sizes(), start=1):
        rng = run.streams[f"push.stage.{stage}"]
        if pop.available == 0:
            run.stop("population_exhausted", env.now)
            return
        run.stages_reached = stage
        start_h = env.now
        delivered = 0
        last_h = env.now
        early: Any = None
        # the cohort is the next `size` users by affinity, ranked batch by batch as it is delivered
        for j in range(0, size, cfg.delivery_batch):
            if j > 0:
                yield env.timeout(cfg.batch_interval_h)
                if run.removed_h is not None:  # taken down by a late review
                    return
                check = run.evaluate_stage(stage, env.now)
                if check.views >= cfg.min_views_to_evaluate and not check.passed:
                    early = check
                    break
            k = min(cfg.delivery_batch, size - j)
            sent, batch = run.deliver_push(k, stage, env.now, rng=rng)
            delivered += sent
            last_h = env.now
            _spread(env, run, batch)
            if sent < k:  # the population ran out
                break
        if early is None:
            t_eval = max(env.now, run.stage_eval_time(stage, delivered, last_h))
            yield env.timeout(t_eval - env.now)
            if run.removed_h is not None:  # taken down by a late review while the stage ran
                return
            # evaluate at t_eval itself: env.now + (t_eval - env.now) may round to just below it,
            # which would leave out the view that completed the fraction
            gate = run.evaluate_stage(stage, t_eval)
        else:
            t_eval = env.now
            gate = early
        row: dict[str, Any] = {
            "stage": stage,
            "cohort_size": size,
            "delivered": delivered,
            "cohort_interest": run.cohort_interest.get(stage, 0.0) / max(delivered, 1),
            "start_h": start_h,
            "evaluated_h": t_eval,
            "views_evaluated": gate.views,
            **{k: gate.rates[k] for k in KPI_NAMES},
            "score": gate.score,
            **{f"threshold_{k}": getattr(cfg.thresholds_for(stage), k) for k in (*KPI_NAMES, "score")},
            "passed": gate.passed,
            "failed": ",".join(gate.failed),
            "stopped_mid_stage": early is not None,
        }
        run.record_stage(row)
        if not gate.passed:
            run.stop(f"kpi_below_threshold:{','.join(gate.failed)}", env.now)
            return
        if cfg.human_review_after_stage == stage:
            removed, waited, took = yield env.process(human_review(env, run, run.moderators, "moderation.stage"))
            run.moderation.update(
                stage_review_after=stage,
                stage_review_delay_h=waited + took,
                stage_review_decision="removed" if removed else "approved",
                stage_review_correct=removed == sc.video.violation,
            )
            if removed:
                run.remove(env.now)
                run.stop("removed_at_stage_review", env.now)
                return
    run.stop("all_stages_passed", env.now)
