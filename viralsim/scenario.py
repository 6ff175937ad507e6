"""Scenario: the frozen, validated description of one simulated world.

A scenario is *described* here and *run* by :mod:`viralsim.engines` (the Ciw
split). Every model is frozen and forbids unknown keys; units are in field
names (``*_h`` hours, ``*_s`` seconds, ``*_min`` minutes); probabilities are
in [0, 1]. Checks that span several fields (a topic that must be one of the
population's topics, a first cohort larger than the population, ...) live in
:func:`problems`, which returns ``(location, message)`` pairs so that the io
layer can point at the exact TOML line. This module does no file IO.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "KPI_NAMES",
    "Agents",
    "AppealDistribution",
    "AttentionBudget",
    "FollowerCounts",
    "Marketplace",
    "Behaviour",
    "Creator",
    "CrossPost",
    "Following",
    "Moderation",
    "Platform",
    "Population",
    "Push",
    "Recognition",
    "ReviewTime",
    "Scenario",
    "ScoreWeights",
    "Sessions",
    "Sharing",
    "SocialGraph",
    "Thresholds",
    "Video",
    "agent_memory_estimate",
    "apply_variant",
    "format_bytes",
    "machine_memory",
    "memory_estimate",
    "memory_parts",
    "merge_tables",
    "problems",
]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegativeFloat = Annotated[float, Field(ge=0.0)]

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


class Platform(_Strict):
    """The platform's four steps: moderation, recognition, push, and its feeds."""

    moderation: Moderation = Moderation()
    recognition: Recognition = Recognition()
    push: Push = Push()
    following: Following = Following()
    sharing: Sharing = Sharing()


class CrossPost(_Strict):
    """Post the video again on a second platform, if it did well on the first.

    The second platform has its own users (a population drawn like the first's,
    from its own random streams), its own social graph from the same generator,
    the creator's ``followers`` there, and its own ``platform`` table. The same
    video (appeal, topic, behaviour) goes up there ``after_h`` hours after the
    first upload, if by then it had at least ``if_views_at_least`` views.
    """

    #: Hours after the first upload at which its views are counted and the video cross-posted.
    after_h: PositiveFloat = 48.0
    #: Views on the first platform (by ``after_h``) the video needs to be cross-posted (0: always).
    if_views_at_least: Annotated[int, Field(ge=0)] = 0
    #: The creator's followers on the second platform.
    followers: Annotated[int, Field(ge=0)] = 200
    #: The second platform: moderation, recognition, push (or none: mode = "social"), feeds.
    platform: Platform = Platform()


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


class Scenario(_Strict):
    """One simulated world: population, graph, creator, video, platform, behaviour."""

    name: Annotated[str, Field(min_length=1)] = "scenario"
    description: str = ""
    horizon_h: PositiveFloat = 168.0
    seed: Annotated[int, Field(ge=0)] = 1
    population: Population = Population()
    social_graph: SocialGraph = SocialGraph()
    creator: Creator = Creator()
    video: Video = Video()
    platform: Platform = Platform()
    behaviour: Behaviour = Behaviour()
    #: A second platform the video is cross-posted to if it did well (None: one platform).
    cross_post: CrossPost | None = None
    #: ``"core"``: one video followed in vectorised batches; ``"agents"``: every user a SimPy
    #: process with sessions and a feed (see viralsim.engines.agents).
    engine: Literal["core", "agents"] = "core"
    #: The agent engine's user behaviour (used when engine = "agents").
    agents: Agents = Agents()
    #: Many competing creators and videos (engine = "agents"); None: the scenario's one video.
    marketplace: Marketplace | None = None
    #: Named variants: tables overriding any field of the base scenario.
    variants: dict[str, dict[str, Any]] = {}

    def variant(self, name: str | None) -> Scenario:
        """The scenario with variant ``name`` applied (``None``: the base itself)."""
        if name is None:
            return self
        if name not in self.variants:
            known = ", ".join(sorted(self.variants)) or "none"
            raise KeyError(f"unknown variant {name!r} (known: {known})")
        return apply_variant(self, self.variants[name])

    def second_platform(self) -> Scenario | None:
        """The world of the cross-post: this scenario on ``cross_post.platform`` (None without one).

        The creator has ``cross_post.followers`` there (no node of an edge list), the
        video goes up ``cross_post.after_h`` after the first upload, and the campaign fee
        stays with the first platform.
        """
        cp = self.cross_post
        if cp is None:
            return None
        data = self.model_dump(exclude={"variants", "cross_post"}, exclude_none=True)
        data["platform"] = cp.platform.model_dump(exclude_none=True)
        data["creator"] = {"followers": cp.followers}
        data["video"]["upload_h"] = self.video.upload_h + cp.after_h
        return Scenario.model_validate(data)


