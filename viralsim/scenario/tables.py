"""The scenario's world tables: population, social graph, creator, video and viewer behaviour.

Each table is a frozen pydantic model that forbids unknown keys (:class:`_Strict`);
units are in field names (``*_h`` hours, ``*_s`` seconds) and probabilities are
in [0, 1]. The size limits the schema and the population builder share live here
too. This module only describes: no checks across tables (see
:mod:`viralsim.scenario.checks`), no memory model, no IO.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "AUTO_MATERIALISED_USERS",
    "DEFAULT_DIURNAL",
    "MAX_MATERIALISED_USERS",
    "MAX_STAGES",
    "MAX_USERS",
    "Behaviour",
    "Creator",
    "NonNegativeFloat",
    "Population",
    "PositiveFloat",
    "Probability",
    "Sessions",
    "SocialGraph",
    "Video",
    "representation",
]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]
#: Largest population the schema accepts (TikTok has about 1.5e9 users).
MAX_USERS = 2_000_000_000
#: Largest population the engine materialises (arrays of one entry per user, ~4 T + 26 bytes);
#: ``viralsim.model.population`` builds them up to this limit and no further.
MAX_MATERIALISED_USERS = 100_000_000
#: ``representation = "auto"`` materialises populations up to this size, above it users
#: exist only once reached.
AUTO_MATERIALISED_USERS = 50_000
#: Most stages a push may have (``max_stages`` and the length of ``cohorts``).
MAX_STAGES = 50

#: A typical diurnal activity profile: relative session intensity per local hour.
DEFAULT_DIURNAL = (
    0.35,
    0.2,
    0.12,
    0.08,
    0.08,
    0.15,
    0.4,
    0.7,
    0.8,
    0.8,
    0.85,
    0.9,
    1.0,
    0.95,
    0.9,
    0.9,
    1.0,
    1.1,
    1.3,
    1.5,
    1.6,
    1.5,
    1.2,
    0.7,
)


class _Strict(BaseModel):
    """Base of every scenario model: frozen, strict types, unknown keys, inf and nan refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Sessions(_Strict):
    """App sessions per user per day: log-normal across users (heavy-tailed)."""

    median: PositiveFloat = 4.0
    spread: NonNegativeFloat = 1.0  #: sigma of log(sessions per day)


class Population(_Strict):
    """Who is on the platform: size, topics, activity and propensities."""

    users: Annotated[int, Field(ge=1, le=MAX_USERS)] = 100_000
    topics: Annotated[list[str], Field(min_length=1)] = ["animals", "comedy", "sport"]
    #: Dirichlet alpha of each user's interests: lower means narrower tastes.
    interest_concentration: PositiveFloat = 0.3
    sessions_per_day: Sessions = Sessions()
    #: Relative session intensity for each of the 24 local hours.
    diurnal_profile: Annotated[list[NonNegativeFloat], Field(min_length=24, max_length=24)] = list(DEFAULT_DIURNAL)
    #: Time-zone offsets of the population (hours from UTC) and their weights.
    timezone_offsets_h: Annotated[list[float], Field(min_length=1)] = [0.0]
    timezone_weights: list[NonNegativeFloat] | None = None
    #: sigma of each user's log-normal multiplier (mean 1) on every action probability.
    propensity_spread: NonNegativeFloat = 0.5
    #: How users are held: ``"implicit"`` (a user exists only once reached: memory follows the
    #: users a run reaches, up to 2e9 users), ``"materialised"`` (every user's interests and
    #: activity drawn up front, ~4 T + 26 bytes a user), or ``"auto"`` (materialised up to
    #: 50 000 users, implicit above). Both give the same distribution of results.
    representation: Literal["auto", "materialised", "implicit"] = "auto"

    @field_validator("topics")
    @classmethod
    def _unique_topics(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("topics must be unique")
        return v

    @field_validator("diurnal_profile")
    @classmethod
    def _some_activity(cls, v: list[float]) -> list[float]:
        if sum(v) <= 0:
            raise ValueError("at least one hour must have activity > 0")
        return v


class SocialGraph(_Strict):
    """Who follows whom. Edges point the way content flows (creator -> follower).

    ``random_powerlaw`` is sampled on demand (annealed) and never builds edges;
    the other generators build a CSR graph from arrays; ``edge_list`` loads a
    file of ``source target`` pairs (read by the io layer, relative to the
    scenario file).
    """

    kind: Literal["random_powerlaw", "erdos_renyi", "small_world", "barabasi_albert", "edge_list"] = "random_powerlaw"
    #: Mean number of contacts who receive what a user shares.
    mean_following: PositiveFloat = 150.0
    #: Exponent of the power-law contact distribution (random_powerlaw).
    degree_exponent: Annotated[float, Field(gt=2.0)] = 2.5
    #: Rewiring probability (small_world).
    rewire_probability: Probability = 0.1
    #: Path of the edge list (edge_list), relative to the scenario file.
    path: str | None = None


class Creator(_Strict):
    """The uploading account."""

    followers: Annotated[int, Field(ge=0)] = 200
    #: Node id of the creator in an ``edge_list`` graph (its out-edges are its followers).
    user: Annotated[int, Field(ge=0)] | None = None
    #: What a campaign pays the creator for this video, in currency units (``fee_currency``);
    #: gives the summary's ``cost_per_engaged_view``. None: no paid campaign.
    fee: NonNegativeFloat | None = None
    #: Label of the fee's currency (e.g. "USD"); informative only.
    fee_currency: Annotated[str, Field(min_length=1, max_length=16)] | None = None


class Video(_Strict):
    """The uploaded video: what it is about and how good it is."""

    #: True topic (one of population.topics) ...
    topic: str | None = None
    #: ... or a topic mixture (weights, normalised to sum 1).
    topic_mix: dict[str, NonNegativeFloat] | None = None
    duration_s: PositiveFloat = 15.0
    #: Latent quality in [0, 1]: how much a viewer who likes the topic enjoys it.
    appeal: Probability = 0.6
    #: 1 = unique; lower values are re-uploads viewers have seen before.
    originality: Probability = 1.0
    #: Illegal or policy-violating content.
    violation: bool = False
    #: Extra engagement from riding a trend (0 = none; 0.2 = +20 %, capped at 1).
    trend_boost: NonNegativeFloat = 0.0
    #: Upload time, hours after t = 0 (Monday 00:00 UTC).
    upload_h: NonNegativeFloat = 18.0

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

    interest_floor: Probability = 0.1
    watch_fraction_min: Probability = 0.1
    watch_fraction_max: Probability = 0.95
    watch_concentration: PositiveFloat = 4.0
    #: A view counts as completed from this watch fraction.
    completion_at_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = 0.9
    #: Longer videos are watched less: mean watch fraction x (ref / duration) ** elasticity.
    reference_duration_s: PositiveFloat = 15.0
    duration_elasticity: NonNegativeFloat = 0.3
    #: How much a seen-before (unoriginal) video loses: e x (1 - weight x (1 - originality)).
    novelty_weight: Probability = 0.5
    engagement_elasticity: NonNegativeFloat = 2.0
    #: Action probabilities per view for an average user at engagement 0.5.
    p_like: Probability = 0.06
    p_comment: Probability = 0.006
    p_share: Probability = 0.0004
    p_follow: Probability = 0.004
    p_profile_click: Probability = 0.02


def representation(population: Population) -> Literal["materialised", "implicit"]:
    """How a population is held: its ``representation``, with ``"auto"`` decided by size."""
    if population.representation != "auto":
        return population.representation
    return "materialised" if population.users <= AUTO_MATERIALISED_USERS else "implicit"
