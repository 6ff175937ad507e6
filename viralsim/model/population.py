"""The population: users as rows of arrays, drawn lazily, ranked by affinity.

Users are integers ``0 .. N-1``. Only two arrays have one entry per user: the
user's *affinity bucket* for the recognised topic (``uint16``: which of 65 536
equal-probability slices of the interest distribution the user falls in) and a
*slot* (``int32``, -1 until the user is reached). Everything else about a user
(exact interest, sessions per day, time zone, action propensities) is drawn
from its distribution the first time the user is reached and stored in the
slot, so a user reached twice is the same user and a run pays only for the
users it reaches.

Interests follow a symmetric Dirichlet(alpha) over T topics. The interest in
the recognised topic r is Beta(alpha, (T-1) alpha): a user's bucket plus a
uniform offset is its quantile. Interests in other topics (a misrecognised
video's true topic, a topic mixture) are drawn from their exact conditional
distribution given the interest in r (stick-breaking of the remainder).
This module is pure: no IO, no printing, explicit generators only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from viralsim.scenario import Population as PopulationConfig

__all__ = ["ACTIONS", "BUCKETS", "Population", "SessionClock"]

#: Number of equal-probability affinity slices in the ranking.
BUCKETS = 65_536
#: The actions a viewer can take, each with its own propensity multiplier.
ACTIONS = ("like", "comment", "share", "follow", "profile_click")

# Largest population whose two per-user arrays (6 bytes a user) we build.
MAX_MATERIALISED_USERS = 400_000_000


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-300, 1.0 - 1e-16)
    return np.log(p) - np.log1p(-p)


def _expit(y: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -y))


def beta_quantile_table(a: float, b: float, points: int = 40_001) -> tuple[np.ndarray, np.ndarray]:
    """Tabulate the Beta(a, b) quantile function as (logit u, logit x) pairs.

    In ``y = logit(x)`` the Beta density is proportional to ``x**a (1-x)**b``,
    smooth and fast-decaying at both ends, so a fine trapezoid rule gives the
    CDF to ~1e-9 without special functions; both tails are accumulated from
    their own end so that small tail probabilities keep their precision.
    """
    half = min(4000.0, max(60.0, 45.0 / min(a, b)))  # both tails below ~exp(-45)
    y = np.linspace(-half, half, points)
    log_x = -np.logaddexp(0.0, -y)
    log_1mx = -np.logaddexp(0.0, y)
    logf = a * log_x + b * log_1mx
    f = np.exp(logf - logf.max())
    seg = 0.5 * (f[1:] + f[:-1]) * (y[1] - y[0])
    lower = np.concatenate([[0.0], np.cumsum(seg)])
    upper = np.concatenate([np.cumsum(seg[::-1])[::-1], [0.0]])
    total = lower[-1]
    # logit(u) = log(lower) - log(upper); drop the ends where one side underflows
    ok = (lower > 0) & (upper > 0)
    lu = np.log(lower[ok] / total) - np.log(upper[ok] / total)
    keep = np.concatenate([[True], np.diff(lu) > 0])
    return lu[keep], y[ok][keep]


class SessionClock:
    """When a user next opens the app: a Poisson process modulated by a diurnal profile.

    ``profile`` holds the relative intensity of each local hour; it is
    normalised to mean 1, so a user with ``rate_per_h`` has that many sessions
    per hour on average over a day.
    """

    def __init__(self, profile: list[float]) -> None:
        w = np.asarray(profile, dtype=float) + 1e-9
        w = w * 24.0 / w.sum()
        self._cum = np.concatenate([[0.0], np.cumsum(w)])  # W(h) at h = 0..24
        self._hours = np.arange(25, dtype=float)

    def next_session(
        self, t_h: np.ndarray, rate_per_h: np.ndarray, tz_h: np.ndarray, *, rng: np.random.Generator
    ) -> np.ndarray:
        """Time (hours) of each user's next session after ``t_h`` (time-change inversion)."""
        local = np.asarray(t_h, dtype=float) + tz_h
        days = np.floor(local / 24.0)
        w_now = days * 24.0 + np.interp(local - days * 24.0, self._hours, self._cum)
        target = w_now + rng.exponential(size=local.shape) / rate_per_h
        tdays = np.floor(target / 24.0)
        local_next = tdays * 24.0 + np.interp(target - tdays * 24.0, self._cum, self._hours)
        return np.maximum(local_next - tz_h, t_h)


