"""The platform tables: moderation, recognition, the staged push and its KPI gate, the feeds.

Frozen pydantic models (see :mod:`viralsim.scenario.tables` for the base and
the conventions). This module only describes: no checks across tables, no IO.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from viralsim.scenario.tables import (
    MAX_STAGES,
    MAX_USERS,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    _Strict,
)

__all__ = [
    "KPI_NAMES",
    "Following",
    "Moderation",
    "Platform",
    "Push",
    "Recognition",
    "ReviewTime",
    "ScoreWeights",
    "Sharing",
    "Thresholds",
]

#: The KPIs the push gate can use, in the order they are reported.
KPI_NAMES = (
    "completion",
    "watch_fraction",
    "like",
    "comment",
    "share",
    "follow",
    "profile_click",
)


class ReviewTime(_Strict):
    """Time a human moderator takes for one review, in minutes."""

    distribution: Literal["exponential", "lognormal", "fixed"] = "lognormal"
    mean: PositiveFloat = 3.0
    #: sigma of log(review time) for the log-normal.
    sigma: NonNegativeFloat = 0.5


class Moderation(_Strict):
    """Classifier thresholds and the human moderation queue."""

    auto_approve_below: Probability = 0.2
    auto_remove_above: Probability = 0.9
    #: Mean classifier score of clean and of violating uploads (Beta-distributed).
    score_mean_clean: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.08
    score_mean_violating: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.85
    score_concentration: PositiveFloat = 12.0
    moderators: Annotated[int, Field(ge=1)] = 4
    review_time_min: ReviewTime = ReviewTime()
    #: Probability that a human review reaches the right decision.
    human_accuracy: Probability = 0.97
    #: Other uploads reaching the human queue per hour (they compete for moderators).
    background_reviews_per_h: NonNegativeFloat = 40.0
    #: Hours before the upload at which those other uploads start arriving (a queue that has
    #: been filling that long); None: from t = 0. They stop once the video's review is done.
    background_warmup_h: NonNegativeFloat | None = None
    #: A doubtful upload still waiting for a moderator this many hours after the upload is
    #: published anyway; its review goes on, and a removal then takes the video down (views
    #: before it stay counted). None: it waits for its review.
    publish_unreviewed_after_h: PositiveFloat | None = None


class Recognition(_Strict):
    """Topic recognition: correct with ``accuracy``, else a confused topic."""

    accuracy: Probability = 0.95
    #: Optional confusion rows: true topic -> {recognised topic: probability}.
    confusion: dict[str, dict[str, NonNegativeFloat]] | None = None


class Thresholds(_Strict):
    """KPI thresholds of the push gate (rates per view); unset KPIs are not checked."""

    completion: Probability | None = None
    watch_fraction: Probability | None = None
    like: Probability | None = None
    comment: Probability | None = None
    share: Probability | None = None
    follow: Probability | None = None
    profile_click: Probability | None = None
    score: NonNegativeFloat | None = None


class ScoreWeights(_Strict):
    """Weights of the composite score: sum of weight x rate (Douyin, TikTok Algo 101)."""

    completion: NonNegativeFloat = 1.0
    watch_fraction: NonNegativeFloat = 1.0
    like: NonNegativeFloat = 10.0
    comment: NonNegativeFloat = 20.0
    share: NonNegativeFloat = 50.0
    follow: NonNegativeFloat = 30.0
    profile_click: NonNegativeFloat = 5.0


class Push(_Strict):
    """The staged push (traffic pool): cohorts, pacing, and the KPI gate."""

    mode: Literal["content", "social", "hybrid"] = "hybrid"
    #: Cohort sizes per stage (strictly increasing) ...
    cohorts: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=MAX_STAGES)] | None = None
    #: ... or a first cohort, a growth factor and a number of stages.
    first_cohort: Annotated[int, Field(ge=1)] = 200
    growth: Annotated[float, Field(gt=1.0)] = 5.0
    max_stages: Annotated[int, Field(ge=1, le=MAX_STAGES)] = 7
    #: Users delivered at once; a larger cohort is delivered in batches.
    delivery_batch: Annotated[int, Field(ge=1)] = 20_000
    batch_interval_h: NonNegativeFloat = 0.5
    #: Probability that a delivered video is watched at all (crowded feeds).
    watch_probability: Probability = 0.85
    #: A stage is evaluated once this fraction of its cohort has watched ...
    evaluate_after_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.6
    #: ... or this long after its last delivery, whichever comes first.
    eval_window_h: PositiveFloat = 24.0
    #: Views a stage needs before a mid-stage check may stop the push.
    min_views_to_evaluate: Annotated[int, Field(ge=1)] = 100
    thresholds: Thresholds = Thresholds(completion=0.3)
    #: Per-stage overrides of ``thresholds`` (entry i applies to stage i + 1).
    stage_thresholds: list[Thresholds] | None = None
    score_weights: ScoreWeights = ScoreWeights()
    #: A human review is required after passing this stage (1-based), if set.
    human_review_after_stage: Annotated[int, Field(ge=1)] | None = None

    @field_validator("cohorts")
    @classmethod
    def _increasing(cls, v: list[int] | None) -> list[int] | None:
        if v is not None:
            for a, b in zip(v, v[1:], strict=False):
                if b <= a:
                    raise ValueError(f"cohort sizes must increase, got {a} then {b}")
        return v

    def cohort_sizes(self) -> list[int]:
        """Cohort size of every stage, from ``cohorts`` or the growth rule (capped at MAX_USERS)."""
        if self.cohorts is not None:
            return list(self.cohorts)
        sizes: list[int] = []
        for i in range(self.max_stages):
            try:  # growth may be huge or inf: round(inf) and 1e200**2 raise OverflowError
                size = min(self.first_cohort * self.growth**i, MAX_USERS)
            except OverflowError:
                size = MAX_USERS
            sizes.append(round(size))
        return sizes

    def thresholds_for(self, stage: int) -> Thresholds:
        """Thresholds of ``stage`` (1-based): the base table with its override applied."""
        if self.stage_thresholds is None or stage > len(self.stage_thresholds):
            return self.thresholds
        override = self.stage_thresholds[stage - 1].model_dump(exclude_none=True)
        return self.thresholds.model_copy(update=override)


class Following(_Strict):
    """The creator's followers see the video in their Following feed."""

    watch_probability: Probability = 0.35
    #: Half-life of a post in a newest-first Following feed, in hours: a follower whose next
    #: session comes ``w`` hours after the upload still finds the post (before newer posts bury
    #: it) with probability ``2 ** (-w / freshness_half_life_h)``. None: it waits on top forever.
    freshness_half_life_h: PositiveFloat | None = None


class Sharing(_Strict):
    """Shares: a sharer sends the video to contacts, who may open it."""

    #: Contacts per share (sampled from the sharer's contacts), or "all" contacts.
    recipients_per_share: Annotated[int, Field(ge=1)] | Literal["all"] = 3
    open_probability: Probability = 0.5


class Platform(_Strict):
    """The platform's four steps: moderation, recognition, push, and its feeds."""

    moderation: Moderation = Moderation()
    recognition: Recognition = Recognition()
    push: Push = Push()
    following: Following = Following()
    sharing: Sharing = Sharing()
