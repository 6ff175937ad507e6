"""The platform's decisions before the push: moderation and topic recognition.

Pure functions of the scenario's tables and an explicit generator. The
moderation *queue* (human moderators as a SimPy resource) lives in
:mod:`viralsim.engines.moderation`; here are only the draws it needs.
"""

from __future__ import annotations

import numpy as np

from viralsim.scenario import Moderation, Recognition, ReviewTime

__all__ = ["classifier_path", "classifier_score", "human_removes", "recognise", "review_time_h"]


def classifier_score(violation: bool, config: Moderation, *, rng: np.random.Generator) -> float:
    """The classifier's score in (0, 1): Beta with the mean of clean or violating uploads."""
    mean = config.score_mean_violating if violation else config.score_mean_clean
    k = config.score_concentration
    return float(rng.beta(mean * k, (1.0 - mean) * k))


def classifier_path(score: float, config: Moderation) -> str:
    """``auto_approve``, ``auto_remove`` or ``human`` (the doubtful band in between)."""
    if score < config.auto_approve_below:
        return "auto_approve"
    if score > config.auto_remove_above:
        return "auto_remove"
    return "human"


def review_time_h(config: ReviewTime, size: int | None = None, *, rng: np.random.Generator) -> np.ndarray:
    """Human review times in hours (``mean`` is in minutes)."""
    mean_h = config.mean / 60.0
    if config.distribution == "fixed":
        return np.full(size or 1, mean_h)
    if config.distribution == "exponential":
        return rng.exponential(mean_h, size=size or 1)
    s = config.sigma
    return mean_h * np.exp(s * rng.standard_normal(size or 1) - s * s / 2)


def human_removes(violation: bool, accuracy: float, *, rng: np.random.Generator) -> bool:
    """Whether a human moderator removes the video (right with probability ``accuracy``)."""
    right = bool(rng.random() < accuracy)
    return violation == right


def recognise(true_topic: str, topics: list[str], config: Recognition, *, rng: np.random.Generator) -> str:
    """The topic the platform recognises: right with ``accuracy``, else a confused topic."""
    u = rng.random(2)
    if u[0] < config.accuracy or len(topics) == 1:
        return true_topic
    if config.confusion and true_topic in config.confusion and config.confusion[true_topic]:
        row = config.confusion[true_topic]
        names = list(row)
        p = np.array([row[t] for t in names])
        return names[int(np.searchsorted(np.cumsum(p) / p.sum(), u[1], side="right"))]
    others = [t for t in topics if t != true_topic]
    return others[min(int(u[1] * len(others)), len(others) - 1)]
