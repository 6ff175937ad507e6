"""A small hand-made marketplace run with the agent engine's log layout, for analysis and plot tests.

``fake_run(mode, seed)`` returns an object with ``views`` (the columns of
``viralsim.views.VIEW_COLUMNS``), ``agents`` (the ``AgentLog`` attributes:
``videos``, ``sessions``, ``users``, ``drift``, ``topics``, ``mode``) and ``seed``.
Users open sessions, watch videos one after another inside them, and the
per-video counts are tallied from those views, so the log is consistent with
itself. How a video is picked depends on the mode: ``content`` by appeal,
``social`` by its creator's followers, ``hybrid`` by both.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from viralsim.views import SOURCES, VIEW_COLUMNS

TOPICS = ["animals", "comedy", "diy", "sport"]
ACTIONS = ("liked", "commented", "shared", "followed", "profile_click")


def fake_run(
    mode: str = "content", seed: int = 0, *, users: int = 60, creators: int = 40, videos: int = 150, days: int = 2
) -> Any:
    rng = np.random.default_rng(seed)
    horizon = 24.0 * days
    followers = np.floor(rng.pareto(1.2, creators) * 50).astype(np.int64)
    creator = rng.integers(0, creators, videos)
    appeal = rng.beta(4, 3, videos).astype(np.float32)
    upload = np.sort(rng.uniform(0, horizon * 0.8, videos))
    log_f = np.log1p(followers[creator])
    weight = {"content": 6 * appeal, "social": log_f, "hybrid": 3 * appeal + 0.5 * log_f}[mode]
    weight = np.exp(weight - weight.max())
    tz = rng.choice([-5.0, 0.0, 1.0, 8.0], users).astype(np.float32)

    s_user, s_start, s_end, s_watched, s_ended = [], [], [], [], []
    cols: dict[str, list[Any]] = {k: [] for k in VIEW_COLUMNS}
    for u in range(users):
        t = rng.exponential(6.0)
        while t < horizon:
            n = int(rng.integers(0, 12))
            gaps = rng.uniform(0.005, 0.02, n)  # hours between views (18-72 s)
            times = t + np.cumsum(gaps)
            live = upload <= t
            if n and live.any():
                p = np.where(live, weight, 0.0)
                vids = rng.choice(videos, n, p=p / p.sum())
            else:
                n, times, vids = 0, times[:0], np.empty(0, dtype=np.int64)
            end = min(t + gaps.sum() + 0.01, horizon)
            keep = times <= end
            times, vids = times[keep], vids[keep]
            s_user.append(u)
            s_start.append(t)
            s_end.append(end)
            s_watched.append(len(vids))
            s_ended.append(3 if end >= horizon else int(rng.integers(0, 3)))
            m = len(vids)
            cols["time_h"].append(times)
            cols["user"].append(np.full(m, u))
            cols["video"].append(vids)
            src = {"content": [0.9, 0.1, 0.0], "social": [0.0, 0.8, 0.2], "hybrid": [0.7, 0.2, 0.1]}[mode]
            cols["source"].append(rng.choice(3, m, p=src))
            cols["stage"].append(np.zeros(m))
            cols["watch_s"].append(rng.uniform(1, 30, m))
            cols["completed"].append(rng.random(m) < appeal[vids])
            for a, p_a in zip(ACTIONS, (0.3, 0.05, 0.05, 0.05, 0.1), strict=True):
                cols[a].append(rng.random(m) < p_a)
            cols["parent"].append(np.full(m, -1))
            t = end + rng.exponential(6.0)
    views = {k: np.concatenate(v).astype(VIEW_COLUMNS[k]) for k, v in cols.items()}
    order = np.argsort(views["time_h"], kind="stable")
    views = {k: a[order] for k, a in views.items()}

    def tally(mask: np.ndarray) -> np.ndarray:
        return np.bincount(views["video"][mask], minlength=videos).astype(np.int64)

    every = np.ones(len(order), bool)
    first_view = np.zeros(len(order), bool)
    first_view[np.unique(views["user"].astype(np.int64) * videos + views["video"], return_index=True)[1]] = True
    video_log = {
        "video": np.arange(videos, dtype=np.int32),
        "creator": creator.astype(np.int64),
        "creator_followers": followers[creator],
        "topic": rng.integers(0, len(TOPICS), videos).astype(np.int16),
        "appeal": appeal,
        "upload_h": upload,
        "views": tally(every),
        "unique_viewers": tally(first_view),
        "likes": tally(views["liked"]),
        "comments": tally(views["commented"]),
        "shares": tally(views["shared"]),
        "follows": tally(views["followed"]),
        "completed": tally(views["completed"]),
        **{f"views_{s}": tally(views["source"] == c) for c, s in enumerate(SOURCES)},
        "stages_reached": rng.integers(0, 5, videos).astype(np.int16),
    }
    e0 = rng.uniform(0.8, 1.3, users).astype(np.float32)
    narrowing = {"content": 0.3, "social": 0.05, "hybrid": 0.2}[mode]
    grid = np.linspace(0, horizon, 25)
    log = SimpleNamespace(
        videos=video_log,
        sessions={
            "user": np.asarray(s_user, np.int64),
            "start_h": np.asarray(s_start),
            "end_h": np.asarray(s_end),
            "watched": np.asarray(s_watched, np.int32),
            "ended": np.asarray(s_ended, np.int8),
        },
        users={
            "user": np.arange(users, dtype=np.int64),
            "sessions_per_day": rng.uniform(1, 6, users).astype(np.float32),
            "tz_h": tz,
            "followers": rng.integers(0, 100, users),
            "top_share_start": (0.4 + 0.1 * rng.random(users)).astype(np.float32),
            "top_share_end": (0.4 + narrowing + 0.1 * rng.random(users)).astype(np.float32),
            "entropy_start": e0,
            "entropy_end": (e0 - narrowing * rng.uniform(0.5, 1.5, users)).astype(np.float32),
        },
        drift={
            "time_h": grid,
            "mean_entropy": 1.05 - narrowing * grid / horizon,
            "mean_top_share": 0.45 + narrowing * grid / horizon,
        },
        topics=list(TOPICS),
        mode=mode,
    )
    return SimpleNamespace(views=views, agents=log, seed=seed, variant=mode)
