"""The platform's checks before the push: moderation (classifier and human queue) and topic recognition.

Frozen pydantic models (see :mod:`viralsim.scenario.tables` for the base and
the conventions); :mod:`viralsim.model.platform` draws from them and
:mod:`viralsim.engines.moderation` runs the human queue. This module only
describes: no checks across tables, no IO.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from viralsim.scenario.tables import NonNegativeFloat, PositiveFloat, Probability, _Strict

__all__ = ["Moderation", "Recognition", "ReviewTime"]


class ReviewTime(_Strict):
    """Time a human moderator takes for one review, in minutes."""

    distribution: Literal["exponential", "lognormal", "fixed"] = Field(
        "lognormal",
        description='Shape of one review\'s duration: "lognormal" (right-skewed, see sigma), "exponential" or'
        ' "fixed" (always the mean).',
    )
    mean: PositiveFloat = Field(
        3.0,
        description="Mean minutes a moderator takes for one review (typical 1-10). With moderators and"
        " background_reviews_per_h it sets how long a doubtful video waits before it is published.",
    )
    sigma: NonNegativeFloat = Field(
        0.5,
        description="For lognormal review times: sigma of log(review time) (0 = every review takes the mean,"
        " typical 0.3-1).",
    )


class Moderation(_Strict):
    """Classifier thresholds and the human moderation queue."""

    auto_approve_below: Probability = Field(
        0.2,
        description="Classifier score below which an upload is published at once (in [0, 1], at most"
        " auto_remove_above). Scores between the two thresholds wait for a human review.",
    )
    auto_remove_above: Probability = Field(
        0.9,
        description="Classifier score above which an upload is removed at once, without a human (in [0, 1]). A clean"
        " video scored above it is wrongly removed: the run stops with removed_by_moderation and no views.",
    )
    score_mean_clean: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.08,
        description="Mean classifier score of clean uploads (in (0, 1)); scores are Beta with this mean and"
        " score_concentration. The nearer auto_approve_below, the more clean videos wait for a human.",
    )
    score_mean_violating: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.85,
        description="Mean classifier score of violating uploads (video.violation = true), in (0, 1); below"
        " auto_remove_above many of them go to the human queue instead of being removed at once.",
    )
    score_concentration: PositiveFloat = Field(
        12.0,
        description="Concentration (a + b) of the Beta-distributed classifier scores (> 0, typical 5-50): higher"
        " keeps scores near their means, so fewer uploads land in the doubtful band between the thresholds.",
    )
    moderators: Annotated[int, Field(ge=1)] = Field(
        4,
        description="Human moderators working the review queue in parallel (count >= 1). Fewer of them, or more"
        " background reviews, lengthen the wait of a doubtful video (the moderation delay).",
    )
    review_time_min: ReviewTime = Field(
        ReviewTime(),
        description="Minutes a moderator takes for one review (distribution, mean, sigma).",
    )
    human_accuracy: Probability = Field(
        0.97,
        description="Probability that a human review reaches the right decision (in [0, 1], typical 0.9-0.99); a"
        " wrong one removes a clean video or publishes a violating one.",
    )
    background_reviews_per_h: NonNegativeFloat = Field(
        40.0,
        description="Other doubtful uploads reaching the human queue per hour (>= 0). They compete for moderators:"
        " above moderators x 60 / review mean (80 an hour by default) the queue grows without bound.",
    )
    background_warmup_h: NonNegativeFloat | None = Field(
        None,
        description="Hours before the upload at which the other uploads start arriving (a queue that has been"
        " filling that long); unset: from t = 0. They stop once the video's review is done.",
    )
    publish_unreviewed_after_h: PositiveFloat | None = Field(
        None,
        description="Hours after the upload after which a doubtful upload still waiting for a moderator is published"
        " anyway; its review goes on and a removal then takes it down (earlier views stay counted). Unset: it"
        " waits for its review. Core engine only.",
    )


class Recognition(_Strict):
    """Topic recognition: correct with ``accuracy``, else a confused topic."""

    accuracy: Probability = Field(
        0.95,
        description="Probability that the platform recognises the video's main topic (in [0, 1], typical 0.8-0.99)."
        " A wrong topic sends the push to users interested in another topic: the first cohort's KPIs collapse and"
        " the push usually stops at stage 1.",
    )
    confusion: dict[str, dict[str, NonNegativeFloat]] | None = Field(
        None,
        description="Where a wrong recognition goes: true topic -> {recognised topic: probability} (each row sums to"
        " 1); unset: any other topic, uniformly.",
    )