def merge_tables(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged into a copy of ``base``, table by table (how variants apply)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_tables(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_variant(scenario: Scenario, override: dict[str, Any]) -> Scenario:
    """Return a new scenario with ``override`` (a nested table) merged into it.

    Raises ``pydantic.ValidationError`` when the merged scenario is invalid.
    """
    data = scenario.model_dump(exclude={"variants"}, exclude_none=True)
    merged = merge_tables(data, override)
    merged["variants"] = {}
    return Scenario.model_validate(merged)


# -- memory: what a run needs, known before anything is allocated -------------------------------
# Peak figures measured with tracemalloc on simulate() (numpy 2, 1M and 5M users); the
# estimate is meant to be a little above the real peak, never far below it.

#: Peak bytes per user of a materialised population, besides 4 bytes a topic: the session rate,
#: time zone, taken flag, the ranking's sort order and the sort's temporaries.
BYTES_PER_USER = 26
#: Peak bytes per reached user of an implicit population's hash set of taken ids (8 bytes a
#: slot at a load of 0.3-0.6, both tables while it doubles).
BYTES_PER_IMPLICIT_USER = 40
#: Peak bytes per user the push and the following feed reach: float32 attributes grown by
#: doubling, the views log (column batches, then the time-ordered table) and the temporaries
#: of a delivery batch (measured 132 with batches of 20k, 220 with one batch of 4M).
BYTES_PER_REACHED_USER = 224
#: The same for a run that keeps only its summary (``record = "summary"``: ensembles, and
#: ``viralsim run`` without ``--out``): no views log (measured 36-52 in whole processes,
#: bees_bike 0.7M and platform_scale 19.6M users reached).
BYTES_PER_REACHED_USER_SUMMARY = 64
#: Peak bytes per edge while a generated graph is built (a finished CSR graph keeps 8): the
#: edge arrays, the self-loop mask and the sort (measured 34 and 59); barabasi_albert is
#: built by networkx, ~400 bytes per undirected edge.
BYTES_PER_EDGE = {"erdos_renyi": 34, "small_world": 59, "barabasi_albert": 400}
#: Tables and buffers whose size does not depend on the scenario.
FIXED_BYTES = 64 * 2**20
#: Used when the machine's memory cannot be found out.
DEFAULT_MEMORY = 16 * 2**30


def memory_parts(sc: Scenario, record: str = "summary") -> dict[str, float]:
    """Estimated peak bytes of one run of ``sc``, by what needs them.

    Parameters
    ----------
    sc : Scenario
        A schema-valid scenario (its variants are not included).
    record : {"summary", "full"}
        Whether the run keeps its views log (``simulate(record=...)``).

    Returns
    -------
    dict
        ``"population"``: the arrays of a materialised population (0 for an implicit one);
        ``"reached"``: the users the push cohorts and the following feed can reach
        (at most the population; share cascades are assumed to add few);
        ``"social_graph"``: the edges of a generated graph while it is built (an
        ``edge_list`` counts its row index only: its size is known once the file is read).
        ``"second_platform"`` (a ``cross_post`` scenario): all of the above for the
        second platform's world.
        Floats, so that absurd scenarios do not overflow.
    """
    n = float(sc.population.users)
    graph = sc.social_graph
    half = max(1.0, float(round(graph.mean_following / 2)))
    edges = {
        "erdos_renyi": n * graph.mean_following,
        "small_world": n * 2.0 * half,
        "barabasi_albert": n * min(n - 1.0, half),
    }.get(graph.kind, 0.0)
    reached = reachable_users(sc)
    per_reached = float(BYTES_PER_REACHED_USER if record == "full" else BYTES_PER_REACHED_USER_SUMMARY)
    if representation(sc.population) == "materialised":
        held = n * (BYTES_PER_USER + 4.0 * len(sc.population.topics))
    else:
        held, per_reached = 0.0, per_reached + BYTES_PER_IMPLICIT_USER
    parts = {
        "population": held,
        "reached": reached * per_reached,
        "social_graph": edges * BYTES_PER_EDGE.get(graph.kind, 0) + (n + 1) * 8.0 * (graph.kind != "random_powerlaw"),
    }
    if sc.cross_post is not None:  # the second platform's world is built while the first's result is kept
        try:
            second = sc.second_platform()
        except ValueError:  # upload_h + after_h overflows: problems() reports it
            second = None
        if second is not None:
            parts["second_platform"] = sum(memory_parts(second, record).values())
    return parts


def reachable_users(sc: Scenario) -> float:
    """The users the push cohorts and the following feed can reach (at most the population)."""
    push = sc.platform.push
    pushed = float(sum(push.cohort_sizes())) if push.mode != "social" else 0.0
    return min(float(sc.population.users), pushed + sc.creator.followers)


def representation(population: Population) -> Literal["materialised", "implicit"]:
    """How a population is held: its ``representation``, with ``"auto"`` decided by size."""
    if population.representation != "auto":
        return population.representation
    return "materialised" if population.users <= AUTO_MATERIALISED_USERS else "implicit"


def memory_estimate(sc: Scenario, record: str = "summary") -> int:
    """Estimated peak memory of one run of ``sc``, in bytes (see :func:`memory_parts`).

    This is the one place that knows what a population costs (:func:`memory_parts`);
    the checks follow it.
    """
    return int(min(sum(memory_parts(sc, record).values()) + FIXED_BYTES, 2.0**100))


def machine_memory() -> int:
    """Memory a run may use on this machine, in bytes.

    The physical memory, lowered to the address-space limit (``ulimit -v``) when
    one is set; :data:`DEFAULT_MEMORY` where neither can be found out.
    """
    found: list[int] = []
    try:
        found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY and soft > 0:
            found.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    found = [b for b in found if b > 0]
    return min(found) if found else DEFAULT_MEMORY


def format_bytes(b: float) -> str:
    """``5.5 TiB``, ``330 GiB``, ``700 MiB``: binary units, three significant digits."""
    for unit, size in (("PiB", 2.0**50), ("TiB", 2.0**40), ("GiB", 2.0**30), ("MiB", 2.0**20)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b / 2**10:.3g} KiB"


def _memory_problem(sc: Scenario, limit: int, record: str) -> tuple[tuple[str | int, ...], str] | None:
    """The memory problem of ``sc``, pointed at the field behind its largest part, or None."""
    need = memory_estimate(sc, record)
    if need <= limit:
        return None
    parts = memory_parts(sc, record)
    biggest = max(parts, key=lambda k: parts[k])
    users = sc.population.users
    push = sc.platform.push
    if biggest == "social_graph":
        edges = (parts["social_graph"] - (users + 1) * 8.0) / BYTES_PER_EDGE[sc.social_graph.kind]
        where: tuple[str | int, ...] = ("social_graph", "mean_following")
        what = f"a {sc.social_graph.kind} graph of {users} users and ~{edges:.3g} edges"
    elif biggest == "reached":
        where = ("platform", "push", "cohorts" if push.cohorts is not None else "first_cohort")
        what = f"reaching up to {round(reachable_users(sc))} users"
    else:
        where, what = ("population", "users"), f"a materialised population of {users} users"
        return where, (
            f"{what} would need ~{format_bytes(need)} of memory (this machine has {format_bytes(limit)}):"
            ' use population.representation = "implicit" (users exist only once reached)'
        )
    return where, f"{what} would need ~{format_bytes(need)} of memory (this machine has {format_bytes(limit)})"


def problems(
    sc: Scenario, *, memory_limit: int | None = None, record: str = "summary"
) -> list[tuple[tuple[str | int, ...], str]]:
    """Cross-field problems of a schema-valid scenario, as ``(location, message)``.

    Parameters
    ----------
    sc : Scenario
        A schema-valid scenario.
    memory_limit : int, optional
        Bytes a run may need (default: :func:`machine_memory`); a scenario whose
        :func:`memory_estimate` is larger is refused before anything is allocated.
    record : {"summary", "full"}
        The memory a run needs depends on whether it keeps its views log; loading and
        validating a scenario check the summary (what ensembles and ``viralsim run``
        without ``--out`` keep), ``simulate(record="full")`` checks again for the log.
    """
    out: list[tuple[tuple[str | int, ...], str]] = []
    topics = set(sc.population.topics)
    pop, push, video = sc.population, sc.platform.push, sc.video
    if video.topic is None and video.topic_mix is None:
        out.append((("video", "topic"), "set video.topic or video.topic_mix"))
    if video.topic is not None and video.topic_mix is not None:
        out.append((("video", "topic_mix"), "set only one of video.topic and video.topic_mix"))
    if video.topic is not None and video.topic not in topics:
        out.append((("video", "topic"), f"{video.topic!r} is not one of population.topics"))
    if video.topic_mix is not None:
        for t in video.topic_mix:
            if t not in topics:
                out.append((("video", "topic_mix", t), f"{t!r} is not one of population.topics"))
        if sum(video.topic_mix.values()) <= 0:
            out.append((("video", "topic_mix"), "weights must not all be zero"))
    if pop.timezone_weights is not None:
        if len(pop.timezone_weights) != len(pop.timezone_offsets_h):
            out.append(
                (
                    ("population", "timezone_weights"),
                    f"needs {len(pop.timezone_offsets_h)} weights (one per offset), got {len(pop.timezone_weights)}",
                )
            )
        elif sum(pop.timezone_weights) <= 0:
            out.append((("population", "timezone_weights"), "weights must not all be zero"))
    sizes = push.cohort_sizes()
    where = ("platform", "push", "cohorts" if push.cohorts is not None else "first_cohort")
    if sizes[0] > pop.users:
        out.append((where, f"first cohort ({sizes[0]}) is larger than population.users ({pop.users})"))
    if push.stage_thresholds is not None and len(push.stage_thresholds) > len(sizes):
        out.append(
            (
                ("platform", "push", "stage_thresholds"),
                f"{len(push.stage_thresholds)} entries but only {len(sizes)} stages",
            )
        )
    if push.human_review_after_stage is not None and push.human_review_after_stage > len(sizes):
        out.append(
            (
                ("platform", "push", "human_review_after_stage"),
                f"stage {push.human_review_after_stage} does not exist ({len(sizes)} stages)",
            )
        )
    mod = sc.platform.moderation
    if mod.auto_approve_below > mod.auto_remove_above:
        out.append(
            (
                ("platform", "moderation", "auto_approve_below"),
                f"must not exceed auto_remove_above ({mod.auto_remove_above}), got {mod.auto_approve_below}",
            )
        )
    conf = sc.platform.recognition.confusion
    if conf is not None:
        for true_topic, row in conf.items():
            if true_topic not in topics:
                out.append((("platform", "recognition", "confusion", true_topic), f"{true_topic!r} is not a topic"))
            for t in row:
                if t not in topics:
                    out.append((("platform", "recognition", "confusion", true_topic, t), f"{t!r} is not a topic"))
            if row and abs(sum(row.values()) - 1.0) > 1e-6:
                out.append(
                    (
                        ("platform", "recognition", "confusion", true_topic),
                        f"probabilities must sum to 1, got {sum(row.values()):.6g}",
                    )
                )
    if sc.creator.user is not None and sc.creator.user >= pop.users:
        out.append((("creator", "user"), f"must be < population.users ({pop.users}), got {sc.creator.user}"))
    if sc.social_graph.kind == "barabasi_albert" and pop.users < 2:
        out.append((("population", "users"), "barabasi_albert needs at least 2 users"))
    if sc.social_graph.kind == "edge_list":
        if sc.social_graph.path is None:
            out.append((("social_graph", "path"), "edge_list needs a path"))
        if sc.creator.user is None:
            out.append((("creator", "user"), "edge_list needs the creator's node id"))
    elif sc.creator.followers >= pop.users:
        out.append((("creator", "followers"), f"must be < population.users ({pop.users})"))
    b = sc.behaviour
    if b.watch_fraction_min > b.watch_fraction_max:
        out.append((("behaviour", "watch_fraction_min"), "must not exceed behaviour.watch_fraction_max"))
    if pop.users > MAX_MATERIALISED_USERS and representation(pop) == "materialised":
        out.append(
            (
                ("population", "representation"),
                f"a materialised population holds at most {MAX_MATERIALISED_USERS} users, got {pop.users}:"
                ' use representation = "implicit" (users exist only once reached)',
            )
        )
    cp = sc.cross_post
    if cp is not None:
        at = video.upload_h + cp.after_h
        if at >= sc.horizon_h:
            out.append(
                (
                    ("cross_post", "after_h"),
                    f"the cross-post (upload_h + after_h = {at:g} h) must come before horizon_h ({sc.horizon_h:g})",
                )
            )
        try:
            second = sc.second_platform()
        except ValueError:  # upload_h + after_h overflows to inf: reported above
            second = None
        for loc, msg in problems(second, memory_limit=2**62) if second is not None else []:
            if loc[0] == "platform":
                out.append((("cross_post", *loc), msg))
            elif loc == ("creator", "followers"):
                out.append((("cross_post", "followers"), msg))
    out.extend(_agent_problems(sc, machine_memory() if memory_limit is None else memory_limit))
    memory = _memory_problem(sc, machine_memory() if memory_limit is None else memory_limit, record)
    if memory is not None:
        out.append(memory)
    return out


#: Most users the agents engine runs (one SimPy process each, ~1 KB and ~6 us a session).
MAX_AGENT_USERS = 5_000_000
#: Most bytes of the agents engine's per-video reach flags (one byte per user and video).
MAX_AGENT_REACH_BYTES = 4 * 2**30


def agent_memory_estimate(sc: Scenario) -> float:
    """Rough peak bytes of an agents-engine run (measured: 50k users x 7 days x 500 videos, 0.6-1.2 GiB).

    Per user ~1 KB (process, inbox, interests) and 40 bytes a session; one byte per user and
    video (reach flags); ~100 bytes per delivery of every push cohort of every video (the
    delivery row, the inbox item, the view and its log row).
    """
    pop, s = sc.population, sc.population.sessions_per_day
    sessions = sc.horizon_h / 24.0 * s.median * math.exp(min(s.spread, 10.0) ** 2 / 2)
    videos = 1.0 if sc.marketplace is None else float(sc.marketplace.videos(sc.horizon_h))
    pushed = float(sum(sc.platform.push.cohort_sizes())) if sc.platform.push.mode != "social" else 0.0
    per_user = 1000.0 + 4.0 * len(pop.topics) + 40.0 * sessions
    return pop.users * (per_user + videos) + 100.0 * videos * min(pushed, float(pop.users))


def _agent_problems(sc: Scenario, memory_limit: int) -> list[tuple[tuple[str | int, ...], str]]:
    """Cross-field problems of the agent engine and the marketplace."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    m, n = sc.marketplace, sc.population.users
    if sc.engine != "agents":
        if m is not None:
            out.append((("marketplace",), 'a marketplace needs engine = "agents"'))
        return out
    if n > MAX_AGENT_USERS:
        out.append(
            (
                ("population", "users"),
                f"the agents engine runs at most {MAX_AGENT_USERS} users (one process each), got {n}",
            )
        )
    elif (need := agent_memory_estimate(sc)) > memory_limit:
        out.append(
            (
                ("population", "users"),
                f"the agents engine would need ~{format_bytes(need)} of memory for {n} users (this machine has {format_bytes(memory_limit)})",
            )
        )
    if sc.cross_post is not None:
        out.append((("cross_post",), 'engine = "agents" does not cross-post; use engine = "core"'))
    if sc.platform.moderation.publish_unreviewed_after_h is not None:
        out.append((("platform", "moderation", "publish_unreviewed_after_h"), 'not supported by engine = "agents"'))
    if sc.platform.push.human_review_after_stage is not None:
        out.append((("platform", "push", "human_review_after_stage"), 'not supported by engine = "agents"'))
    if m is None:
        return out
    if m.creators >= n:
        out.append((("marketplace", "creators"), f"must be < population.users ({n}), got {m.creators}"))
    if m.topic_mix is not None:
        topics = set(sc.population.topics)
        for t in m.topic_mix:
            if t not in topics:
                out.append((("marketplace", "topic_mix", t), f"{t!r} is not one of population.topics"))
        if sum(m.topic_mix.values()) <= 0:
            out.append((("marketplace", "topic_mix"), "weights must not all be zero"))
    videos = m.videos(sc.horizon_h)
    if videos < 1:
        out.append((("marketplace", "uploads_per_day"), f"no video is uploaded within horizon_h ({sc.horizon_h:g})"))
    elif float(videos) * n > MAX_AGENT_REACH_BYTES:
        out.append(
            (
                ("marketplace", "uploads_per_day"),
                f"{videos} videos x {n} users need {format_bytes(float(videos) * n)} of reach flags (limit {format_bytes(MAX_AGENT_REACH_BYTES)})",
            )
        )
    return out