@dataclass
class _Attributes:
    """Attributes of reached users, indexed by slot (append-only, grown by doubling)."""

    interest: np.ndarray  # interest in the video's true topic mixture, [0, 1]
    rate_per_h: np.ndarray  # sessions per hour
    tz_h: np.ndarray  # time-zone offset, hours
    propensity: np.ndarray  # (slots, len(ACTIONS)) multipliers, mean 1
    size: int = 0


class Population:
    """A materialised population ranked by affinity to one recognised topic.

    Parameters
    ----------
    config
        The scenario's ``[population]`` table.
    video_mix
        The video's true topic mixture: topic name -> weight (sums to 1).
    rng
        Generator for every draw of this population (ranking and attributes).
    """

    def __init__(self, config: PopulationConfig, video_mix: dict[str, float], *, rng: np.random.Generator):
        if config.users > MAX_MATERIALISED_USERS:
            raise ValueError(
                f"population.users = {config.users:,} is too large to materialise"
                f" (limit {MAX_MATERIALISED_USERS:,}, 6 bytes a user)"
            )
        self.config = config
        self.n = config.users
        self.topics = list(config.topics)
        self.alpha = config.interest_concentration
        self.video_mix = video_mix
        self.rng = rng
        self.clock = SessionClock(config.diurnal_profile)
        self.slot = np.full(self.n, -1, dtype=np.int32)
        self.topic: str | None = None
        self._bucket: np.ndarray | None = None
        self._quantile = np.empty(0)  # per slot: quantile of interest in the ranking topic
        cap = 1024
        self._attr = _Attributes(
            interest=np.empty(cap, dtype=np.float32),
            rate_per_h=np.empty(cap, dtype=np.float32),
            tz_h=np.empty(cap, dtype=np.float32),
            propensity=np.empty((cap, len(ACTIONS)), dtype=np.float32),
        )
        self._quantile = np.empty(cap)
        tzw = np.asarray(config.timezone_weights or [1.0] * len(config.timezone_offsets_h), dtype=float)
        self._tz_p = tzw / tzw.sum()
        self._tz = np.asarray(config.timezone_offsets_h, dtype=float)
        self._cursor = BUCKETS - 1  # highest bucket not yet exhausted by the ranking
        self._inv_table: tuple[np.ndarray, np.ndarray] | None = None

    # -- ranking (the content graph) -------------------------------------------------
    def set_ranking_topic(self, topic: str) -> None:
        """Fix the topic the platform ranks users by (the recognised topic)."""
        if self.topic is not None and topic != self.topic:
            raise ValueError("a population ranks by one recognised topic per run")
        if self.topic is None:
            self.topic = topic
            self._bucket = self.rng.integers(0, BUCKETS, size=self.n, dtype=np.uint16)

    def next_by_affinity(self, k: int) -> np.ndarray:
        """The next ``k`` unreached users by descending affinity to the ranking topic.

        Users are ordered by affinity bucket (1/65 536 of the distribution);
        ties inside the boundary bucket are broken at random. Fewer than ``k``
        users are returned when the population runs out.
        """
        b = self._require_ranking()
        taken: list[np.ndarray] = []
        need = k
        while need > 0 and self._cursor >= 0:
            # widen the bucket window until it plausibly holds `need` unreached users
            width = max(1, int(np.ceil(need * 1.1 * BUCKETS / self.n)) + 2)
            lo = max(0, self._cursor - width + 1)
            cand = np.flatnonzero((b >= lo) & (b <= self._cursor))
            cand = cand[self.slot[cand] < 0]
            cb = b[cand]
            order = np.argsort(np.uint16(BUCKETS - 1) - cb, kind="stable")  # radix sort
            cand, cb = cand[order], cb[order]
            if len(cand) <= need:
                taken.append(cand)
                need -= len(cand)
                self._cursor = lo - 1
                continue
            edge = cb[need - 1]  # the bucket the cut falls in
            full = cand[cb > edge]
            part = cand[cb == edge]
            pick = self.rng.permutation(part)[: need - len(full)]
            taken.append(np.concatenate([full, pick]))
            need = 0
            self._cursor = int(edge)
        return np.concatenate(taken) if taken else np.empty(0, dtype=np.int64)

    def _require_ranking(self) -> np.ndarray:
        if self._bucket is None:
            raise RuntimeError("set_ranking_topic() must be called before users are reached")
        return self._bucket

    # -- reached users and their attributes ---------------------------------------------
    def is_reached(self, users: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``users`` have been reached (delivered to) already."""
        return self.slot[users] >= 0

    @property
    def reached_count(self) -> int:
        """Number of distinct users reached so far."""
        return self._attr.size

    def reach(self, users: np.ndarray) -> np.ndarray:
        """Mark distinct, unreached ``users`` as reached, drawing their attributes; return slots."""
        b = self._require_ranking()
        n = len(users)
        a = self._attr
        start = a.size
        if start + n > len(a.interest):
            self._grow(start + n)
        slots = np.arange(start, start + n, dtype=np.int32)
        self.slot[users] = slots
        rng = self.rng
        q = (b[users] + rng.random(n)) / BUCKETS
        self._quantile[start : start + n] = q
        a.interest[start : start + n] = self._interest(q, rng)
        c = self.config
        z = rng.standard_normal((n, 1 + len(ACTIONS)), dtype=np.float32)
        a.rate_per_h[start : start + n] = c.sessions_per_day.median * np.exp(c.sessions_per_day.spread * z[:, 0]) / 24.0
        a.tz_h[start : start + n] = (
            self._tz[rng.choice(len(self._tz), size=n, p=self._tz_p)] if len(self._tz) > 1 else self._tz[0]
        )
        s = c.propensity_spread
        a.propensity[start : start + n] = np.exp(s * z[:, 1:] - np.float32(s * s / 2))
        a.size = start + n
        return slots

    def _grow(self, need: int) -> None:
        a = self._attr
        cap = max(need, 2 * len(a.interest))
        for name in ("interest", "rate_per_h", "tz_h"):
            old = getattr(a, name)
            new = np.empty(cap, dtype=np.float32)
            new[: a.size] = old[: a.size]
            setattr(a, name, new)
        prop = np.empty((cap, len(ACTIONS)), dtype=np.float32)
        prop[: a.size] = a.propensity[: a.size]
        a.propensity = prop
        q = np.empty(cap)
        q[: a.size] = self._quantile[: a.size]
        self._quantile = q

    def attributes(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """Attributes of reached users by slot: interest, rate_per_h, tz_h, propensity."""
        a = self._attr
        return {
            "interest": a.interest[slots],
            "rate_per_h": a.rate_per_h[slots],
            "tz_h": a.tz_h[slots],
            "propensity": a.propensity[slots],
        }

    def ranking_interest(self, slots: np.ndarray) -> np.ndarray:
        """Interest of reached users in the ranking (recognised) topic."""
        return self._beta_quantile(self._quantile[slots])

    # -- interest model -----------------------------------------------------------------
    def _beta_quantile(self, q: np.ndarray) -> np.ndarray:
        """Quantile function of Beta(alpha, (T-1) alpha) (tabulated once, see :func:`beta_quantile_table`)."""
        t = len(self.topics)
        if t == 1:
            return np.ones_like(q)
        if self._inv_table is None:
            self._inv_table = beta_quantile_table(self.alpha, (t - 1) * self.alpha)
        lu_grid, lx = self._inv_table
        return _expit(np.interp(_logit(q), lu_grid, lx))

    def _interest(self, q: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Interest in the video's true topic mixture, given the ranking-topic quantile."""
        x_r = self._beta_quantile(q)
        t = len(self.topics)
        out = self.video_mix.get(self.topic or "", 0.0) * x_r
        others = [k for k in self.topics if k != self.topic and self.video_mix.get(k, 0.0) > 0]
        rest = 1.0 - x_r
        for j, topic in enumerate(others):
            remaining_topics = t - 1 - j  # topics left to share `rest` among, this one included
            if remaining_topics <= 1:
                share = rest
            else:
                share = rest * rng.beta(self.alpha, (remaining_topics - 1) * self.alpha, size=len(q))
            out = out + self.video_mix[topic] * share
            rest = rest - share
        return out
