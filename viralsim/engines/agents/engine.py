"""The agent engine: ``simulate(scenario)`` with ``engine = "agents"``.

Builds the world before t = 0 — every user materialised (interests, session
rate, time zone, session times for the whole horizon), the social graph, the
videos (the scenario's one video, or a ``[marketplace]`` of creators and
uploads) — starts one SimPy process per user and the platform's processes,
runs to the horizon, and returns the same :class:`~viralsim.result.RunResult`
as the cohort engine, with an :class:`~viralsim.records.AgentLog` in ``agents``.

Agreement with the core. Without a marketplace the mechanics are the core's:
the same moderation, recognition, cohorts by affinity, batch pacing, KPI gate
and stage timing, the same per-source watch probabilities, one chance per
delivery at the user's next session (the session process is Poisson, so a
delivery waits the same time in distribution), the same behaviour functions
and the same share cascade. The two engines then agree in distribution
(tests/test_agents_agreement.py). Where they differ by design:

- the agents engine draws a user's interests, session rate and time zone once;
  the core draws them when the user is reached (same distribution per user);
- the agents engine has no cross-post, no publishing before a pending review
  and no human review between stages (refused by :func:`viralsim.engines.agents.memory.problems`);
- in a session the first view starts the session and later views follow after
  the earlier ones' watch time (the core puts each view at the session start);
  with one video a user has at most one item per session, so this only matters
  in a marketplace, where a full inbox is also cut by attention and boredom.

No IO, no printing, no global randomness.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np
import simpy

from viralsim.engines.agents import memory
from viralsim.engines.agents.finish import finish, progress
from viralsim.engines.agents.processes import drift, market_upload, upload, user_day
from viralsim.engines.agents.world import World
from viralsim.engines.contracts import EngineRun, Record, RunSpec, run_watched
from viralsim.model.graph import ContactGraph, CSRGraph, scenario_graph
from viralsim.model.metrics import interest_stats
from viralsim.model.platform import recognise
from viralsim.model.sessions import SessionClock
from viralsim.records import AgentLog
from viralsim.rng import Streams
from viralsim.scenario import Problem, Scenario

__all__ = ["ENGINE", "AgentEngine", "session_times"]


class AgentEngine:
    """The agent engine behind the :class:`~viralsim.engines.contracts.Engine` contract."""

    name = "agents"

    def run(self, sc: Scenario, spec: RunSpec) -> EngineRun:
        """Simulate a checked scenario (variant applied); see :func:`viralsim.simulate`."""
        return _simulate(sc, spec)

    def problems(self, sc: Scenario, *, record: Record, memory_limit: int) -> list[Problem]:
        """What this engine refuses; see :func:`viralsim.engines.agents.memory.problems`."""
        return memory.problems(sc, record=record, memory_limit=memory_limit)

    def memory_estimate(self, sc: Scenario, record: Record = "summary") -> float:
        """Peak bytes of one run; see :func:`viralsim.engines.agents.memory.agent_memory_estimate`."""
        return memory.agent_memory_estimate(sc)


#: The engine instance the registry of :mod:`viralsim.engines` dispatches to.
ENGINE = AgentEngine()


def _simulate(sc: Scenario, spec: RunSpec) -> EngineRun:
    """Build the world, run it to the horizon, and finish the result."""
    streams = spec.streams()
    users = _users(sc, streams)
    g = scenario_graph(sc.social_graph, sc.population.users, spec.graph, rng=streams["graph"])
    videos = _market(sc, streams, users) if sc.marketplace is not None else _one_video(sc, streams, g)
    world = World(sc, streams, g, users, videos)
    world.session_ptr, world.session_h = users["session_ptr"], users["session_h"]
    env = simpy.Environment()
    world.env = env
    start = users["interest"].copy()
    ptr, times = users["session_ptr"], users["session_h"]
    for u in range(world.n):
        lo, hi = ptr[u], ptr[u + 1]
        if hi > lo:
            env.process(user_day(env, world, u, times[lo:hi].tolist(), int(lo)))
    if sc.marketplace is None:
        env.process(upload(env, world))
    else:
        for v in range(len(videos["appeal"])):
            env.process(market_upload(env, world, v))
    samples: dict[str, list[float]] = {"time_h": [], "mean_entropy": [], "mean_top_share": []}
    env.process(drift(env, world, samples))
    # millions of small tuples (inbox items) and no reference cycles: the cyclic garbage collector
    # would rescan them all again and again (measured: half the run time); paused for the run only
    paused = gc.isenabled()
    gc.disable()
    try:
        run_watched(env, sc.horizon_h, spec.watch, lambda t: progress(world, t))
    finally:
        if paused:
            gc.enable()
    top0, ent0 = interest_stats(start)
    top1, ent1 = interest_stats(world.interest)
    user_cols: dict[str, np.ndarray] = {
        "user": np.arange(world.n, dtype=np.int64),
        "sessions_per_day": (users["rate"] * 24.0).astype(np.float32),
        "tz_h": users["tz"].astype(np.float32),
        "followers": np.zeros(world.n, dtype=np.int64),
        "top_share_start": top0.astype(np.float32),
        "top_share_end": top1.astype(np.float32),
        "entropy_start": ent0.astype(np.float32),
        "entropy_end": ent1.astype(np.float32),
    }
    for c, user in enumerate(videos["creator_user"].tolist()):
        if user >= 0:
            user_cols["followers"][user] = len(world.followers[c])
    drift_cols = {k: np.asarray(x, dtype=np.float64) for k, x in samples.items()}
    log = AgentLog(
        videos={},
        sessions={},
        users=user_cols,
        drift=drift_cols,
        topics=list(sc.population.topics),
        mode=sc.platform.push.mode,
    )
    return finish(world, log, spec)


def _users(sc: Scenario, streams: Streams) -> dict[str, np.ndarray]:
    """Every user: interests (Dirichlet), session rate and time zone, and their session times."""
    pop = sc.population
    rng = streams["agents.population"]
    n, t = pop.users, len(pop.topics)
    alpha = np.full(t, pop.interest_concentration)
    m = sc.marketplace
    if m is not None and m.topic_mix is not None:  # tastes follow the marketplace's topic mix (mean = mix)
        w = np.array([m.topic_mix.get(k, 0.0) for k in pop.topics])
        alpha = np.maximum(pop.interest_concentration * t * w / w.sum(), 1e-3)
    g = rng.standard_gamma(alpha, size=(n, t))
    total = g.sum(axis=1, keepdims=True)
    interest = np.where(total > 0, g / np.where(total > 0, total, 1.0), 1.0 / t).astype(np.float32)
    c = pop.sessions_per_day
    rate = (c.median / 24.0) * np.exp(c.spread * rng.standard_normal(n))
    offsets = np.asarray(pop.timezone_offsets_h, dtype=float)
    w_tz = np.asarray(pop.timezone_weights or [1.0] * len(offsets), dtype=float)
    tz = offsets[
        np.minimum(np.searchsorted(np.cumsum(w_tz / w_tz.sum()), rng.random(n), side="right"), len(offsets) - 1)
    ]
    ptr, times = session_times(
        SessionClock(pop.diurnal_profile), rate, tz, sc.horizon_h, rng=streams["agents.sessions"]
    )
    return {"interest": interest, "rate": rate, "tz": tz, "session_ptr": ptr, "session_h": times}


def session_times(
    clock: SessionClock, rate_per_h: np.ndarray, tz_h: np.ndarray, horizon_h: float, *, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Every user's session times up to ``horizon_h`` (the diurnal Poisson process), as CSR.

    Returns ``(ptr, times)``: user u's sessions are ``times[ptr[u]:ptr[u+1]]``, increasing.
    Drawn one session of every still-active user per vectorised step.
    """
    n = len(rate_per_h)
    now = np.zeros(n)
    active = np.arange(n)
    who, when = [], []
    while len(active):
        nxt = clock.next_session(now[active], rate_per_h[active], tz_h[active], rng=rng)
        ok = nxt < horizon_h
        active = active[ok]
        now[active] = nxt[ok]
        who.append(active)
        when.append(nxt[ok])
    u = np.concatenate(who) if who else np.empty(0, dtype=np.int64)
    t = np.concatenate(when) if when else np.empty(0)
    order = np.argsort(u, kind="stable")  # within a user, the steps came in time order
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u, minlength=n), out=ptr[1:])
    return ptr, t[order]


