"""Scenarios shared by the theory and oracle tests."""

from __future__ import annotations

from viralsim import Scenario


def cascade_scenario(users: int, p: float) -> Scenario:
    """An independent cascade with edge probability ``p`` from one random root, in social mode.

    The mapping: ``behaviour.p_share = 1`` with ``engagement_elasticity = 0`` and
    ``propensity_spread = 0`` makes every viewer share with probability exactly 1;
    ``recipients_per_share = "all"`` sends each share along every out-edge once; each
    recipient opens with ``open_probability = p`` (one independent draw per edge) and an
    opened share is always watched; a user already reached is never reached again. So
    every out-edge of a reached user is tried once and succeeds with probability p: the
    independent cascade. The root is the creator's single follower (a uniform random
    user; the creator is not a node of the graph), watched with probability 1. The
    horizon is far beyond the end of any cascade (one session, ~1 h, per generation).
    Moderation always auto-approves (every classifier score is below 1).
    """
    return Scenario.model_validate(
        {
            "name": "independent_cascade",
            "horizon_h": 1e6,
            "population": {
                "users": users,
                "topics": ["a"],
                "sessions_per_day": {"median": 24.0, "spread": 0.0},
                "diurnal_profile": [1.0] * 24,
                "propensity_spread": 0.0,
            },
            "social_graph": {"kind": "small_world"},  # ignored: the graph is passed to simulate()
            "creator": {"followers": 1},
            "video": {"topic": "a", "upload_h": 0.0},
            "platform": {
                "moderation": {"auto_approve_below": 1.0, "auto_remove_above": 1.0},
                "push": {"mode": "social", "cohorts": [1]},
                "following": {"watch_probability": 1.0},
                "sharing": {"recipients_per_share": "all", "open_probability": p},
            },
            "behaviour": {"p_share": 1.0, "engagement_elasticity": 0.0},
        }
    )
