"""The platform table: moderation, recognition, the staged push, and the feeds (Following, shares).

Frozen pydantic models (see :mod:`viralsim.scenario.tables` for the base and
the conventions). Moderation and recognition live in
:mod:`viralsim.scenario.moderation`, the push and its KPI gate in
:mod:`viralsim.scenario.push` (re-exported here); this module holds the feeds
and the :class:`Platform` that gathers them. It only describes: no checks
across tables, no IO.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from viralsim.scenario.moderation import Moderation, Recognition, ReviewTime
from viralsim.scenario.push import KPI_NAMES, Push, ScoreWeights, Thresholds
from viralsim.scenario.tables import PositiveFloat, Probability, _Strict

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


class Following(_Strict):
    """The creator's followers see the video in their Following feed."""

    watch_probability: Probability = Field(
        0.35,
        description="Probability that a follower watches the video at their next session (Following feed, in"
        " [0, 1], typical 0.1-0.5). With creator.followers it sets the views of the creator's own audience.",
    )
    freshness_half_life_h: PositiveFloat | None = Field(
        None,
        description="Half-life of a post in a newest-first Following feed, in hours: a follower whose next session"
        " comes w hours after the upload still finds it with probability 2 ** (-w / half-life). Unset: it waits"
        " on top forever.",
    )


class Sharing(_Strict):
    """Shares: a sharer sends the video to contacts, who may open it."""

    recipients_per_share: Annotated[int, Field(ge=1)] | Literal["all"] = Field(
        3,
        description='Contacts each share is sent to (count >= 1, drawn from the sharer\'s contacts) or "all" of'
        " them. Shares per view x recipients x open_probability is the cascade's reproduction number: above 1 it"
        " can go viral by sharing alone.",
    )
    open_probability: Probability = Field(
        0.5,
        description="Probability that a recipient opens a shared video (in [0, 1], typical 0.2-0.6); an opened"
        " share is always watched.",
    )


class Platform(_Strict):
    """The platform's four steps: moderation, recognition, push, and its feeds."""

    moderation: Moderation = Field(
        Moderation(),
        description="The classifier and the human review queue every upload passes before it is shown.",
    )
    recognition: Recognition = Field(
        Recognition(),
        description="How the platform recognises the video's topic, which picks the users the push ranks first.",
    )
    push: Push = Field(
        Push(),
        description="The staged push to the For You feed: cohorts, pacing and the KPI gate between stages.",
    )
    following: Following = Field(
        Following(),
        description="How the creator's followers see the video in their Following feed.",
    )
    sharing: Sharing = Field(
        Sharing(),
        description="How a share reaches the sharer's contacts (the social side of the spread).",
    )
