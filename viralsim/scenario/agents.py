"""The agent engine's tables: users' attention and boredom, and the marketplace of creators.

Used when ``engine = "agents"`` (see :mod:`viralsim.engines.agents`). Frozen
pydantic models; this module only describes: no checks across tables, no IO.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from viralsim.scenario.tables import NonNegativeFloat, PositiveFloat, Probability, _Strict

__all__ = ["Agents", "AppealDistribution", "AttentionBudget", "FollowerCounts", "Marketplace"]


class AttentionBudget(_Strict):
    """Seconds of watching a user gives one session (agents engine): log-normal across sessions."""

    median: PositiveFloat = 90.0
    spread: NonNegativeFloat = 0.7  #: sigma of log(seconds)


class Agents(_Strict):
    """Users as processes (``engine = "agents"``): attention, boredom, feed mixing, interest drift.

    A session ends when the attention budget is spent, when satisfaction (an
    exponential average of the watch fractions, starting at 1) falls below
    ``boredom_below``, or when the feed has nothing new.
    """

    attention_s: AttentionBudget = AttentionBudget()
    #: Seconds each item costs besides its watch time (scrolling to it).
    swipe_s: NonNegativeFloat = 1.0
    #: Weight of the latest view in the satisfaction average (0: never bored, 1: the last view only).
    satisfaction_memory: Probability = 0.3
    #: The session ends once satisfaction is below this.
    boredom_below: Probability = 0.25
    #: Bonus, in units of the ranking score (sum of weight x predicted rate, ~1-3), that a Following
    #: item gets over For You items in a session's feed.
    following_weight: NonNegativeFloat = 0.5
    #: Probability that the next item of a session is picked at random instead of the best ranked
    #: (out-of-interest items, TikTok's deliberate diversity).
    exploration: Probability = 0.1
    #: Share of each push batch the platform sends to random users instead of the most interested
    #: ones (exploration outside users' interests at the platform's side; 0: the ranking only).
    explore_cohort: Probability = 0.0
    #: Feedback of viewing on tastes: each view multiplies the viewer's interest in the video's
    #: topic by exp(interest_drift x (fraction watched - mean fraction watched)), applied every
    #: drift_interval_h (0: tastes fixed).
    interest_drift: NonNegativeFloat = 0.0
    #: Hours between interest updates and between the samples of the drift measure.
    drift_interval_h: PositiveFloat = 6.0


class FollowerCounts(_Strict):
    """Creators' follower counts: log-normal (heavy-tailed) across creators."""

    median: PositiveFloat = 100.0
    spread: NonNegativeFloat = 1.5  #: sigma of log(followers)


class AppealDistribution(_Strict):
    """Appeal of uploaded videos: Beta with this mean and concentration (a + b)."""

    mean: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.55
    concentration: PositiveFloat = 6.0


class Marketplace(_Strict):
    """Many creators uploading many videos that compete for the same users (agents engine).

    Each video's creator, topic (the creator's), appeal and upload time come from here;
    its duration, originality and trend boost from the scenario's ``[video]`` table.
    """

    creators: Annotated[int, Field(ge=1)] = 200
    followers: FollowerCounts = FollowerCounts()
    #: Uploads per day over the whole marketplace (evenly spread over the horizon).
    uploads_per_day: PositiveFloat = 100.0
    appeal: AppealDistribution = AppealDistribution()
    #: Topic weights of creators (and of users' tastes); None: uniform over population.topics.
    topic_mix: dict[str, NonNegativeFloat] | None = None

    def videos(self, horizon_h: float) -> int:
        """Number of uploads over ``horizon_h`` hours."""
        return int(round(min(self.uploads_per_day * horizon_h / 24.0, 1e12)))
