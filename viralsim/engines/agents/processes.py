"""SimPy processes of the agent engine: users' days and the platform's decisions.

- :func:`user_day` — one user: wait for the next session, play it, repeat; one
  timeout a session (an idle user sleeps until something is delivered); the
  session itself is :meth:`World.session`;
- :func:`upload` — the scenario's one video: moderation (the shared
  :func:`~viralsim.engines.moderation.moderate_upload`), recognition, then :func:`distribute`;
- :func:`market_upload` — a marketplace video: recognised at upload, then distributed;
- :func:`distribute` — the creator's followers (one delivery batch) and, in
  ``content``/``hybrid`` mode, the staged push: the shared
  :func:`~viralsim.engines.push.push` over the video's
  :class:`~viralsim.engines.agents.pool.VideoPool` (cohorts by affinity, gated by
  the KPIs of the views the sessions produce);
- :func:`trickle` — after the push (``agents.trickle``): a decaying trickle of
  viewers from search, the creator's profile and hashtag pages;
- :func:`drift` — every ``drift_interval_h``: what users watched strengthens those
  topics (when ``interest_drift`` > 0), and the narrowness of interests is sampled.

Processes only sequence time; the state changes through :class:`World` (and
:class:`~viralsim.engines.agents.pool.VideoPool`) methods.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import simpy

from viralsim.engines.agents.pool import VideoPool
from viralsim.engines.agents.world import FOLLOWING, World, unpack
from viralsim.engines.moderation import Proc, moderate_upload
from viralsim.engines.push import push
from viralsim.model.behaviour import ACTION_COLUMNS
from viralsim.model.metrics import interest_stats
from viralsim.model.platform import recognise

__all__ = ["distribute", "drift", "market_upload", "trickle", "upload", "user_day"]


def user_day(env: simpy.Environment, world: World, u: int, starts: list[float], first: int) -> Proc:
    """User ``u``'s sessions at the pre-drawn times ``starts`` (hours, increasing; ``first`` the index of the first).

    While the user's inbox is empty their sessions would find nothing new: the process
    sleeps on an event that the next delivery to them triggers, then waits for the first
    session after it (the sessions in between are recorded as ``feed_empty`` from their
    pre-drawn times, without waking anyone). Most sessions of a quiet platform cost nothing.
    A user in a session does not open another: pre-drawn sessions that start before the
    current one ends do not happen (the log leaves them out).
    """
    session, inbox = world.session, world.inbox
    i, n = 0, len(starts)
    while True:
        if not inbox[u]:
            wake = env.event()
            world.sleeping[u] = wake
            yield wake
            i = bisect_right(starts, env.now, i)
        if i >= n:
            return
        t = starts[i]
        yield env.timeout(t - env.now)
        end = session(u, t, first + i)
        i = bisect_right(starts, end, i + 1) if end > t else i + 1


def upload(env: simpy.Environment, world: World) -> Proc:
    """The scenario's one video: the shared moderation, then recognition and distribution."""
    sc = world.scenario
    if (yield from moderate_upload(env, world, simpy.Resource(env, capacity=sc.platform.moderation.moderators))):
        world.stop(0, "removed_by_moderation", env.now)
        return
    topics = list(sc.population.topics)
    rec = recognise(sc.video.main_topic(), topics, sc.platform.recognition, rng=world.streams["recognition"])
    world.videos["rec_topic"][0] = topics.index(rec)
    world.recognised_topic = rec
    distribute(env, world, 0)


def market_upload(env: simpy.Environment, world: World, v: int) -> Proc:
    """Marketplace video ``v``: uploaded at its time, approved, recognised, distributed."""
    yield env.timeout(float(world.videos["upload_h"][v]))
    distribute(env, world, v)


