"""The video table and the viewers' behaviour: what is uploaded and how a viewer reacts to it.

Frozen pydantic models (see :mod:`viralsim.scenario.tables` for the base and
the conventions); :mod:`viralsim.model.behaviour` turns them into watch times
and actions. Several behaviour fields are hidden levers of the completion KPI
(``watch_concentration``, ``duration_elasticity``, ``completion_at_fraction``):
their descriptions say how they act. This module only describes: no checks
across tables, no IO.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from viralsim.scenario.tables import NonNegativeFloat, PositiveFloat, Probability, _Strict

__all__ = ["Behaviour", "Video"]


class Video(_Strict):
    """The uploaded video: what it is about and how good it is."""

    topic: str | None = Field(
        None,
        description="The video's true topic, one of population.topics (set this or topic_mix). Viewers' interest in"
        " it drives their engagement; the platform's recognition may mistake it (see platform.recognition).",
    )
    topic_mix: dict[str, NonNegativeFloat] | None = Field(
        None,
        description="The video's true topics as weights (topic -> weight >= 0, normalised to sum 1), instead of"
        " topic. Its main topic (largest weight) is what recognition tries to find.",
    )
    duration_s: PositiveFloat = Field(
        15.0,
        description="Length of the video in seconds (> 0, typical 7-60). Above behaviour.reference_duration_s the"
        " mean watch fraction is cut by (reference / duration) ** behaviour.duration_elasticity, and completion more:"
        " with the defaults and watch_concentration 2 a 30 s video completes about half as often as a 15 s one.",
    )
    appeal: Probability = Field(
        0.6,
        description="Latent quality in [0, 1] (typical 0.3-0.9): how much a viewer fully interested in the topic"
        " enjoys the video; engagement = appeal x (interest_floor + (1 - interest_floor) x interest). The main"
        " lever of every KPI: watch fraction, completion and every action rate rise with it.",
    )
    originality: Probability = Field(
        1.0,
        description="Originality in [0, 1]: 1 = an original video; lower = a re-upload viewers have seen before,"
        " whose engagement is multiplied by 1 - behaviour.novelty_weight x (1 - originality), lowering every KPI.",
    )
    violation: bool = Field(
        False,
        description="Whether the video breaks the platform's rules: its classifier score is drawn around"
        " moderation.score_mean_violating instead of score_mean_clean, so it is most likely removed before any view.",
    )
    trend_boost: NonNegativeFloat = Field(
        0.0,
        description="Extra engagement from riding a trend (>= 0; 0.2 = engagement x 1.2, capped at 1): raises watch"
        " fraction, completion and action rates of every viewer.",
    )
    upload_h: NonNegativeFloat = Field(
        18.0,
        description="Upload time in hours after t = 0 (Monday 00:00 UTC; 18 = Monday 18:00 UTC). With the diurnal"
        " profile and time zones it decides whether the first cohorts watch within minutes or the next morning.",
    )

    def mix(self) -> dict[str, float]:
        """The true topic mixture, normalised to sum 1 (``topic`` alone is a mixture of one)."""
        raw = self.topic_mix if self.topic_mix is not None else {self.topic or "": 1.0}
        total = sum(raw.values())
        return {k: v / total for k, v in raw.items()}

    def main_topic(self) -> str:
        """The topic with the largest weight: what recognition tries to find."""
        mix = self.mix()
        return max(mix, key=lambda t: mix[t])


class Behaviour(_Strict):
    """How a viewer reacts, as a function of interest and appeal.

    Engagement ``e = appeal x (interest_floor + (1 - interest_floor) x interest)``,
    scaled by originality and trend; watch fraction ~ Beta with mean rising
    with ``e``; action probability = ``p_* x propensity x (e / 0.5) ** engagement_elasticity``.
    """

    interest_floor: Probability = Field(
        0.1,
        description="Share of the appeal a viewer with no interest in the topic still gets (in [0, 1], typical"
        " 0-0.4). Higher floors keep the KPIs of the later, less interested cohorts up, so the push goes further.",
    )
    watch_fraction_min: Probability = Field(
        0.1,
        description="Mean watch fraction (share of the video watched) at engagement 0, before the duration factor"
        " (in [0, 1], typical 0.05-0.2).",
    )
    watch_fraction_max: Probability = Field(
        0.95,
        description="Mean watch fraction at engagement 1, before the duration factor (in [0, 1], typical 0.8-0.95);"
        " the mean rises linearly from watch_fraction_min to this with engagement.",
    )
    watch_concentration: PositiveFloat = Field(
        4.0,
        description="Hidden lever of completion: the concentration k of the Beta(mu k, (1 - mu) k) spread of watch"
        " fractions around their mean mu. Low k (1-2) gives short videos' U-shaped retention (many swipe away, many"
        " watch to the end); high k bunches viewers near the mean so few complete. At mean 0.6 completion is 18 %"
        " with k = 2 and 8 % with k = 4; every bundled scenario but creator_marketplace sets 2.",
    )
    completion_at_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.9,
        description="Watch fraction from which a view counts as completed (in (0, 1], platforms use 0.9-1). Raising"
        " it lowers the completion KPI that the push gate checks.",
    )
    reference_duration_s: PositiveFloat = Field(
        15.0,
        description="Duration in seconds up to which length costs no watching; a longer video's mean watch fraction"
        " is multiplied by (reference_duration_s / duration_s) ** duration_elasticity.",
    )
    duration_elasticity: NonNegativeFloat = Field(
        0.3,
        description="Hidden lever of completion: how fast longer videos lose watch fraction (>= 0; 0 = length does"
        " not matter, typical 0.2-0.6). At 0.3 a 30 s video keeps 81 % and a 60 s one 66 % of a 15 s video's mean"
        " watch fraction; with watch_concentration 2 the 30 s video completes about half as often.",
    )
    novelty_weight: Probability = Field(
        0.5,
        description="How much a seen-before video loses (in [0, 1]): engagement x (1 - novelty_weight x (1 -"
        " video.originality)); 0 = originality does not matter.",
    )
    engagement_elasticity: NonNegativeFloat = Field(
        2.0,
        description="How steeply action probabilities rise with engagement e (>= 0, typical 1-3): p = p_* x"
        " propensity x (e / 0.5) ** elasticity. At 2 a viewer at e = 0.8 likes 2.6 times as often as one at 0.5,"
        " so like, share and follow rates fall faster over the later, less interested cohorts.",
    )
    p_like: Probability = Field(
        0.06,
        description="Probability that an average viewer at engagement 0.5 likes the video (per view, typical"
        " 0.03-0.10): the like KPI of the gate and the likes count.",
    )
    p_comment: Probability = Field(
        0.006,
        description="Probability that an average viewer at engagement 0.5 comments (per view, typical 0.001-0.01):"
        " the comment KPI.",
    )
    p_share: Probability = Field(
        0.0004,
        description="Probability that an average viewer at engagement 0.5 shares the video (per view, typical"
        " 0.0001-0.005). The lever of the social cascade: each share goes to sharing.recipients_per_share contacts,"
        " so it sets structural virality and the share of views by shares.",
    )
    p_follow: Probability = Field(
        0.004,
        description="Probability that an average viewer at engagement 0.5 follows the creator (per view, typical"
        " 0.001-0.01): the follow KPI and the follows count.",
    )
    p_profile_click: Probability = Field(
        0.02,
        description="Probability that an average viewer at engagement 0.5 opens the creator's profile (per view,"
        " typical 0.01-0.05): the profile_click KPI.",
    )
