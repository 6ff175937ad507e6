"""The upload's moderation and the human moderators' queue, shared by both engines.

- :func:`moderate_upload` — the upload pipeline up to the decision: classifier
  score and path, the human review (competing with background reviews), the
  moderation record; a video still queued after ``publish_unreviewed_after_h``
  is published unreviewed and its review goes on (:func:`late_review`);
- :func:`stage_review` — a human review between push stages
  (``human_review_after_stage``);
- :func:`human_review` — one upload queues for a moderator and is reviewed;
- :func:`background_reviews` — other doubtful uploads competing for the same
  moderators (Poisson arrivals).

All are SimPy processes over a :class:`ModerationRun` (what an engine's run
state exposes to them): the scenario, the named random streams and the
moderation record. What a removal does to distribution is the engine's: the
processes return the decision, or call the ``take_down`` they are given for a
video already published. No IO, no global randomness.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Protocol

import simpy

from viralsim.model.platform import classifier_path, classifier_score, human_removes, review_time_h
from viralsim.rng import Streams
from viralsim.scenario import Scenario

__all__ = [
    "ModerationRun",
    "Proc",
    "TakeDown",
    "background_reviews",
    "human_review",
    "late_review",
    "moderate_upload",
    "stage_review",
]

Proc = Generator[simpy.Event, Any, Any]
#: Take a published video down: ``take_down(reason, at_h)`` (views after ``at_h`` never happen).
TakeDown = Callable[[str, float], None]


class ModerationRun(Protocol):
    """What the moderation processes read and write of a run's state."""

    scenario: Scenario
    streams: Streams
    moderation: dict[str, Any]


def moderate_upload(
    env: simpy.Environment, run: ModerationRun, moderators: simpy.Resource, take_down: TakeDown | None = None
) -> Proc:
    """The upload's moderation, from the upload until the decision; return whether it was removed.

    A video still queued ``publish_unreviewed_after_h`` after the upload is published
    unreviewed (returns False) and its review goes on: a removal then calls ``take_down``
    (an engine that cannot take a published video down passes None and refuses the setting).
    """
    sc = run.scenario
    mod = sc.platform.moderation
    score = classifier_score(sc.video.violation, mod, rng=run.streams["moderation"])
    path = classifier_path(score, mod)
    record = run.moderation
    record.update(classifier_score=score, path=path, violation=sc.video.violation)
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
            if take_down is None:
                raise ValueError("publish_unreviewed_after_h needs an engine that can take a published video down")
            record.update(
                decision="published_unreviewed",
                correct=not sc.video.violation,
                delay_h=env.now - sc.video.upload_h,
                decided_h=env.now,
                published_unreviewed=True,
            )
            env.process(late_review(env, run, review, reviewed, take_down))
            return False
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
    return removed


def late_review(
    env: simpy.Environment, run: ModerationRun, review: simpy.Process, reviewed: simpy.Event, take_down: TakeDown
) -> Proc:
    """The review of a video published unreviewed: a removal takes it down (earlier views stay)."""
    removed, waited, took = yield review
    reviewed.succeed()
    run.moderation.update(
        queue_delay_h=waited,
        review_h=took,
        reviewed_h=env.now,
        decision="removed_after_publishing" if removed else "approved",
        correct=removed == run.scenario.video.violation,
    )
    if removed:
        take_down("removed_after_publishing", env.now)


def stage_review(
    env: simpy.Environment, run: ModerationRun, moderators: simpy.Resource, stage: int, take_down: TakeDown
) -> Proc:
    """A human review after push stage ``stage`` (``human_review_after_stage``); return whether it removed."""
    removed, waited, took = yield env.process(human_review(env, run, moderators, "moderation.stage"))
    run.moderation.update(
        stage_review_after=stage,
        stage_review_delay_h=waited + took,
        stage_review_decision="removed" if removed else "approved",
        stage_review_correct=removed == run.scenario.video.violation,
    )
    if removed:
        take_down("removed_at_stage_review", env.now)
    return removed


def human_review(env: simpy.Environment, run: ModerationRun, moderators: simpy.Resource, stream: str) -> Proc:
    """Queue for a moderator, be reviewed; return (removed, waited_h, review_h)."""
    mod = run.scenario.platform.moderation
    rng = run.streams[stream]
    arrived = env.now
    with moderators.request() as req:
        yield req
        waited = env.now - arrived
        took = float(review_time_h(mod.review_time_min, rng=rng)[0])
        yield env.timeout(took)
    return human_removes(run.scenario.video.violation, mod.human_accuracy, rng=rng), waited, took


def background_reviews(
    env: simpy.Environment, run: ModerationRun, moderators: simpy.Resource, until: simpy.Event
) -> Proc:
    """Poisson arrivals of other doubtful uploads into the human queue, until ``until`` fires."""
    mod = run.scenario.platform.moderation
    rate = mod.background_reviews_per_h
    if rate <= 0:
        return
    rng = run.streams["moderation.background"]
    waits: list[float] = []
    run.moderation["background_waits_h"] = waits
    if mod.background_warmup_h is not None:  # the queue fills from warmup_h before the upload
        yield env.timeout(max(0.0, run.scenario.video.upload_h - mod.background_warmup_h))

    def one(env: simpy.Environment) -> Proc:
        arrived = env.now
        with moderators.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(float(review_time_h(mod.review_time_min, rng=rng)[0]))

    while not until.triggered:
        yield env.timeout(float(rng.exponential(1.0 / rate))) | until
        if not until.triggered:
            env.process(one(env))