def distribute(env: simpy.Environment, world: World, v: int) -> None:
    """The creator's followers get ``v`` in their Following feed; the push starts (content/hybrid).

    With ``agents.trickle.per_day`` > 0 the video's :func:`trickle` follows the push
    (in ``social`` mode it starts at once).
    """
    sc = world.scenario
    feed = sc.platform.following
    c = int(world.creator_index[v])
    followers = np.asarray(world.followers[c], dtype=np.int64) if c >= 0 else np.empty(0, dtype=np.int64)
    world.videos["followers_at_upload"][v] = len(followers)
    world.deliver(v, followers, FOLLOWING, env.now, feed.watch_probability, rng=world.streams["following"])
    trickling = sc.agents.trickle.per_day > 0
    if sc.platform.push.mode in ("content", "hybrid"):
        pushing = push(env, VideoPool(world, v), sc.platform.push, world.streams["push.pool_size"])
        env.process(_then_trickle(env, world, v, pushing) if trickling else pushing)
    else:
        world.stop(v, "no_push_social_mode", env.now)
        if trickling:
            env.process(trickle(env, world, v))


def _then_trickle(env: simpy.Environment, world: World, v: int, pushing: Proc) -> Proc:
    yield from pushing
    yield from trickle(env, world, v)


def trickle(env: simpy.Environment, world: World, v: int) -> Proc:
    """After the push: every ``interval_h``, a Poisson number of users from search, profile and hashtags.

    The rate per hour is ``per_day / 24`` x the users reached so far, halving every
    ``half_life_h`` since the trickle started; the users are the most interested not
    reached yet (stream ``agents.trickle``), delivered as For You views of the last stage.
    Ends at the horizon, or once the rate falls below one user a thousand hours.
    """
    cfg = world.scenario.agents.trickle
    pool = VideoPool(world, v)
    pool.rng = world.streams["agents.trickle"]
    start, stage = env.now, int(world.stages_reached[v])
    world.gate[v].setdefault(stage, [0.0] * (3 + len(ACTION_COLUMNS)))  # social mode: no stage was opened
    while env.now + cfg.interval_h <= world.horizon:
        yield env.timeout(cfg.interval_h)
        reached = world.n - int(world.unreached[v])
        rate = cfg.per_day / 24.0 * reached * 0.5 ** ((env.now - start) / cfg.half_life_h)
        if rate < 1e-3 or not pool.available():
            return
        k = int(pool.rng.poisson(rate * cfg.interval_h))
        if k:
            pool.deliver(k, stage, env.now)


def drift(env: simpy.Environment, world: World, samples: dict[str, list[float]]) -> Proc:
    """Every ``drift_interval_h``: apply interest drift from the views since, and sample narrowness."""
    ag = world.scenario.agents
    done = 0
    while True:
        top, ent = interest_stats(world.interest)
        samples["time_h"].append(env.now)
        samples["mean_entropy"].append(float(ent.mean()))
        samples["mean_top_share"].append(float(top.mean()))
        if env.now + ag.drift_interval_h > world.horizon:
            return
        yield env.timeout(ag.drift_interval_h)
        if ag.interest_drift > 0 and len(world.view_delivery) > done:
            d = np.asarray(world.view_delivery[done:], dtype=np.int64)
            done += len(d)
            apply_drift(world, d, ag.interest_drift)


def apply_drift(world: World, deliveries: np.ndarray, rate: float) -> None:
    """Reinforce the topics users watched longer than usual, fade those they swiped away.

    Each view multiplies its viewer's interest in the video's topic (mixture) by
    ``exp(rate x (q - mean q))``, ``q`` the fraction watched and the mean taken over the
    interval's views; the interests are then renormalised. Since users watch what
    interests them longer, the loop narrows tastes (the "what you watch" feedback).
    """
    cols = world.d
    users = cols["user"][deliveries]
    q = cols["watch_s"][deliveries].astype(np.float64) / world.duration_s
    mix = world.videos["mix"][unpack(cols["code"][deliveries])["video"]]  # (views, T)
    log_gain = np.zeros(world.interest.shape, dtype=np.float64)
    np.add.at(log_gain, users, (rate * (q - q.mean()))[:, None] * mix)
    touched = np.unique(users)
    x = world.interest[touched] * np.exp(log_gain[touched])
    world.interest[touched] = (x / x.sum(axis=1, keepdims=True)).astype(world.interest.dtype)