def _one_video(sc: Scenario, streams: Streams, g: ContactGraph) -> dict[str, Any]:
    """The scenario's video as a marketplace of one (its followers drawn like the core's)."""
    topics = list(sc.population.topics)
    mix = sc.video.mix()
    creator = sc.creator.user if isinstance(g, CSRGraph) and sc.creator.user is not None else -1
    followers = g.followers(None if creator < 0 else creator, sc.creator.followers, rng=streams["following"])
    followers = followers[followers != creator]
    return {
        "creator": np.array([creator], dtype=np.int64),
        "creator_index": np.array([0], dtype=np.int64),
        "creator_user": np.array([creator], dtype=np.int64),
        "followers": [followers.tolist()],
        "topic": np.array([topics.index(sc.video.main_topic())], dtype=np.int16),
        "rec_topic": np.array([topics.index(sc.video.main_topic())], dtype=np.int16),
        "appeal": np.array([sc.video.appeal], dtype=np.float32),
        "upload_h": np.array([sc.video.upload_h]),
        "followers_at_upload": np.zeros(1, dtype=np.int64),
        "mix": np.array([[mix.get(k, 0.0) for k in topics]]),
        "video": [sc.video],
    }


def _market(sc: Scenario, streams: Streams, users: dict[str, np.ndarray]) -> dict[str, Any]:
    """Creators (distinct users, heavy-tailed followings, one topic each) and their uploads."""
    m = sc.marketplace
    assert m is not None
    rng = streams["agents.market"]
    n, topics = sc.population.users, list(sc.population.topics)
    w = np.array([1.0 if m.topic_mix is None else m.topic_mix.get(k, 0.0) for k in topics])
    creators = rng.choice(n, size=m.creators, replace=False)
    c_topic = rng.choice(len(topics), size=m.creators, p=w / w.sum())
    counts = np.minimum(
        np.round(m.followers.median * np.exp(m.followers.spread * rng.standard_normal(m.creators))), n - 1
    )
    followers = []
    for c, k in zip(creators.tolist(), counts.astype(np.int64).tolist(), strict=True):
        f = rng.choice(n - 1, size=k, replace=False)
        followers.append((f + (f >= c)).tolist())  # anyone but the creator
    v = m.videos(sc.horizon_h)
    upload_h = np.sort(rng.random(v)) * sc.horizon_h
    who = rng.integers(0, m.creators, size=v)
    a = m.appeal
    appeal = rng.beta(a.mean * a.concentration, (1.0 - a.mean) * a.concentration, size=v).astype(np.float32)
    topic = c_topic[who]
    rec_rng = streams["recognition"]
    rec = np.array(
        [topics.index(recognise(topics[t], topics, sc.platform.recognition, rng=rec_rng)) for t in topic.tolist()]
    )
    mix = np.zeros((v, len(topics)))
    mix[np.arange(v), topic] = 1.0
    return {
        "creator": creators[who].astype(np.int64),
        "creator_index": who.astype(np.int64),
        "creator_user": creators.astype(np.int64),
        "followers": followers,
        "topic": topic.astype(np.int16),
        "rec_topic": rec.astype(np.int16),
        "appeal": appeal,
        "upload_h": upload_h,
        "followers_at_upload": np.zeros(v, dtype=np.int64),
        "mix": mix,
        "video": [sc.video.model_copy(update={"appeal": float(x)}) for x in appeal.tolist()],
    }
