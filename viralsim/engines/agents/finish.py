"""Turn a finished agent world into a :class:`~viralsim.result.RunResult` (pure, vectorised).

The views the sessions played (delivery ids and times) become the views log
(``viralsim.views.VIEW_COLUMNS``, ``video`` filled in);
:func:`~viralsim.views.summarise` and :func:`~viralsim.views.reach_curve`
compute the summary and the curve over all videos from one time-ordered batch
per source, so every key of the core's summary is there. Marketplace-wide
numbers are added (``videos``, ``sessions``, ``gini_views``, ...).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from viralsim.engines.agents.world import FEED_EMPTY, FLAG_BITS, World, unpack
from viralsim.engines.contracts import EngineRun
from viralsim.model.behaviour import ACTION_COLUMNS, ViewOutcomes
from viralsim.model.metrics import gini
from viralsim.records import VIDEO_COLUMNS, AgentLog
from viralsim.result import RunResult
from viralsim.views import SOURCES, VIEW_COLUMNS, Batch, empty_views, reach_curve, summarise, time_order

__all__ = ["finish"]


def _views(world: World) -> dict[str, np.ndarray]:
    """The views log in time order; ``parent`` is the row of the view a share came from."""
    d = world.d
    ids = np.asarray(world.view_delivery, dtype=np.int64)
    n = len(ids)
    if n == 0:
        return {k: np.empty(0, dtype=dt) for k, dt in VIEW_COLUMNS.items()}
    order, sorted_h = time_order(np.asarray(world.view_time, dtype=np.float64))
    rank = np.empty(n, dtype=np.int64)  # play index -> row of the log
    rank[order] = np.arange(n)
    rows = ids[order]
    f = unpack(d["code"][rows])
    flags = f["flags"]
    parent = np.full(n, -1, dtype=np.int64)  # the play index of the sharer's view
    if world.share_parent:
        shared = np.flatnonzero(f["source"] == SOURCES.index("share"))
        parent[shared] = [world.share_parent[i] for i in rows[shared].tolist()]
    views = {
        "time_h": sorted_h,
        "user": d["user"][rows],
        "video": f["video"],
        "source": f["source"],
        "stage": f["stage"],
        "watch_s": d["watch_s"][rows],
        **{c: (flags & FLAG_BITS[c]) > 0 for c in ("completed", *ACTION_COLUMNS)},
        "parent": np.where(parent >= 0, rank[np.maximum(parent, 0)], -1),
    }
    return {k: views[k].astype(dt, copy=False) for k, dt in VIEW_COLUMNS.items()}


def _batches(views: dict[str, np.ndarray]) -> list[Batch]:
    """One time-ordered batch per source, with ``parent`` as append indices (what summarise reads)."""
    src = views["source"]
    n = len(src)
    sizes = np.bincount(src, minlength=len(SOURCES)) if n else np.zeros(len(SOURCES), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    append = np.empty(n, dtype=np.int64)  # row -> append index (batches one after the other)
    out = []
    for code in range(len(SOURCES)):
        rows = np.flatnonzero(src == code)
        append[rows] = starts[code] + np.arange(len(rows))
    for code in range(len(SOURCES)):
        rows = np.flatnonzero(src == code)
        par = views["parent"][rows]
        outcomes = ViewOutcomes(
            views["watch_s"][rows],
            views["completed"][rows],
            {c: np.flatnonzero(views[c][rows]) for c in ACTION_COLUMNS},
        )
        out.append(
            Batch(
                start=int(starts[code]),
                source=code,
                stage=0,
                time_h=views["time_h"][rows],
                user=views["user"][rows],
                outcomes=outcomes,
                parent=append[par] if code == SOURCES.index("share") else None,
            )
        )
    return out


def _video_table(world: World, views: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    vids = world.videos
    n_v = len(vids["appeal"])
    video = views["video"]

    def count(mask: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(video if mask is None else video[mask], minlength=n_v).astype(np.int64)

    cols: dict[str, Any] = {
        "video": np.arange(n_v),
        "creator": vids["creator"],
        "creator_followers": vids["followers_at_upload"],
        "topic": vids["topic"],
        "appeal": vids["appeal"],
        "upload_h": vids["upload_h"],
        "views": count(),
        "unique_viewers": count(),  # a user is delivered a video at most once
        "likes": count(views["liked"]),
        "comments": count(views["commented"]),
        "shares": count(views["shared"]),
        "follows": count(views["followed"]),
        "completed": count(views["completed"]),
        **{f"views_{s}": count(views["source"] == code) for code, s in enumerate(SOURCES)},
        "stages_reached": world.stages_reached,
    }
    return {k: np.asarray(cols[k], dtype=dt) for k, dt in VIDEO_COLUMNS.items()}


def _sessions(world: World) -> dict[str, np.ndarray]:
    """Every pre-drawn session in time order: the played ones as recorded, the others empty."""
    ptr, start = world.session_ptr, world.session_h
    user = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
    end = start.copy()
    watched = np.zeros(len(start), dtype=np.int32)
    ended = np.full(len(start), FEED_EMPTY, dtype=np.int8)
    played = np.asarray(world.sessions["index"], dtype=np.int64)
    end[played] = np.asarray(world.sessions["end_h"], dtype=np.float64)
    watched[played] = np.asarray(world.sessions["watched"], dtype=np.int32)
    ended[played] = np.asarray(world.sessions["ended"], dtype=np.int8)
    # a session that starts while the same user is still in an earlier one never happened
    # (user_day skipped it): the latest end among the user's earlier sessions, by a running max
    # over sessions grouped by user (each user's offset keeps groups apart)
    span = 2.0 * (float(end.max()) + 1.0) if len(end) else 1.0
    busy = np.maximum.accumulate(user * span + end) - user * span
    prev = np.concatenate([[-np.inf], busy[:-1]])
    prev[ptr[:-1][np.diff(ptr) > 0]] = -np.inf  # a user's first session follows nothing
    keep = start > prev
    user, start, end, watched, ended = user[keep], start[keep], end[keep], watched[keep], ended[keep]
    order = np.argsort(start, kind="stable")
    return {
        "user": user[order],
        "start_h": start[order],
        "end_h": end[order],
        "watched": watched[order],
        "ended": ended[order],
    }


def finish(
    world: World, log: AgentLog, *, seed: int, run: int, variant: str | None, record: str, version: str
) -> EngineRun:
    """The run's result: views log, stages, moderation, summary, reach curve and the agent log."""
    sc = world.scenario
    views = _views(world)
    batches = _batches(views)
    one = sc.marketplace is None
    upload_h = float(world.videos["upload_h"][0]) if one else 0.0
    for v in range(len(world.stop_reason)):
        world.stop(v, "horizon", sc.horizon_h)
    summary = summarise(
        batches,
        world.stages,
        population=sc.population.users,
        stages_reached=int(world.stages_reached.max(initial=0)),
        stop_reason=world.stop_reason[0] if one else "horizon",
        deliveries=world.deliveries_by_source,
        upload_h=upload_h,
        sorted_h=views["time_h"],
        fee=sc.creator.fee,
    )
    table = _video_table(world, views)
    sessions = _sessions(world)
    n = len(views["time_h"])
    summary.update(
        unique_viewers=int(len(np.unique(views["user"]))),
        recognised_topic=world.recognised_topic if one else None,
        stop_h=world.stop_h[0] if one else sc.horizon_h,
        engine="agents",
        videos=len(table["video"]),
        sessions=len(sessions["user"]),
        views_per_session=n / len(sessions["user"]) if len(sessions["user"]) else 0.0,
        gini_views=gini(table["views"]),
        cross_posted=False,  # the core's per-platform keys: the agents engine has one platform
        views_first=n,
        views_second=0,
        views_total=n,
        representation="materialised",
        users_materialised=sc.population.users,
    )
    if one:
        moderation = dict(world.moderation)
    else:
        moderation = {
            "path": "auto_approve",
            "decision": "approved",
            "correct": True,
            "delay_h": 0.0,
            "decided_h": float(world.videos["upload_h"].min(initial=0.0)),
            "queue_delay_h": 0.0,
            "review_h": 0.0,
        }
    full = record == "full"
    log = dataclasses.replace(log, videos=table, sessions=sessions)
    result = RunResult(
        scenario=sc,
        seed=seed,
        run=run,
        variant=variant,
        views=views if full else empty_views(),
        stages=world.stages if not one else [{k: x for k, x in row.items() if k != "video"} for row in world.stages],
        moderation=moderation,
        summary=summary,
        reach_curve=reach_curve(batches, sc.horizon_h),
        version=version,
        record=record,
        agents=log,
    )
    return EngineRun(result, [views["time_h"]])
