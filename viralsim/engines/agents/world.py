"""The agent engine's one mutable state: users, videos, inboxes, views, and the session itself.

Users are rows of numpy arrays (interests over topics, session rate, time
zone, pre-drawn session times); the only per-user Python objects are an inbox
list and a generator (:func:`viralsim.engines.agents.processes.user_day`).

How a view happens (the core's semantics, docs/design.md §2): the
platform *delivers* a video to users in vectorised batches (a push cohort, the
creator's followers, a share's recipients). A delivery is kept with the core's
watch probability of its source (crowding by content the run does not
simulate), and its outcome — watch time, completion, actions — is drawn right
then by the same pure behaviour functions as the core
(:mod:`viralsim.model.behaviour`), for the user's interest at that moment.
The kept deliveries wait in the user's inbox for their next session.

A session (:meth:`World.session`, pure Python, no numpy on tiny arrays: it
is the hot loop) ranks the inbox — shares first, then by the predicted value
``sum weight x P(action)`` with a bonus for Following items — and plays items
one by one, picking a random one instead of the best with probability
``agents.exploration``, until the attention budget is spent, satisfaction falls
below ``agents.boredom_below``, the inbox is empty, or the horizon comes. What
it does not reach is lost (one chance, like the core). Each view feeds the KPI
gate of its push stage (the counts in ``gate``, and the event a stage waits on in
``waiting``: both read by :class:`~viralsim.engines.agents.pool.VideoPool`), and a
share delivers to the sharer's contacts at the time of the share. A user with an
empty inbox sleeps (see ``user_day``).
"""

from __future__ import annotations

from array import array
from itertools import repeat
from typing import Any

import numpy as np
import simpy

from viralsim.model.behaviour import ACTION_COLUMNS, Viewing, engagement, mean_watch_fraction, viewing
from viralsim.model.graph import ContactGraph
from viralsim.records import StageRecord
from viralsim.rng import Streams
from viralsim.scenario import Scenario, Video
from viralsim.views import SOURCES

__all__ = ["FLAG_BITS", "Columns", "World", "unpack"]

FOR_YOU, FOLLOWING, SHARE = range(3)
#: Outcome flags of a delivery, one bit each: completed, then every action of ``ACTION_COLUMNS``.
FLAG_BITS = {"completed": 1, **{c: 2 << j for j, c in enumerate(ACTION_COLUMNS)}}
_SHARED, _FOLLOWED = FLAG_BITS["shared"], FLAG_BITS["followed"]
_ACTION_BITS = tuple((3 + j, 2 << j) for j in range(len(ACTION_COLUMNS)))  # (gate slot, bit)
BUDGET, BORED, FEED_EMPTY, HORIZON = range(4)  # codes into log.SESSION_END
# An inbox item is one int: the ranking key quantised to _KEY_BITS in the high bits, the delivery id
# in the low _ID_BITS (one 32-byte int instead of a 100-byte tuple; ints sort fast). Shares get the
# top key: a friend's message is opened first.
_ID_BITS = 36
_ID_MASK = (1 << _ID_BITS) - 1
_KEY_TOP = (1 << 20) - 1
_BUFFER = 1 << 15  # random numbers drawn at once for the hot loop


def unpack(code: np.ndarray) -> dict[str, np.ndarray]:
    """The fields packed in delivery codes: ``video``, ``stage``, ``source`` and outcome ``flags``."""
    return {"video": code >> 20, "stage": (code >> 10) & 1023, "source": (code >> 8) & 3, "flags": code & 255}


class Columns:
    """Append-only numpy columns with amortised doubling (deliveries, indexed by id)."""

    def __init__(self, dtypes: dict[str, Any]) -> None:
        self.n = 0
        self._cols = {k: np.empty(1024, dtype=dt) for k, dt in dtypes.items()}

    def append(self, **values: Any) -> int:
        """Append rows (arrays of one length, or scalars broadcast); return the first new id."""
        k = next(len(v) for v in values.values() if np.ndim(v))
        start, end = self.n, self.n + k
        if end > len(next(iter(self._cols.values()))):
            size = max(end, 2 * self.n)
            for name, col in self._cols.items():
                grown = np.empty(size, dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self._cols[name] = grown
        for name, v in values.items():
            self._cols[name][start:end] = v
        self.n = end
        return start

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name][: self.n]

    def backing(self, name: str) -> np.ndarray:
        """The whole backing array of a column (valid until the next append that grows it)."""
        return self._cols[name]


