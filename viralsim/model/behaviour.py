"""What a viewer does with a video: a pure, vectorised function of (user, video).

Engagement ``e`` in [0, 1] combines the video's appeal with the viewer's
interest in its true topic; the watch fraction is Beta-distributed with a
mean that rises with ``e`` (and falls with duration); every action is a
Bernoulli draw whose probability rises with ``e`` and with the viewer's own
propensity. No state, no IO.
"""

from __future__ import annotations

import numpy as np

from viralsim.model.population import ACTIONS
from viralsim.scenario import Behaviour, Video

__all__ = ["engagement", "mean_watch_fraction", "view_outcomes"]


def engagement(interest: np.ndarray, video: Video, behaviour: Behaviour) -> np.ndarray:
    """Engagement in [0, 1] of viewers with ``interest`` (in [0, 1]) in the video's topic."""
    floor = behaviour.interest_floor
    e = video.appeal * (floor + (1.0 - floor) * np.asarray(interest, dtype=float))
    e = e * (1.0 - behaviour.novelty_weight * (1.0 - video.originality)) * (1.0 + video.trend_boost)
    return np.clip(e, 0.0, 1.0)


def mean_watch_fraction(e: np.ndarray, video: Video, behaviour: Behaviour) -> np.ndarray:
    """Mean watch fraction in (0, 1) at engagement ``e``; longer videos are watched less."""
    b = behaviour
    mu = b.watch_fraction_min + (b.watch_fraction_max - b.watch_fraction_min) * e
    mu = mu * min(1.0, (b.reference_duration_s / video.duration_s) ** b.duration_elasticity)
    return np.clip(mu, 1e-3, 1.0 - 1e-3)


def view_outcomes(
    interest: np.ndarray,
    propensity: np.ndarray,
    video: Video,
    behaviour: Behaviour,
    *,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Outcomes of one view per row.

    Parameters
    ----------
    interest
        Interest of each viewer in the video's true topic mixture, in [0, 1].
    propensity
        ``(n, len(ACTIONS))`` individual multipliers (mean 1) on action probabilities.
    video, behaviour
        The scenario's video and behaviour tables.
    rng
        Generator for the draws.

    Returns
    -------
    dict
        ``watch_s`` (seconds watched), ``completed`` and one boolean array per action.
    """
    n = len(interest)
    e = engagement(interest, video, behaviour)
    mu = mean_watch_fraction(e, video, behaviour)
    k = behaviour.watch_concentration
    frac = rng.beta(mu * k, (1.0 - mu) * k) if n else np.empty(0)
    out: dict[str, np.ndarray] = {
        "watch_s": (frac * video.duration_s).astype(np.float32),
        "completed": frac >= behaviour.completion_at_fraction,
    }
    lift = (e / 0.5) ** behaviour.engagement_elasticity
    u = rng.random((n, len(ACTIONS)))
    for j, action in enumerate(ACTIONS):
        p = getattr(behaviour, f"p_{action}") * propensity[:, j] * lift
        name = {"like": "liked", "comment": "commented", "share": "shared", "follow": "followed"}.get(
            action, action
        )
        out[name] = u[:, j] < p
    return out
