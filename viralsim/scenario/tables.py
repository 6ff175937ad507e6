"""The scenario's world tables: population, social graph and creator; the base every table shares.

Each table is a frozen pydantic model that forbids unknown keys (:class:`_Strict`);
units are in field names (``*_h`` hours, ``*_s`` seconds) and probabilities are
in [0, 1]. Every field carries a ``description`` (what it means, its unit, a
typical range, what it moves) that reaches the JSON Schema and ``viralsim
explain``. The size limits the schema and the population builder share live
here too; the video and the viewers' behaviour are in
:mod:`viralsim.scenario.video`. This module only describes: no checks across
tables (see :mod:`viralsim.scenario.checks`), no memory model, no IO.
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
    "Creator",
    "NonNegativeFloat",
    "Population",
    "PositiveFloat",
    "Probability",
    "Sessions",
    "SocialGraph",
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

    median: PositiveFloat = Field(
        4.0,
        description="Median app sessions a user opens per day (sessions/day, typical 2-10). A delivered video waits"
        " for the user's next session, so fewer sessions spread a stage's views over more hours and delay its gate.",
    )
    spread: NonNegativeFloat = Field(
        1.0,
        description="Sigma of log(sessions per day) across users (0 = everyone alike, typical 0.5-1.5). A wide"
        " spread mixes very active users with rare ones whose views trickle in days after a stage was evaluated.",
    )


class Population(_Strict):
    """Who is on the platform: size, topics, activity and propensities."""

    users: Annotated[int, Field(ge=1, le=MAX_USERS)] = Field(
        100_000,
        description="Users on the platform (count, 1e3 to 1.5e9). Caps how far the push can go (a stage larger than"
        " the users left ends the run with population_exhausted); in a larger population the first cohorts are"
        " drawn from further up the tail of interest, so early KPIs are higher.",
    )
    topics: Annotated[list[str], Field(min_length=1)] = Field(
        ["animals", "comedy", "sport"],
        description="The platform's topic names (unique, at least one); video.topic and every interest refer to them."
        " More topics spread each user's interest thinner (mean interest in one topic = 1 / number of topics).",
    )
    interest_concentration: PositiveFloat = Field(
        0.3,
        description="Dirichlet alpha of each user's interests over topics (> 0, typical 0.1-1). Low values give"
        " narrow tastes (a few fans of a topic, most users indifferent): the first push cohorts are very interested"
        " and the later ones much less, so KPIs fall faster from stage to stage.",
    )
    sessions_per_day: Sessions = Field(
        Sessions(),
        description="App sessions per user per day (log-normal across users): how soon delivered users watch.",
    )
    diurnal_profile: Annotated[list[NonNegativeFloat], Field(min_length=24, max_length=24)] = Field(
        list(DEFAULT_DIURNAL),
        description="Relative session intensity of each of the 24 local hours (normalised to mean 1; the default"
        " peaks at 20:00). With video.upload_h it decides whether the first cohorts watch within minutes or overnight.",
    )
    timezone_offsets_h: Annotated[list[float], Field(min_length=1)] = Field(
        [0.0],
        description="Time-zone offsets of the users in hours from UTC (e.g. [-5, 0, 1]), each user getting one"
        " (see timezone_weights). Several offsets flatten the diurnal rhythm of the views.",
    )
    timezone_weights: list[NonNegativeFloat] | None = Field(
        None,
        description="Share of users in each of timezone_offsets_h (one weight >= 0 per offset, normalised);"
        " unset: equal shares.",
    )
    propensity_spread: NonNegativeFloat = Field(
        0.5,
        description="Sigma of each user's log-normal multiplier (mean 1) on every action probability (0 = all users"
        " alike, typical 0.3-1). A wider spread puts likes and shares on fewer, keener users; the mean rate barely"
        " moves (probabilities are capped at 1).",
    )
    representation: Literal["auto", "materialised", "implicit"] = Field(
        "auto",
        description='How users are held: "implicit" (a user exists only once reached: memory follows the users a'
        ' run reaches, up to 2e9 users), "materialised" (every user drawn up front, ~4 T + 26 bytes a user for T'
        ' topics) or "auto" (materialised up to 50 000 users, implicit above). Both give the same distribution of'
        " results.",
    )

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

    kind: Literal["random_powerlaw", "erdos_renyi", "small_world", "barabasi_albert", "edge_list"] = Field(
        "random_powerlaw",
        description='How the social graph is made: "random_powerlaw" (sampled on demand, any size),'
        ' "erdos_renyi", "small_world" (a rewired ring), "barabasi_albert" (networkx, up to 200 000 users) or'
        ' "edge_list" (a file, see path). It moves only the social side: who receives shares and who follows.',
    )
    mean_following: PositiveFloat = Field(
        150.0,
        description="Mean contacts per user (count, typical 20-300): the mean degree of the generated graphs and"
        ' how many users a share reaches with recipients_per_share = "all". Moves the share cascade, not the push.',
    )
    degree_exponent: Annotated[float, Field(gt=2.0)] = Field(
        2.5,
        description="For random_powerlaw graphs: exponent of the power-law contact counts (> 2, typical 2.1-3)."
        " Nearer 2 gives a heavier tail of users with huge contact lists, who carry cascades far with"
        ' recipients "all".',
    )
    rewire_probability: Probability = Field(
        0.1,
        description="For small_world graphs: probability that a ring edge is rewired to a random user (0 = a"
        " lattice whose cascades stay local, 1 = random; typical 0.01-0.2). Shortcuts let shares reach new parts"
        " of the graph.",
    )
    path: str | None = Field(
        None,
        description='For edge_list graphs: a text file of "source target" pairs (content flows source -> target,'
        " 0-based node ids), relative to the scenario file.",
    )


class Creator(_Strict):
    """The uploading account."""

    followers: Annotated[int, Field(ge=0)] = Field(
        200,
        description="The creator's followers (count, below population.users): they get the video in their Following"
        " feed at publication (see platform.following). They are random users, so a large following also takes"
        " users the push would have ranked first.",
    )
    user: Annotated[int, Field(ge=0)] | None = Field(
        None,
        description="For edge_list graphs: the creator's node id in the graph file (0-based, below population.users);"
        " its out-edges are its followers.",
    )
    fee: NonNegativeFloat | None = Field(
        None,
        description="What a campaign pays the creator for this video, in fee_currency units (>= 0); gives the"
        " summary's cost_per_engaged_view. Unset: no paid campaign. It does not change how the video spreads.",
    )
    fee_currency: Annotated[str, Field(min_length=1, max_length=16)] | None = Field(
        None,
        description='Label of the fee\'s currency (e.g. "USD", 1-16 characters), shown beside cost figures;'
        " informative only.",
    )


def representation(population: Population) -> Literal["materialised", "implicit"]:
    """How a population is held: its ``representation``, with ``"auto"`` decided by size."""
    if population.representation != "auto":
        return population.representation
    return "materialised" if population.users <= AUTO_MATERIALISED_USERS else "implicit"