class World:
    """Users, videos and what happened so far; changed by the platform processes and the sessions."""

    def __init__(
        self, sc: Scenario, streams: Streams, graph: ContactGraph, users: dict[str, np.ndarray], videos: dict[str, Any]
    ) -> None:
        self.scenario = sc  # (scenario, streams, moderation: what the core's moderation processes read)
        self.streams = streams
        self.moderation: dict[str, Any] = {}
        self.recognised_topic: str | None = None
        self.env: simpy.Environment | None = None
        self.graph = graph
        self.horizon = sc.horizon_h
        self.mode = sc.platform.push.mode
        self.interest: np.ndarray = users["interest"]  # (N, T) float32, rows sum to 1
        self.n = len(self.interest)
        self.videos = videos  # creator, topic, rec_topic, appeal, upload_h (arrays), mix (V, T), video (list of Video)
        v = len(videos["appeal"])
        self.reached = np.zeros((v, self.n), dtype=bool)  # delivered already (any source), or the creator
        self.unreached = np.full(v, self.n, dtype=np.int64)
        for i, c in enumerate(videos["creator"].tolist()):
            if c >= 0:
                self.reached[i, c] = True
                self.unreached[i] -= 1
        b = sc.behaviour
        unit = sc.video.model_copy(update={"appeal": 1.0, "originality": 1.0, "trend_boost": 0.0})
        # engagement e itself is the interest of a unit video with no floor: one table serves every video
        self.viewing: Viewing = viewing(
            unit, b.model_copy(update={"interest_floor": 0.0}), sc.population.propensity_spread
        )
        self.score_grid = _score_table(self.viewing, unit, sc)
        top = float(self.score_grid.max()) + sc.agents.following_weight
        self._key_scale = (_KEY_TOP - 1) / top if top > 0 else 0.0  # keys in [0, _KEY_TOP - 1)
        self.duration_s = sc.video.duration_s
        self.deliveries_by_source = dict.fromkeys(SOURCES, 0)
        # one row per delivery (16 bytes): who, what (video, stage, source and outcome flags packed in
        # ``code``, see :func:`unpack`) and the seconds the user would watch
        self.d = Columns({"user": np.int32, "code": np.int64, "watch_s": np.float32})
        self.share_parent: dict[int, int] = {}  # share delivery id -> play index of the sharer's view
        self.posted_h: dict[int, float] = {}  # Following delivery id -> when it was posted (freshness)
        # an inbox holds items (ranking key and delivery id in one int); the rest stays in numpy columns
        self.inbox: list[list[int]] = [[] for _ in range(self.n)]
        self.view_delivery = array("q")  # per view, in the order the sessions played them
        self.view_time = array("d")
        # the sessions that played something (the others are known from the pre-drawn times)
        self.sessions: dict[str, array[Any]] = {
            "index": array("q"),
            "end_h": array("d"),
            "watched": array("l"),
            "ended": array("b"),
        }
        self._columns = tuple(self.sessions.values())
        # an idle user's process sleeps on an event until something is delivered to them
        self.sleeping: list[simpy.Event | None] = [None] * self.n
        self.session_ptr = np.zeros(self.n + 1, dtype=np.int64)  # every user's pre-drawn sessions (CSR)
        self.session_h = np.empty(0)
        self.gate: list[dict[int, list[float]]] = [{} for _ in range(v)]  # video -> stage -> KPI sums
        self.waiting: dict[int, tuple[int, int, simpy.Event]] = {}  # video -> (stage, views wanted, event)
        self.stages: list[StageRecord] = []
        self.cohort_interest: dict[tuple[int, int], float] = {}  # (video, stage) -> sum of interest
        self.stages_reached = np.zeros(v, dtype=np.int16)
        self.stop_reason: list[str | None] = [None] * v
        self.stop_h: list[float | None] = [None] * v
        self.followers: list[list[int]] = videos["followers"]  # creator index -> follower user ids
        self.follower_set = [set(f) for f in self.followers]
        self.creator_index: np.ndarray = videos["creator_index"]  # video -> index into followers (-1: none)
        ag = sc.agents
        self._shares_spread = self.mode != "content"
        self._sharing = sc.platform.sharing
        self._half_life = sc.platform.following.freshness_half_life_h
        self._eps, self._lam, self._bored = ag.exploration, ag.satisfaction_memory, ag.boredom_below
        self._swipe = ag.swipe_s
        self._follow_bonus = ag.following_weight
        self._feed_rng = streams["agents.feed"]
        self._uniform: list[float] = []
        self._budget: list[float] = []
        self._share_rng = streams["shares"]

    # -- random numbers for the hot loop: drawn in bulk, used one by one -----------------------
    def _u01(self) -> float:
        if not self._uniform:
            self._uniform = self._feed_rng.random(_BUFFER).tolist()
        return self._uniform.pop()

    def _attention(self) -> float:
        if not self._budget:
            a = self.scenario.agents.attention_s
            self._budget = (a.median * np.exp(a.spread * self._feed_rng.standard_normal(_BUFFER))).tolist()
        return self._budget.pop()

    # -- deliveries ------------------------------------------------------------------------
    def deliver(
        self,
        v: int,
        users: np.ndarray,
        source: int,
        t_h: float,
        watch_probability: float,
        *,
        rng: np.random.Generator,
        stage: int = 0,
        parent: int = -1,
    ) -> int:
        """Deliver video ``v`` to ``users`` at ``t_h``; return how many were reached for the first time.

        Users reached before (any source) and repeats are skipped; a delivery is kept with
        ``watch_probability`` and its outcome drawn now; kept ones go to the inboxes.
        """
        users = np.asarray(users, dtype=np.int64)
        if len(users) > 1:
            _, first = np.unique(users, return_index=True)
            users = users[np.sort(first)]
        users = users[~self.reached[v, users]]
        k = len(users)
        if k == 0:
            return 0
        self.reached[v, users] = True
        self.unreached[v] -= k
        self.deliveries_by_source[SOURCES[source]] += k
        if watch_probability < 1.0:
            users = users[rng.random(k, dtype=np.float32) < np.float32(watch_probability)]
        m = len(users)
        if m == 0:
            return k
        video: Video = self.videos["video"][v]
        mix = self.videos["mix"][v]
        x = self.interest[users] @ mix if np.count_nonzero(mix) > 1 else self.interest[users, int(np.argmax(mix))]
        b = self.scenario.behaviour
        out = self.viewing.outcomes(engagement(x, video, b), rng=rng)
        flags = out.completed.astype(np.uint8)
        for col, at in out.actions.items():
            flags[at] |= np.uint8(FLAG_BITS[col])
        # the platform's prediction: the true model, at the interest in the *recognised* topic
        predicted = engagement(self.interest[users, int(self.videos["rec_topic"][v])], video, b)
        key = np.interp(predicted, np.linspace(0.0, 1.0, len(self.score_grid)), self.score_grid)
        if source == FOLLOWING:
            key += self._follow_bonus
        key = np.minimum(key * self._key_scale, _KEY_TOP - 1).astype(np.int64)
        if source == SHARE:
            key[:] = _KEY_TOP
        code = (v << 20) | (stage << 10) | (source << 8)  # + flags: what a session needs, in one int
        first_id = self.d.append(user=users, code=flags.astype(np.int64) + code, watch_s=out.watch_s)
        if source == SHARE:
            self.share_parent.update(zip(range(first_id, first_id + m), repeat(parent)))
        elif source == FOLLOWING and self._half_life is not None:
            self.posted_h.update(zip(range(first_id, first_id + m), repeat(t_h)))
        inbox, sleeping = self.inbox, self.sleeping
        items = (key << _ID_BITS) | np.arange(first_id, first_id + m, dtype=np.int64)
        for u, item in zip(users.tolist(), items.tolist(), strict=True):
            box = inbox[u]
            if not box:  # something new for an idle user: wake their process
                wake = sleeping[u]
                if wake is not None:
                    sleeping[u] = None
                    wake.succeed()
            box.append(item)
        return k

    def stop(self, v: int, reason: str, at_h: float) -> None:
        """Why and when the platform stopped distributing ``v`` (first reason wins)."""
        if self.stop_reason[v] is None:
            self.stop_reason[v] = reason
            self.stop_h[v] = at_h

    # -- a session: the hot loop -----------------------------------------------------------------
    def session(self, u: int, t: float, index: int) -> float:
        """User ``u`` opens the app at ``t`` (hours; session ``index`` of the run) and plays their inbox.

        Returns when the session ends (hours): the user's next session starts after it.
        """
        ready = self.inbox[u]
        rec = self._columns  # the played sessions' columns (appended inline: the hot loop)
        if not ready:
            rec[0].append(index)
            rec[1].append(t)
            rec[2].append(0)
            rec[3].append(FEED_EMPTY)
            return t
        self.inbox[u] = []  # what is not played now is gone (one chance, like the core)
        ready.sort()  # ascending keys (ties: the later delivery first): the best item is last
        budget = self._attention()
        eps, lam, bored, swipe, half_life = self._eps, self._lam, self._bored, self._swipe, self._half_life
        inv_dur = 1.0 / self.duration_s
        codes, watch = self.d.backing("code"), self.d.backing("watch_s")
        vd, vt, gate, waiting = self.view_delivery, self.view_time, self.gate, self.waiting
        sat, elapsed, watched, ended = 1.0, 0.0, 0, FEED_EMPTY
        while ready:
            if budget <= 0.0:
                ended = BUDGET
                break
            if sat < bored:
                ended = BORED
                break
            now = t + elapsed / 3600.0
            if now > self.horizon:
                ended = HORIZON
                break
            if eps > 0.0 and len(ready) > 1 and self._u01() < eps:
                d = ready.pop(int(self._u01() * len(ready))) & _ID_MASK
            else:
                d = ready.pop() & _ID_MASK
            code = codes.item(d)
            src = (code >> 8) & 3
            if src == FOLLOWING and half_life is not None:  # buried under newer posts since it was posted
                if self._u01() >= 2.0 ** (-(t - self.posted_h[d]) / half_life):
                    continue
            w = watch.item(d)
            v, fl = code >> 20, code & 255
            vd.append(d)
            vt.append(now)
            watched += 1
            cost = w + swipe
            elapsed += cost
            budget -= cost
            sat += lam * (w * inv_dur - sat)
            if src == FOR_YOU:
                stage = (code >> 10) & 1023
                acc = gate[v][stage]
                acc[0] += 1
                acc[2] += w
                if fl:
                    acc[1] += fl & 1
                    if fl > 1:
                        for slot, bit in _ACTION_BITS:
                            if fl & bit:
                                acc[slot] += 1
                want = waiting.get(v)
                if want is not None and want[0] == stage and acc[0] >= want[1]:
                    del waiting[v]
                    want[2].succeed(now)
            if fl & _SHARED and self._shares_spread:
                self._share(v, u, len(vd) - 1, now)
            if fl & _FOLLOWED:
                self._follow(v, u)
        end = min(t + elapsed / 3600.0, self.horizon)
        rec[0].append(index)
        rec[1].append(end)
        rec[2].append(watched)
        rec[3].append(ended)
        return end

    def _share(self, v: int, u: int, view: int, t_h: float) -> None:
        """User ``u`` shares ``v`` (their view ``view``) at ``t_h``: contacts who open it get a delivery then."""
        rng = self._share_rng
        _, rec = self.graph.recipients(np.array([u], dtype=np.int64), self._sharing.recipients_per_share, rng=rng)
        rec = rec[rng.random(len(rec)) < self._sharing.open_probability]
        if not len(rec):
            return
        assert self.env is not None
        wait = t_h - self.env.now
        if wait <= 0.0:
            self.deliver(v, rec, SHARE, t_h, 1.0, rng=rng, parent=view)
        else:  # a view later in the session: the recipients get it at the time of the share

            def arrive(_: simpy.Event) -> None:
                self.deliver(v, rec, SHARE, t_h, 1.0, rng=rng, parent=view)

            ev = self.env.timeout(wait)
            assert ev.callbacks is not None
            ev.callbacks.append(arrive)

    def _follow(self, v: int, u: int) -> None:
        """User ``u`` follows the creator of ``v`` (their later uploads reach ``u``'s Following feed)."""
        c = int(self.creator_index[v])
        if c >= 0 and u not in self.follower_set[c]:
            self.follower_set[c].add(u)
            self.followers[c].append(u)


def _score_table(view: Viewing, unit: Video, sc: Scenario, points: int = 1025) -> np.ndarray:
    """The predicted value ``sum weight x rate`` of a view at engagement ``e`` on a grid over [0, 1].

    The rates are the behaviour model's: completion (Beta tail), mean watch fraction and
    each action's probability; the weights are ``platform.push.score_weights`` (the
    gate's composite score, here per user as in TikTok's ``sum P(action) x V(action)``).
    """
    from scipy.special import betainc  # (scipy.stats would add ~0.4 s of imports to every run)

    e = np.linspace(0.0, 1.0, points)
    b, w = sc.behaviour, sc.platform.push.score_weights
    mu = mean_watch_fraction(e, unit, b)
    k = b.watch_concentration
    rates = {
        "completion": betainc((1.0 - mu) * k, mu * k, 1.0 - b.completion_at_fraction),  # P(X >= c), X ~ Beta
        "watch_fraction": mu,
        **{
            name: view.probability(col, e)
            for name, col in zip(("like", "comment", "share", "follow", "profile_click"), ACTION_COLUMNS, strict=True)
        },
    }
    return np.asarray(sum(getattr(w, name) * r for name, r in rates.items()), dtype=float)
