"""The staged push (traffic pool): cohorts, pacing, and the KPI gate that decides each next stage.

Frozen pydantic models (see :mod:`viralsim.scenario.tables` for the base and
the conventions); :mod:`viralsim.model.kpi` evaluates the gate and the engines
run the stages. This module only describes: no checks across tables, no IO.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from viralsim.scenario.tables import MAX_STAGES, MAX_USERS, NonNegativeFloat, PositiveFloat, Probability, _Strict

__all__ = ["KPI_NAMES", "Push", "ScoreWeights", "Thresholds"]

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


def _least(what: str, typical: str) -> str:
    return f"Least {what} a stage's views must keep to pass the gate (typical {typical}); unset: not checked."


class Thresholds(_Strict):
    """KPI thresholds of the push gate (rates per view); unset KPIs are not checked."""

    completion: Probability | None = Field(
        None,
        description=_least("completion rate (share of views watched past behaviour.completion_at_fraction)", "0.1-0.4")
        + " The gate most pushes stop at; it moves with duration_s, watch_concentration and duration_elasticity.",
    )
    watch_fraction: Probability | None = Field(
        None, description=_least("mean watch fraction (seconds watched / video.duration_s)", "0.3-0.6")
    )
    like: Probability | None = Field(None, description=_least("likes per view", "0.02-0.08"))
    comment: Probability | None = Field(None, description=_least("comments per view", "0.001-0.01"))
    share: Probability | None = Field(None, description=_least("shares per view", "0.0005-0.005"))
    follow: Probability | None = Field(None, description=_least("follows of the creator per view", "0.001-0.01"))
    profile_click: Probability | None = Field(None, description=_least("profile visits per view", "0.01-0.05"))
    score: NonNegativeFloat | None = Field(
        None, description=_least("composite score (sum of score_weights x KPI rates)", "1-3 for a fair video")
    )


def _weight(kpi: str, default: float) -> str:
    return f"Weight of the {kpi} in the composite score that thresholds.score checks (>= 0; default {default:g})."


class ScoreWeights(_Strict):
    """Weights of the composite score: sum of weight x rate (Douyin, TikTok Algo 101)."""

    completion: NonNegativeFloat = Field(1.0, description=_weight("completion rate", 1.0))
    watch_fraction: NonNegativeFloat = Field(1.0, description=_weight("mean watch fraction", 1.0))
    like: NonNegativeFloat = Field(10.0, description=_weight("like rate", 10.0))
    comment: NonNegativeFloat = Field(20.0, description=_weight("comment rate", 20.0))
    share: NonNegativeFloat = Field(50.0, description=_weight("share rate", 50.0))
    follow: NonNegativeFloat = Field(30.0, description=_weight("follow rate", 30.0))
    profile_click: NonNegativeFloat = Field(5.0, description=_weight("profile-click rate", 5.0))


class Push(_Strict):
    """The staged push (traffic pool): cohorts, pacing, and the KPI gate."""

    mode: Literal["content", "social", "hybrid"] = Field(
        "hybrid",
        description='"content": the algorithmic push only (shares do not spread); "social": no push, only the'
        ' creator\'s followers and their shares (stop reason no_push_social_mode); "hybrid": both.',
    )
    cohorts: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=MAX_STAGES)] | None = Field(
        None,
        description="Cohort size of each stage in users, strictly increasing (e.g. [300, 3000, 30000]; at most 50"
        " stages); overrides first_cohort, growth and max_stages. Each stage goes to the next most interested"
        " users not reached yet.",
    )
    first_cohort: Annotated[int, Field(ge=1)] = Field(
        200,
        description="Users in the first stage's cohort when cohorts is unset (typical 100-1000): the first traffic"
        " pool, the most interested users, that tests the video.",
    )
    growth: Annotated[float, Field(gt=1.0)] = Field(
        5.0,
        description="Factor between successive cohorts when cohorts is unset (> 1, typical 3-10): stage s goes to"
        " first_cohort x growth ** (s - 1) users.",
    )
    max_stages: Annotated[int, Field(ge=1, le=MAX_STAGES)] = Field(
        7,
        description="Stages of the push when cohorts is unset (1-50); a video passing every gate ends with"
        " all_stages_passed. The default reaches 200 x 5 ** 6 = 3.1 M users in its last stage.",
    )
    delivery_batch: Annotated[int, Field(ge=1)] = Field(
        20_000,
        description="Users delivered at once (>= 1); a larger cohort goes out in batches batch_interval_h apart,"
        " with a mid-stage KPI check before each further batch.",
    )
    batch_interval_h: NonNegativeFloat = Field(
        0.5,
        description="Hours between the delivery batches of one stage (>= 0, typical 0.1-2): paces large stages and"
        " lets the mid-stage check stop a failing stage early.",
    )
    watch_probability: Probability = Field(
        0.85,
        description="Probability that a user the push delivers to (For You) watches at all (in [0, 1], typical"
        " 0.5-0.9): the crowding of feeds. It scales the views per cohort; KPIs are rates per view and do not move.",
    )
    evaluate_after_fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.6,
        description="A stage is evaluated once this share of its cohort has watched (in (0, 1], typical 0.3-0.8),"
        " or eval_window_h after its last delivery if that is sooner; lower decides earlier on the most active users.",
    )
    eval_window_h: PositiveFloat = Field(
        24.0,
        description="Longest wait, in hours after a stage's last delivery, before its gate is evaluated anyway"
        " (> 0, typical 6-48).",
    )
    min_views_to_evaluate: Annotated[int, Field(ge=1)] = Field(
        100,
        description="Views a stage needs before a mid-stage check (between delivery batches) may stop the push.",
    )
    thresholds: Thresholds = Field(
        Thresholds(completion=0.3),
        description="KPI thresholds every stage must meet (rates per view); a table written here replaces the"
        " default as a whole. The default (completion >= 0.3) stops a default video (appeal 0.6, 15 s) at stage 1;"
        " the bundled scenarios mostly use completion 0.15, like 0.03.",
    )
    stage_thresholds: list[Thresholds] | None = Field(
        None,
        description="Per-stage overrides of thresholds (entry i applies to stage i + 1; only the KPIs it sets"
        " replace the base ones): e.g. stricter gates for the larger pools.",
    )
    score_weights: ScoreWeights = Field(
        ScoreWeights(),
        description="Weights of the composite score (sum of weight x KPI rate) that thresholds.score checks.",
    )
    pool_spread: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        0.0,
        description="Spread (sigma of the log) of a per-video multiplier of the cohort sizes (0-3, typical"
        " 0.5-1.5): each video draws one log-normal factor of median 1 that scales all its cohorts, as the"
        " pool a video gets varies with its account and upload slot (quoted first pools: 200-500 users)."
        " 0 (default): every video gets the listed sizes.",
    )
    graded: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.0,
        description="Graded promotion (0-10, typical 0.5-2): a passed stage's next cohort is its size x"
        " margin ** graded, margin = the least ratio of a KPI to its threshold (>= 1 when passed), capped at"
        " graded_cap; the better a stage clears its gate, the larger the next pool. 0 (default): pass/fail only.",
    )
    graded_cap: Annotated[float, Field(ge=1.0)] = Field(
        4.0,
        description="Largest factor graded may apply to a cohort (>= 1, typical 2-10): a stage that clears"
        " its gate by far gets at most this many times its listed size.",
    )
    human_review_after_stage: Annotated[int, Field(ge=1)] | None = Field(
        None,
        description="After passing this stage (1-based) the video waits for a human review before the next stage"
        " (core engine only); unset: no such review.",
    )

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
