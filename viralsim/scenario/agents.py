"""The agent engine's tables: users' attention and boredom, and the marketplace of creators.

Used when ``engine = "agents"`` (see :mod:`viralsim.engines.agents`). Frozen
pydantic models; this module only describes: no checks across tables, no IO.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from viralsim.scenario.tables import NonNegativeFloat, PositiveFloat, Probability, _Strict

__all__ = ["Agents", "AppealDistribution", "AttentionBudget", "FollowerCounts", "Marketplace", "Trickle"]


class AttentionBudget(_Strict):
    """Seconds of watching a user gives one session (agents engine): log-normal across sessions."""

    median: PositiveFloat = Field(
        90.0,
        description="Median seconds of watching a user gives one session (typical 30-600). Once spent the session"
        " ends: in a marketplace a smaller budget leaves more of each inbox unwatched (one chance per delivery).",
    )
    spread: NonNegativeFloat = Field(
        0.7,
        description="Sigma of log(seconds of attention) across sessions (0 = every session alike, typical 0.3-1).",
    )


class Trickle(_Strict):
    """Views after the push: search, profile and hashtag pages keep bringing a few viewers (agents engine)."""

    per_day: NonNegativeFloat = Field(
        0.0,
        description="Users delivered per day once a video's push has stopped, as a share of the users it reached"
        " so far (>= 0; 0 = no trickle, typical 0.01-0.2): search, the creator's profile and hashtag pages bring"
        " viewers in proportion to how known the video already is. Delivered to the most interested users not"
        " reached yet, counted as For You views of the video's last push stage.",
    )
    half_life_h: PositiveFloat = Field(
        24.0,
        description="Hours over which the trickle's rate halves after the push stopped (> 0, typical 12-72).",
    )
    interval_h: PositiveFloat = Field(
        1.0,
        description="Hours between two trickle deliveries of a video (> 0; each delivers a Poisson number of users).",
    )


class Agents(_Strict):
    """Users as processes (``engine = "agents"``): attention, boredom, feed mixing, interest drift.

    A session ends when the attention budget is spent, when satisfaction (an
    exponential average of the watch fractions, starting at 1) falls below
    ``boredom_below``, or when the feed has nothing new.
    """

    attention_s: AttentionBudget = Field(
        AttentionBudget(),
        description="Seconds of watching a user gives one session (log-normal across sessions).",
    )
    swipe_s: NonNegativeFloat = Field(
        1.0,
        description="Seconds each item costs besides its watch time (scrolling to it; >= 0, typical 0.5-3); it"
        " comes out of the session's attention budget.",
    )
    satisfaction_memory: Probability = Field(
        0.3,
        description="Weight of the latest view in the session's satisfaction, an exponential average of watch"
        " fractions starting at 1 (0 = never bored, 1 = the last view only; typical 0.1-0.5).",
    )
    boredom_below: Probability = Field(
        0.25,
        description="The session ends once satisfaction falls below this (in [0, 1]; 0 = never bored). Higher"
        " values end sessions after a few poorly watched items, so fewer deliveries become views.",
    )
    following_weight: NonNegativeFloat = Field(
        0.5,
        description="Bonus, in units of the ranking score (sum of weight x predicted rate, ~1-3), that a Following"
        " item gets over For You items in a session's feed (>= 0): how much followers see first.",
    )
    exploration: Probability = Field(
        0.1,
        description="Probability that a session's next item is picked at random instead of the best ranked"
        " (out-of-interest items, TikTok's deliberate diversity; typical 0-0.3).",
    )
    explore_cohort: Probability = Field(
        0.0,
        description="Share of each push batch sent to random users instead of the most interested ones (the"
        " platform exploring outside users' interests; 0 = the ranking only). It lowers the first cohorts' KPIs.",
    )
    interest_drift: NonNegativeFloat = Field(
        0.0,
        description="Feedback of viewing on tastes (>= 0; 0 = tastes fixed, typical 0.5-5): every"
        " drift_interval_h each view multiplies its viewer's interest in the video's topic by exp(interest_drift x"
        " (fraction watched - mean fraction watched)), narrowing tastes over time.",
    )
    drift_interval_h: PositiveFloat = Field(
        6.0,
        description="Hours between interest updates (interest_drift) and between the samples of the narrowness"
        " measure (> 0).",
    )
    trickle: Trickle = Field(
        Trickle(),
        description="Views that keep coming after the push stops (search, profile, hashtags); off by default.",
    )


class FollowerCounts(_Strict):
    """Creators' follower counts: log-normal (heavy-tailed) across creators."""

    median: PositiveFloat = Field(
        100.0,
        description="Median followers of a marketplace creator (count > 0, typical 50-10 000); followers are random"
        " users who get each of the creator's uploads in their Following feed.",
    )
    spread: NonNegativeFloat = Field(
        1.5,
        description="Sigma of log(followers) across creators (0 = all alike, typical 1-2.5): a wide spread makes a"
        " few celebrities and many small creators.",
    )


class AppealDistribution(_Strict):
    """Appeal of uploaded videos: Beta with this mean and concentration (a + b)."""

    mean: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.55,
        description="Mean appeal of the marketplace's uploads (in (0, 1)); each video's appeal is drawn from a Beta"
        " with this mean and replaces video.appeal.",
    )
    concentration: PositiveFloat = Field(
        6.0,
        description="Concentration (a + b) of the uploads' Beta appeal (> 0, typical 2-20): lower values give more"
        " duds and more hits, so a more unequal marketplace.",
    )


class Marketplace(_Strict):
    """Many creators uploading many videos that compete for the same users (agents engine).

    Each video's creator, topic (the creator's), appeal and upload time come from here;
    its duration, originality and trend boost from the scenario's ``[video]`` table.
    """

    creators: Annotated[int, Field(ge=1)] = Field(
        200,
        description="Creators in the marketplace (distinct users, below population.users); each upload is by one of"
        " them, drawn uniformly, about the creator's one topic.",
    )
    followers: FollowerCounts = Field(
        FollowerCounts(),
        description="Creators' follower counts (log-normal across creators).",
    )
    uploads_per_day: PositiveFloat = Field(
        100.0,
        description="Uploads per day over the whole marketplace (> 0), at random times over the horizon. More"
        " uploads compete for the same sessions: each video gets fewer views.",
    )
    appeal: AppealDistribution = Field(
        AppealDistribution(),
        description="Appeal of the uploaded videos (Beta across videos).",
    )
    topic_mix: dict[str, NonNegativeFloat] | None = Field(
        None,
        description="Weights of the creators' topics (topic -> weight >= 0), which users' tastes follow too (their"
        " mean interests = the mix); unset: uniform over population.topics.",
    )

    def videos(self, horizon_h: float) -> int:
        """Number of uploads over ``horizon_h`` hours."""
        return int(round(min(self.uploads_per_day * horizon_h / 24.0, 1e12)))
