"""Hypothesis strategies shared by the tests: random valid scenarios of small worlds."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from viralsim import Scenario
from viralsim.engines.checks import check


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A random valid scenario of 2k-30k users."""
    users = draw(st.integers(2_000, 30_000))
    n_topics = draw(st.integers(1, 5))
    topics = [f"topic{i}" for i in range(n_topics)]
    prob = st.floats(0.0, 1.0)

    first = draw(st.integers(20, min(500, users)))
    if draw(st.booleans()):
        growth = draw(st.sampled_from([2, 3, 5, 10]))
        cohorts = [first * growth**i for i in range(draw(st.integers(1, 6)))]
        cohort_cfg: dict[str, Any] = {"cohorts": cohorts}
        stages = len(cohorts)
    else:
        stages = draw(st.integers(1, 6))
        cohort_cfg = {"first_cohort": first, "growth": draw(st.floats(1.5, 8.0)), "max_stages": stages}
    thresholds = {
        k: draw(st.none() | st.floats(0.0, hi))
        for k, hi in [("completion", 0.5), ("like", 0.15), ("share", 0.02), ("watch_fraction", 0.8)]
    }
    thresholds["score"] = draw(st.none() | st.floats(0.0, 6.0))
    kind = draw(st.sampled_from(["random_powerlaw", "small_world", "erdos_renyi", "barabasi_albert"]))
    violation = draw(st.sampled_from([False] * 9 + [True]))  # about one upload in ten violates the rules
    approve = draw(st.floats(0.05, 0.5))
    data = {
        "name": "random",
        "horizon_h": draw(st.floats(24.0, 168.0)),
        "population": {
            "users": users,
            "topics": topics,
            "interest_concentration": draw(st.floats(0.1, 2.0)),
            "sessions_per_day": {"median": draw(st.floats(0.5, 12.0)), "spread": draw(st.floats(0.0, 1.5))},
            "timezone_offsets_h": draw(st.sampled_from([[0.0], [-5.0, 1.0, 8.0]])),
            "propensity_spread": draw(st.floats(0.0, 1.0)),
        },
        "social_graph": {
            "kind": kind,
            "mean_following": draw(st.floats(2.0, 30.0 if kind != "barabasi_albert" else 8.0)),
            "rewire_probability": draw(prob),
        },
        "creator": {
            "followers": draw(st.integers(0, min(2_000, users - 1))),
            "fee": draw(st.none() | st.floats(0.0, 10_000.0)),
        },
        "video": {
            "topic": draw(st.sampled_from(topics)),
            "duration_s": draw(st.floats(5.0, 120.0)),
            "appeal": draw(prob),
            "originality": draw(prob),
            "violation": violation,
            "trend_boost": draw(st.floats(0.0, 0.5)),
            "upload_h": draw(st.floats(0.0, 24.0, exclude_max=True)),  # before the horizon (>= 24 h)
        },
        "platform": {
            "moderation": {
                "auto_approve_below": approve,
                "auto_remove_above": draw(st.floats(max(approve, 0.5), 1.0)),
                "moderators": draw(st.integers(1, 5)),
                "background_reviews_per_h": draw(st.floats(0.0, 100.0)),
                "human_accuracy": draw(st.floats(0.8, 1.0)),
                "background_warmup_h": draw(st.none() | st.floats(0.0, 24.0)),
                "publish_unreviewed_after_h": draw(st.none() | st.floats(0.05, 12.0)),
            },
            "recognition": {"accuracy": draw(prob)},
            "push": {
                "mode": draw(st.sampled_from(["content", "social", "hybrid"])),
                **cohort_cfg,
                "delivery_batch": draw(st.integers(50, 5_000)),
                "batch_interval_h": draw(st.floats(0.0, 2.0)),
                "watch_probability": draw(prob),
                "evaluate_after_fraction": draw(st.floats(0.05, 1.0)),
                "eval_window_h": draw(st.floats(0.5, 48.0)),
                "min_views_to_evaluate": draw(st.integers(1, 500)),
                "thresholds": {k: x for k, x in thresholds.items() if x is not None},
                "human_review_after_stage": draw(st.none() | st.integers(1, stages)),
            },
            "following": {
                "watch_probability": draw(prob),
                "freshness_half_life_h": draw(st.none() | st.floats(0.1, 48.0)),
            },
            "sharing": {
                "recipients_per_share": draw(st.integers(1, 10) | st.just("all")),
                "open_probability": draw(prob),
            },
        },
        "behaviour": {
            "interest_floor": draw(prob),
            "watch_concentration": draw(st.floats(0.5, 10.0)),
            "p_like": draw(st.floats(0.0, 0.2)),
            "p_share": draw(st.floats(0.0, 0.2)),
            "p_follow": draw(st.floats(0.0, 0.02)),
        },
    }
    room_h = data["horizon_h"] - data["video"]["upload_h"]
    if room_h > 1.0 and draw(st.booleans()):  # a second platform, cross-posted to if the video did well
        data["cross_post"] = {
            "after_h": draw(st.floats(0.1, 0.9)) * room_h,
            "if_views_at_least": draw(st.integers(0, 500)),
            "followers": draw(st.integers(0, min(2_000, users - 1))),
            "platform": {
                "push": {
                    "mode": draw(st.sampled_from(["content", "social", "hybrid"])),
                    **cohort_cfg,
                    "thresholds": {k: x for k, x in thresholds.items() if x is not None},
                },
                "following": {"watch_probability": draw(prob)},
            },
        }
    sc = Scenario.model_validate(data)
    assert check(sc) == []
    return sc
