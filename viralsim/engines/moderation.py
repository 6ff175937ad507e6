"""The human moderators' queue, shared by both engines.

- :func:`human_review` — one upload queues for a moderator and is reviewed;
- :func:`background_reviews` — other doubtful uploads competing for the same
  moderators (Poisson arrivals).

Both are SimPy processes over a :class:`ModerationRun` (what an engine's run
state exposes to them): the scenario, the named random streams and the
moderation record. No IO, no global randomness.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol

import simpy

from viralsim.model.platform import human_removes, review_time_h
from viralsim.rng import Streams
from viralsim.scenario import Scenario

__all__ = ["ModerationRun", "Proc", "background_reviews", "human_review"]

Proc = Generator[simpy.Event, Any, Any]


class ModerationRun(Protocol):
    """What the moderation processes read and write of a run's state."""

    scenario: Scenario
    streams: Streams
    moderation: dict[str, Any]


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
