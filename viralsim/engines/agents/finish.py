"""Turn a finished agent world into a :class:`~viralsim.result.RunResult` (pure, vectorised).

The views the sessions played (delivery ids and times, in play order) become
one time-ordered :class:`~viralsim.views.Batch` per source, from which
:func:`~viralsim.views.summarise` and :func:`~viralsim.views.reach_curve`
compute the summary and the curve over all videos (so every field of the
core's summary is there, with the marketplace-wide ``videos``, ``sessions``,
``gini_views``, ... passed in), and, with ``record = "full"``, the views log
(``viralsim.views.VIEW_COLUMNS``, ``video`` filled in). The stage rows are the
:class:`~viralsim.records.StageRecord` s the shared push loop built (:func:`viralsim.engines.push.stage_row`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from viralsim.engines.agents.world import FEED_EMPTY, FLAG_BITS, World, unpack
from viralsim.engines.contracts import EngineRun, Progress, RunSpec
from viralsim.model.behaviour import ACTION_COLUMNS, ViewOutcomes
from viralsim.model.metrics import gini
from viralsim.records import VIDEO_COLUMNS, AgentLog
from viralsim.views import SOURCES, VIEW_COLUMNS, Batch, empty_views, reach_curve, summarise, time_order

__all__ = ["finish", "progress"]


_SHARE = SOURCES.index("share")


def _plays(world: World) -> dict[str, np.ndarray]:
    """Every view in the order the sessions played them: delivery id, time, user, the packed fields, parent.

    ``parent`` is, for a share view, the play index of the sharer's view (-1 otherwise).
    """
    ids = np.asarray(world.view_delivery, dtype=np.int64)
    # the packed fields in the views log's own (narrow) dtypes: a marketplace plays millions of views
    f: dict[str, np.ndarray] = {
        k: x.astype(VIEW_COLUMNS.get(k, np.uint8)) for k, x in unpack(world.d["code"][ids]).items()
    }
    parent = np.full(len(ids), -1, dtype=np.int64)
    if world.share_parent:
        shared = np.flatnonzero(f["source"] == _SHARE)
        parent[shared] = [world.share_parent[i] for i in ids[shared].tolist()]
    return {
        "delivery": ids,
        "time_h": np.asarray(world.view_time, dtype=np.float64),
        "user": world.d["user"][ids],
        **f,
        "parent": parent,
    }


def _flag(plays: dict[str, np.ndarray], col: str, rows: np.ndarray | None = None) -> np.ndarray:
    """Whether each play (of ``rows``) has the outcome ``col`` (``completed`` or an action)."""
    flags = plays["flags"] if rows is None else plays["flags"][rows]
    return (flags & FLAG_BITS[col]) > 0


def _views(world: World, plays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The views log in time order; ``parent`` is the row of the view a share came from."""
    n = len(plays["time_h"])
    if n == 0:
        return empty_views()
    order, sorted_h = time_order(plays["time_h"])
    rank = np.empty(n, dtype=np.int64)  # play index -> row of the log
    rank[order] = np.arange(n)
    parent = plays["parent"][order]
    views = {
        "time_h": sorted_h,
        "user": plays["user"][order],
        "video": plays["video"][order],
        "source": plays["source"][order],
        "stage": plays["stage"][order],
        "watch_s": world.d["watch_s"][plays["delivery"][order]],
        **{c: _flag(plays, c, order) for c in ("completed", *ACTION_COLUMNS)},
        "parent": np.where(parent >= 0, rank[np.maximum(parent, 0)], -1),
    }
    return {k: views[k].astype(dt, copy=False) for k, dt in VIEW_COLUMNS.items()}


