"""The population: who is reached, in which order, and what each reached user is like.

Users are integers ``0 .. N-1``. Two representations behind one interface
(:class:`Population`), chosen by ``population.representation`` (``"auto"``:
by size, see :func:`viralsim.scenario.representation`):

- :class:`ImplicitPopulation` — users exist only once reached (docs/design.md §3.1). The
  set of users *taken* (reached, or withheld from the push like the creator)
  is a hash set of their ids (:class:`~viralsim.model.idset.IdSet`; a byte a
  user up to 2^24 users, where that is cheaper), and nothing else is stored: a user is delivered to at most once, so each
  attribute (interest, sessions per day, time zone) is drawn from its
  distribution when the user is reached and used right away. A run pays for
  the users it reaches, whether the population has 10^4 or 1.5 x 10^9 users.
- :class:`MaterialisedPopulation` — every user's interests (a Dirichlet
  vector), sessions per day and time zone are drawn up front into arrays, and
  the push ranks users by sorting their interest in the recognised topic. It
  costs ~4 T + 26 bytes a user and is the reference the implicit one is
  tested against.

The ranking (the content graph). Interests follow a symmetric Dirichlet(alpha)
over T topics, so the interest in the recognised topic r is
Beta(alpha, (T-1) alpha) and a user's quantile in it is uniform. The platform's
"next k users with the highest affinity to r not reached yet" are therefore the
next order statistics of the quantiles still in the *pool* (users not taken):
if the pool holds m users whose quantiles are iid uniform below the frontier f
(the quantile of the last user ranked), the next one has quantile
``f U^(1/m)`` and is a uniformly random member of the pool. A user reached in
another way (Following feed, a share: chosen without regard to interests) is a
uniformly random pool member whose quantile is uniform below f. This is exactly
the distribution of sorting N iid quantiles, at a cost proportional to the
users reached.

Interests in other topics (a misrecognised video's true topic, a topic mixture)
are drawn from their exact conditional distribution given the interest in r
(stick-breaking of the remainder). This module is pure: no IO, no printing,
explicit generators only.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from viralsim.model import idset
from viralsim.model.beta import beta_ppf
from viralsim.model.idset import ByteMask, IdSet, LowestFirst, first_occurrences, id_set
from viralsim.model.sessions import SessionClock
from viralsim.scenario import MAX_MATERIALISED_USERS, representation
from viralsim.scenario import Population as PopulationConfig

__all__ = [
    "ACTIONS",
    "ImplicitPopulation",
    "MaterialisedPopulation",
    "Population",
    "SessionClock",
    "make_population",
]

#: The actions a viewer can take, each with its own propensity multiplier.
ACTIONS = ("like", "comment", "share", "follow", "profile_click")


class Population(Protocol):
    """What the engine needs of a population (both representations provide it).

    A *key* identifies what is known of reached users: their ranking quantiles
    (implicit) or their ids (materialised). It comes from :meth:`next_by_affinity`
    or :meth:`reach` and goes back into :meth:`interest` and :meth:`ranking_interest`.
    """

    n: int
    topic: str | None
    clock: SessionClock

    def set_ranking_topic(self, topic: str) -> None: ...
    def withhold(self, user: int) -> None: ...
    @property
    def available(self) -> int: ...
    @property
    def reached_count(self) -> int: ...
    @property
    def materialised_users(self) -> int: ...
    def next_by_affinity(self, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def is_reached(self, users: np.ndarray) -> np.ndarray: ...
    def reach(self, users: np.ndarray, *, rng: np.random.Generator | None = None) -> np.ndarray: ...
    def sessions(
        self, users: np.ndarray, *, rng: np.random.Generator
    ) -> tuple[np.ndarray | float, np.ndarray | float]: ...
    def ranking_interest(self, users: np.ndarray, key: np.ndarray) -> np.ndarray: ...
    def interest(
        self, users: np.ndarray, key: np.ndarray, *, rng: np.random.Generator, ranking: np.ndarray | None = None
    ) -> np.ndarray: ...


def make_population(
    config: PopulationConfig,
    video_mix: dict[str, float],
    *,
    rng: np.random.Generator,
    capacity: int = 0,
    exchangeable: bool = False,
) -> ImplicitPopulation | MaterialisedPopulation:
    """The population ``config`` asks for (``representation``; ``"auto"`` decides by size).

    ``capacity`` and ``exchangeable`` go to :class:`ImplicitPopulation`.
    """
    if representation(config) == "materialised":
        return MaterialisedPopulation(config, video_mix, rng=rng)
    return ImplicitPopulation(config, video_mix, rng=rng, capacity=capacity, exchangeable=exchangeable)


class _Ranked:
    """What both representations share: configuration, ranking topic, counts, session clock."""

    def __init__(self, config: PopulationConfig, video_mix: dict[str, float], *, rng: np.random.Generator):
        self.config = config
        self.n = config.users
        self.topics = list(config.topics)
        self.alpha = config.interest_concentration
        self.video_mix = video_mix
        self.rng = rng
        self.clock = SessionClock(config.diurnal_profile)
        self.topic: str | None = None
        self._pool = self.n  # users not taken
        self._reached = 0
        tzw = np.asarray(config.timezone_weights or [1.0] * len(config.timezone_offsets_h), dtype=float)
        self._tz_cdf = np.cumsum(tzw / tzw.sum())[:-1]
        self._tz = np.asarray(config.timezone_offsets_h, dtype=float)

    def set_ranking_topic(self, topic: str) -> None:
        """Fix the topic the platform ranks users by (the recognised topic)."""
        if self.topic is not None and topic != self.topic:
            raise ValueError("a population ranks by one recognised topic per run")
        self.topic = topic

    @property
    def available(self) -> int:
        """Users neither reached nor withheld: who the push can still rank."""
        return self._pool

    @property
    def reached_count(self) -> int:
        """Number of distinct users reached so far."""
        return self._reached

    def _require_ranking(self) -> None:
        if self.topic is None:
            raise RuntimeError("set_ranking_topic() must be called before users are reached")

    def _draw_sessions(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Sessions per hour and time-zone offsets of ``n`` new users (scalars when all share one)."""
        c = self.config.sessions_per_day
        rate: np.ndarray | float = c.median / 24.0
        if c.spread > 0:  # rate exp(spread Z), in place
            z = rng.standard_normal(n, dtype=np.float32)
            z *= np.float32(c.spread)
            np.exp(z, out=z)
            z *= np.float32(rate)
            rate = z
        if len(self._tz) == 1:
            return rate, float(self._tz[0])
        return rate, self._tz[self._draw_zones(n, rng)]

    def _draw_zones(self, n: int, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(n)
        which = np.zeros(n, dtype=np.int8)
        for edge in self._tz_cdf:  # a few time zones: one comparison each
            which += u >= edge
        return which


class ImplicitPopulation(_Ranked):
    """A population whose users exist only once reached, ranked by order statistics.

    Parameters
    ----------
    config
        The scenario's ``[population]`` table.
    video_mix
        The video's true topic mixture: topic name -> weight (sums to 1).
    rng
        Generator of the ranking (order statistics and who is next), and the default
        generator of the other draws.
    capacity
        Users the run expects to reach: the size the set of taken users starts with.
    exchangeable
        Nothing about a user depends on its id (an annealed social graph): above
        2^24 users the push then takes the lowest free ids instead of random ones
        (:class:`~viralsim.model.idset.LowestFirst`, the same distribution at no
        memory cost). With an explicit graph ids are nodes, and stay random.
    """

    def __init__(
        self,
        config: PopulationConfig,
        video_mix: dict[str, float],
        *,
        rng: np.random.Generator,
        capacity: int = 0,
        exchangeable: bool = False,
    ):
        super().__init__(config, video_mix, rng=rng)
        self._taken: ByteMask | IdSet | LowestFirst  # reached, or withheld from the push
        if exchangeable and self.n > idset.MASK_MAX_IDS:
            self._taken = LowestFirst(self.n)  # only users reached at random are hashed: few
        else:
            self._taken = id_set(self.n, min(capacity, self.n))
        self._log_frontier = 0.0  # log of the ranking quantile of the last user ranked

    def withhold(self, user: int) -> None:
        """Keep ``user`` (the creator) out of the ranking and out of every delivery."""
        ids = np.array([user], dtype=np.int64)
        if not self._taken.contains(ids)[0]:
            self._taken.add(ids)
            self._pool -= 1

    @property
    def materialised_users(self) -> int:
        """Users that exist in memory: the ones taken (reached or withheld)."""
        return len(self._taken)

    def next_by_affinity(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Reach the next ``k`` users by descending affinity to the ranking topic.

        Returns the users (distinct, not reached before; fewer than ``k`` when the
        population runs out) and their quantiles of interest in the ranking topic,
        in non-increasing order. The users count as reached from now on.
        """
        self._require_ranking()
        k = min(int(k), self._pool)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        users = self._draw_pool(k)
        pool = np.arange(k, dtype=float)
        np.subtract(self._pool, pool, out=pool)  # pool size before each draw
        log_q = self.rng.standard_exponential(k)  # log_q = frontier - cumsum(E / pool), in place
        log_q /= pool
        np.cumsum(log_q, out=log_q)
        np.subtract(self._log_frontier, log_q, out=log_q)
        self._log_frontier = float(log_q[-1])
        self._pool -= k
        self._reached += k
        return users, np.exp(log_q, out=log_q)

    def _draw_pool(self, k: int) -> np.ndarray:
        """``k`` distinct, uniformly random users of the pool, in random order, marked taken."""
        rng, taken = self.rng, self._taken
        if isinstance(taken, LowestFirst):  # interchangeable users: the lowest free ids
            return taken.take_lowest(k)
        if 4 * k >= self._pool:  # a large part of what is left (so n <= taken + 4 k): list the pool
            everyone = np.arange(self.n, dtype=np.int64)
            users = rng.permutation(everyone[~taken.contains(everyone)])[:k]
            taken.add(users)
            return users
        # rejection: random users, minus the taken ones and the repeats (the last copy stays)
        parts: list[np.ndarray] = []
        need, left = k, self._pool
        while need:
            ids = rng.integers(0, self.n, size=int(need * 1.05 * self.n / left) + 16)
            ids = ids.compress(~taken.contains(ids))  # = ids[~...]; compress does not branch per id
            ids = ids[first_occurrences(ids[::-1])[::-1]][:need]
            taken.add(ids)
            parts.append(ids)
            need -= len(ids)
            left -= len(ids)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def is_reached(self, users: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``users`` were reached already (or are withheld)."""
        return self._taken.contains(users)

    def reach(self, users: np.ndarray, *, rng: np.random.Generator | None = None) -> np.ndarray:
        """Reach distinct, unreached ``users`` outside the ranking; return their ranking quantiles.

        Such users were not chosen by interest, so each is a random member of the pool:
        its quantile is uniform below the frontier of the ranking.
        """
        self._require_ranking()
        n = len(users)
        self._taken.add(users)
        self._pool -= n
        self._reached += n
        return np.exp(self._log_frontier) * (rng or self.rng).random(n)

    def sessions(self, users: np.ndarray, *, rng: np.random.Generator) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Sessions per hour and time-zone offset (hours) of reached ``users``, drawn now.

        Either is a scalar when it is the same for everyone (no spread, one time zone).
        """
        return self._draw_sessions(len(users), rng)

    def ranking_interest(self, users: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Interest in the ranking (recognised) topic of users at quantiles ``key``, in [0, 1]."""
        t = len(self.topics)
        if t == 1:
            return np.ones(len(key))
        return beta_ppf(key, self.alpha, (t - 1) * self.alpha)

    def interest(
        self, users: np.ndarray, key: np.ndarray, *, rng: np.random.Generator, ranking: np.ndarray | None = None
    ) -> np.ndarray:
        """Interest in the video's true topic mixture, given the ranking-topic quantiles ``key``.

        ``ranking`` is :meth:`ranking_interest` of the same users when it is known already.
        """
        x_r = self.ranking_interest(users, key) if ranking is None else ranking
        t = len(self.topics)
        out = self.video_mix.get(self.topic or "", 0.0) * x_r
        others = [k for k in self.topics if k != self.topic and self.video_mix.get(k, 0.0) > 0]
        if not others:
            return out
        rest = 1.0 - x_r
        for j, topic in enumerate(others):
            remaining_topics = t - 1 - j  # topics left to share `rest` among, this one included
            if remaining_topics <= 1:
                share = rest
            else:
                share = rest * rng.beta(self.alpha, (remaining_topics - 1) * self.alpha, size=len(key))
            out = out + self.video_mix[topic] * share
            rest = rest - share
        return out


class MaterialisedPopulation(_Ranked):
    """Every user drawn up front: interests, sessions per day, time zone; ranked by a sort.

    Interests are Dirichlet(alpha) vectors (normalised Gamma draws, float32);
    the push walks the users in descending interest in the recognised topic,
    skipping the ones already taken. The key of a reached user is its id.
    """

    def __init__(self, config: PopulationConfig, video_mix: dict[str, float], *, rng: np.random.Generator):
        if config.users > MAX_MATERIALISED_USERS:
            raise ValueError(
                f"population.users = {config.users:,} is too large to materialise"
                f" (limit {MAX_MATERIALISED_USERS:,}): use population.representation = 'implicit'"
            )
        super().__init__(config, video_mix, rng=rng)
        n, t = self.n, len(self.topics)
        x = np.empty((n, t), dtype=np.float32)
        for j in range(t):
            x[:, j] = rng.standard_gamma(self.alpha, size=n)
        total = x.sum(axis=1, keepdims=True)
        total[total == 0] = 1.0  # every Gamma draw underflowed (vanishingly rare): no interest at all
        x /= total
        self.interests = x
        self._mix = np.array([video_mix.get(k, 0.0) for k in self.topics], dtype=np.float64)
        rate, _ = self._draw_sessions(n, rng)
        self.rate = np.full(n, rate, dtype=np.float32) if np.ndim(rate) == 0 else np.asarray(rate)
        self.zone = self._draw_zones(n, rng) if len(self._tz) > 1 else None
        self._taken = np.zeros(n, dtype=bool)
        self._order: np.ndarray | None = None
        self._next = 0  # position in the ranking of the first user not looked at yet

    def set_ranking_topic(self, topic: str) -> None:
        """Fix the ranking topic and sort the users by their interest in it (descending)."""
        super().set_ranking_topic(topic)
        if self._order is None:
            col = self.interests[:, self.topics.index(topic)]
            self._order = np.argsort(-col, kind="stable")

    def withhold(self, user: int) -> None:
        """Keep ``user`` (the creator) out of the ranking and out of every delivery."""
        if not self._taken[user]:
            self._taken[user] = True
            self._pool -= 1

    @property
    def materialised_users(self) -> int:
        """Users that exist in memory: all of them."""
        return self.n

    def next_by_affinity(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Reach the next ``k`` untaken users in descending interest; the key is the users."""
        self._require_ranking()
        assert self._order is not None
        k = min(int(k), self._pool)
        parts: list[np.ndarray] = []
        need = k
        while need > 0:
            chunk = self._order[self._next : self._next + 2 * need + 64]
            free = np.flatnonzero(~self._taken[chunk])[:need]
            parts.append(chunk[free])
            need -= len(free)
            self._next += int(free[-1]) + 1 if need == 0 else len(chunk)
        users = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        self._taken[users] = True
        self._pool -= len(users)
        self._reached += len(users)
        return users, users

    def is_reached(self, users: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``users`` were reached already (or are withheld)."""
        return self._taken[users]

    def reach(self, users: np.ndarray, *, rng: np.random.Generator | None = None) -> np.ndarray:
        """Reach distinct, unreached ``users`` outside the ranking; their key is themselves."""
        self._require_ranking()
        users = np.asarray(users, dtype=np.int64)
        self._taken[users] = True
        self._pool -= len(users)
        self._reached += len(users)
        return users

    def sessions(self, users: np.ndarray, *, rng: np.random.Generator) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Sessions per hour and time-zone offset (hours) of ``users``, as drawn at the start."""
        tz: np.ndarray | float = float(self._tz[0]) if self.zone is None else self._tz[self.zone[users]]
        return self.rate[users], tz

    def ranking_interest(self, users: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Interest in the ranking (recognised) topic of the users ``key``, in [0, 1]."""
        self._require_ranking()
        return self.interests[key, self.topics.index(self.topic or "")].astype(np.float64)

    def interest(
        self, users: np.ndarray, key: np.ndarray, *, rng: np.random.Generator, ranking: np.ndarray | None = None
    ) -> np.ndarray:
        """Interest in the video's true topic mixture of the users ``key`` (``ranking`` is not needed)."""
        return self.interests[key].astype(np.float64) @ self._mix