def _batches(world: World, plays: dict[str, np.ndarray]) -> list[Batch]:
    """One time-ordered batch per source, ``parent`` as append indices (what summarise and reach_curve read)."""
    src, time_h = plays["source"], plays["time_h"]
    sizes = np.bincount(src, minlength=len(SOURCES)) if len(src) else np.zeros(len(SOURCES), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    append = np.empty(len(src), dtype=np.int64)  # play index -> append index (batches one after the other)
    ordered = []
    for code in range(len(SOURCES)):
        rows = np.flatnonzero(src == code)
        order, t = time_order(time_h[rows])  # stable: equal times keep their play order
        rows = rows[order]
        append[rows] = starts[code] + np.arange(len(rows))
        ordered.append((rows, t))
    out = []
    for code, (rows, t) in enumerate(ordered):
        outcomes = ViewOutcomes(
            world.d["watch_s"][plays["delivery"][rows]].astype(VIEW_COLUMNS["watch_s"], copy=False),
            _flag(plays, "completed", rows),
            {c: np.flatnonzero(_flag(plays, c, rows)) for c in ACTION_COLUMNS},
        )
        parent = append[plays["parent"][rows]] if code == _SHARE else None
        out.append(Batch(int(starts[code]), code, 0, t, plays["user"][rows], outcomes, parent))
    return out


def _video_table(world: World, plays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    vids = world.videos
    n_v = len(vids["appeal"])
    video = plays["video"]

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
        "likes": count(_flag(plays, "liked")),
        "comments": count(_flag(plays, "commented")),
        "shares": count(_flag(plays, "shared")),
        "follows": count(_flag(plays, "followed")),
        "completed": count(_flag(plays, "completed")),
        **{f"views_{s}": count(plays["source"] == code) for code, s in enumerate(SOURCES)},
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


def progress(world: World, t: float) -> Progress:
    """What the run's result will say about the time before ``t`` (a :class:`~viralsim.engines.contracts.Progress`).

    A session records its plays when it opens, each at or after that time, so every play
    before ``t`` exists once the run has reached ``t``. The plays before ``t`` become batches
    as :func:`finish` makes them (a share's parent, always an earlier play, renumbered), so
    the curve is the final curve's start. A marketplace reports its stage rows so far and no
    stop (its push never stops as a whole).
    """
    sc = world.scenario
    plays = _plays(world)
    before = plays["time_h"] < t
    kept = np.cumsum(before) - 1  # play index -> index among the plays before t
    plays = {k: v[before] for k, v in plays.items()}
    plays["parent"] = np.where(plays["parent"] >= 0, kept[np.maximum(plays["parent"], 0)], -1)
    batches = _batches(world, plays)
    curve = reach_curve(batches, sc.horizon_h)
    shown = curve["time_h"] < t
    one = sc.marketplace is None
    stop_h = world.stop_h[0] if one else None
    return Progress(
        time_h=t,
        views_by_source={name: len(b) for name, b in zip(SOURCES, batches, strict=True)},
        shares=int(_flag(plays, "shared").sum()),
        reach_curve={k: v[shown] for k, v in curve.items()},
        stages=tuple(world.stages),
        stages_reached=int(world.stages_reached.max(initial=0)),
        stop_reason=world.stop_reason[0] if one else None,
        stop_h=None if stop_h is None else stop_h - float(world.videos["upload_h"][0]),
    )


def finish(world: World, log: AgentLog, spec: RunSpec) -> EngineRun:
    """The run's result: views log, stages, moderation, summary, reach curve and the agent log."""
    sc = world.scenario
    plays = _plays(world)
    batches = _batches(world, plays)
    full = spec.record == "full"
    views = _views(world, plays) if full else empty_views()
    one = sc.marketplace is None
    upload_h = float(world.videos["upload_h"][0]) if one else 0.0
    for v in range(len(world.stop_reason)):
        world.stop(v, "horizon", sc.horizon_h)
    table = _video_table(world, plays)
    sessions = _sessions(world)
    n, n_sessions = len(plays["time_h"]), len(sessions["user"])
    summary = summarise(
        batches,
        world.stages,
        population=sc.population.users,
        stages_reached=int(world.stages_reached.max(initial=0)),
        stop_reason=world.stop_reason[0] if one else "horizon",
        deliveries=world.deliveries_by_source,
        upload_h=upload_h,
        recognised_topic=world.recognised_topic if one else None,
        representation="materialised",
        users_materialised=sc.population.users,
        stop_h=world.stop_h[0] if one else sc.horizon_h,
        sorted_h=views["time_h"] if full else None,
        fee=sc.creator.fee,
        unique_viewers=int(len(np.unique(plays["user"]))),
        engine="agents",
        videos=len(table["video"]),
        sessions=n_sessions,
        views_per_session=n / n_sessions if n_sessions else 0.0,
        gini_views=gini(table["views"]),
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
    log = dataclasses.replace(log, videos=table, sessions=sessions)
    result = spec.result(
        sc,
        views=views,
        stages=world.stages,
        moderation=moderation,
        summary=summary,
        reach_curve=reach_curve(batches, sc.horizon_h),
        agents=log,
    )
    return EngineRun(result, [b.time_h for b in batches])
