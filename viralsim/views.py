"""Views: the columns every engine produces, and what is computed from them.

An engine appends :class:`Batch` es of views (columns, each batch in time
order) as it runs; this module turns them into the views log
(:func:`views_log`), the reach curve (:func:`reach_curve`) and the
:class:`~viralsim.records.Summary` (:func:`summarise`). It knows no engine and does no IO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from viralsim.model.behaviour import ACTION_COLUMNS, ViewOutcomes
from viralsim.model.metrics import cascade_stats
from viralsim.records import Summary

__all__ = [
    "ENGAGED_BY",
    "SOURCES",
    "VIEW_COLUMNS",
    "Batch",
    "empty_views",
    "engaged_count",
    "reach_curve",
    "summarise",
    "time_order",
    "views_log",
]

#: View sources, by code: the For You push, the Following feed, a share.
SOURCES = ("for_you", "following", "share")

#: Columns of the views log and their dtypes.
VIEW_COLUMNS = {
    "time_h": np.float64,
    "user": np.int64,
    "video": np.int32,
    "source": np.int8,
    "stage": np.int16,
    "watch_s": np.float32,
    "completed": np.bool_,
    "liked": np.bool_,
    "commented": np.bool_,
    "shared": np.bool_,
    "followed": np.bool_,
    "profile_click": np.bool_,
    "parent": np.int64,
}


def time_order(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stable argsort of non-negative ``times`` (equal times keep their append order), and the sorted times.

    Sorting integers is ~1.5x faster than an argsort of floats: each time is
    quantised to the high bits of an int64 and its index fills the low bits. Views
    closer than the quantum (``max(times) / 2**(62 - log2 n)``, ~1e-11 h) that the
    quantum put out of order are re-sorted within their quantum; if there are many,
    fall back to a plain stable argsort.
    """
    n = len(times)
    bits = max(1, (n - 1).bit_length())
    top = float(times.max()) if n else 0.0
    if n < 2 or bits > 40 or top <= 0.0:
        order = np.argsort(times, kind="stable")
        return order, times[order]
    key = (times * (float(2 ** (62 - bits)) / top)).astype(np.int64)  # top maps to 2^62: no overflow
    key <<= bits
    key |= np.arange(n)
    key.sort()
    order = key & ((1 << bits) - 1)
    t = times[order]
    bad = np.flatnonzero(t[1:] < t[:-1])
    if len(bad) > 64:  # many views closer than the quantum: sort the plain way
        order = np.argsort(times, kind="stable")
        return order, times[order]
    if len(bad):  # a few: re-sort each run of equal quanta by (time, index)
        quantum = key >> bits
        for b in bad.tolist():
            lo = int(np.searchsorted(quantum, quantum[b], side="left"))
            hi = int(np.searchsorted(quantum, quantum[b], side="right"))
            run = order[lo:hi]
            order[lo:hi] = run[np.lexsort((run, times[run]))]
        t = times[order]
    return order, t


def empty_views() -> dict[str, np.ndarray]:
    """Zero-length columns of the views log (a summary-only run's ``views``)."""
    return {k: np.empty(0, dtype=dt) for k, dt in VIEW_COLUMNS.items()}


@dataclass
class Batch:
    """The views that followed one batch of deliveries, sorted by time.

    ``start`` is the index of the first view in the run's append order (the
    order of batches, then of time within a batch); ``parent`` holds, for share
    views, the append index of the view each came from. Engines append batches
    as they run; :func:`summarise`, :func:`reach_curve` and :func:`views_log`
    read them.
    """

    start: int
    source: int  # code into SOURCES
    stage: int  # push stage (0: not the push)
    time_h: np.ndarray
    user: np.ndarray
    outcomes: ViewOutcomes
    parent: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.time_h)

    def head(self, k: int) -> Batch:
        """The first ``k`` views (those up to some time)."""
        return Batch(
            self.start,
            self.source,
            self.stage,
            self.time_h[:k],
            self.user[:k],
            self.outcomes.head(k),
            None if self.parent is None else self.parent[:k],
        )


def reach_curve(batches: Sequence[Batch], horizon_h: float, points: int = 241) -> dict[str, np.ndarray]:
    """Cumulative views, total and by source, on a regular grid over ``[0, horizon_h]``."""
    grid = np.linspace(0.0, horizon_h, points)
    by_source = np.zeros((len(SOURCES), points), dtype=np.int64)
    for b in batches:  # each batch is sorted by time and has one source
        by_source[b.source] += np.searchsorted(b.time_h, grid, side="right")
    out = {"time_h": grid, "total": by_source.sum(axis=0)}
    for code, name in enumerate(SOURCES):
        out[name] = by_source[code]
    return out


def views_log(batches: Sequence[Batch]) -> dict[str, np.ndarray]:
    """The views log: one row per view, sorted by time; ``parent`` is a row of the log."""
    n = sum(len(b) for b in batches)
    if n == 0:
        return {k: np.empty(0, dtype=dt) for k, dt in VIEW_COLUMNS.items()}
    times = np.concatenate([b.time_h for b in batches])
    order, sorted_h = time_order(times)
    rank = np.empty(n, dtype=np.int64)  # append index -> row of the log
    rank[order] = np.arange(n)
    views: dict[str, np.ndarray] = {k: np.empty(n, dtype=dt) for k, dt in VIEW_COLUMNS.items()}
    views["time_h"] = sorted_h
    for col in ("video", *ACTION_COLUMNS):
        views[col] = np.zeros(n, dtype=VIEW_COLUMNS[col])
    for b in batches:  # scatter each batch into time order: one copy per column
        rows = rank[b.start : b.start + len(b)]
        views["user"][rows] = b.user
        views["source"][rows] = b.source
        views["stage"][rows] = b.stage
        views["watch_s"][rows] = b.outcomes.watch_s
        views["completed"][rows] = b.outcomes.completed
        for col, at in b.outcomes.actions.items():
            views[col][rows[at]] = True
        views["parent"][rows] = -1 if b.parent is None else rank[b.parent]
    return {k: views[k] for k in VIEW_COLUMNS}


#: The actions that make a view *engaged* (besides completing it): a profile click alone does not.
ENGAGED_BY = ("liked", "commented", "shared", "followed")


def engaged_count(outcomes: ViewOutcomes) -> int:
    """Views that were completed or took one of the :data:`ENGAGED_BY` actions (each counted once)."""
    n = len(outcomes)
    if n == 0:
        return 0
    mask = outcomes.completed.copy()
    for col in ENGAGED_BY:
        mask[outcomes.actions[col]] = True
    return int(np.count_nonzero(mask))


class _Hours:
    """Views by whole hour after ``origin`` of a run's batches (each sorted by time), without gathering every view time.

    ``below[j, h]`` counts the views of batch j before ``origin + h`` (``h = 0 .. H + 1``, H the
    hour of the last view after the origin), so the hourly histogram (hour k holds the views from
    ``origin + k`` to ``origin + k + 1``) and the hour holding the n-th view come from a few
    binary searches; only that hour's views are read.
    """

    def __init__(self, batches: Sequence[Batch], origin: float = 0.0) -> None:
        self.times = [b.time_h for b in batches if len(b)]
        top = max((float(t[-1]) for t in self.times), default=origin)
        edges = origin + np.arange(int(np.floor(max(top - origin, 0.0))) + 2, dtype=np.float64)
        self.below = np.array([np.searchsorted(t, edges, side="left") for t in self.times], dtype=np.int64)
        self.cum = self.below.sum(axis=0) if self.times else np.zeros(len(edges), dtype=np.int64)

    def histogram(self) -> np.ndarray:
        """Views in each hour ``0 .. H`` after the origin."""
        return np.diff(self.cum)

    def nth(self, n: int) -> float | None:
        """Time of the n-th view (1-based; None if there were fewer)."""
        if self.cum[-1] < n:
            return None
        h = int(np.searchsorted(self.cum, n, side="left")) - 1  # cum[h] < n <= cum[h + 1]
        bounds = zip(self.times, self.below[:, h].tolist(), self.below[:, h + 1].tolist(), strict=True)
        hour = np.concatenate([t[lo:hi] for t, lo, hi in bounds])
        k = n - int(self.cum[h]) - 1
        return float(np.partition(hour, k)[k])


def summarise(
    batches: Sequence[Batch],
    stages: Sequence[Mapping[str, Any]],
    *,
    population: int,
    stages_reached: int,
    stop_reason: str | None,
    deliveries: dict[str, int],
    upload_h: float,
    recognised_topic: str | None,
    representation: str,
    users_materialised: int,
    stop_h: float | None,
    sorted_h: np.ndarray | None = None,
    fee: float | None = None,
    unique_viewers: int | None = None,
    engine: str | None = None,
    videos: int | None = None,
    sessions: int | None = None,
    views_per_session: float | None = None,
    gini_views: float | None = None,
) -> Summary:
    """The :class:`~viralsim.records.Summary` of a run's view batches (independent of their order).

    ``sorted_h``, every view time in order (the views log's), saves a selection;
    it does not change any value. Each batch must be sorted by time (as :class:`Batch` says). ``fee`` (currency units, ``creator.fee``) gives
    ``cost_per_engaged_view``; an *engaged view* is one that was completed or
    liked, commented, shared or followed from (:data:`ENGAGED_BY`).
    ``unique_viewers`` defaults to the views (an engine that delivers a video to a
    user at most once); ``recognised_topic``, ``representation``,
    ``users_materialised`` and ``stop_h`` are the engine's (``stop_h`` on the simulation clock, like the view
    times; the summary holds it, like ``peak_rate_h``, in hours after ``upload_h``); ``engine``, ``videos``,
    ``sessions``, ``views_per_session`` and ``gini_views`` the optional fields of an
    engine that has them (the agent engine). The per-platform fields say "not cross-posted"
    (:meth:`~viralsim.records.Summary.with_platforms` makes the cross-post's).
    """
    n = sum(len(b) for b in batches)
    by_source = dict.fromkeys(SOURCES, 0)
    counts = dict.fromkeys(("completed", *ACTION_COLUMNS), 0)
    engaged = 0
    for b in batches:
        by_source[SOURCES[b.source]] += len(b)
        counts["completed"] += int(np.count_nonzero(b.outcomes.completed))
        for col, at in b.outcomes.actions.items():
            counts[col] += len(at)
        engaged += engaged_count(b.outcomes)
    hours = _Hours(batches, origin=upload_h)  # hour bins counted from the upload
    if sorted_h is None:
        nth = {k: hours.nth(k) for k in (10_000, 100_000)}
    else:
        nth = {k: float(sorted_h[k - 1]) if len(sorted_h) >= k else None for k in (10_000, 100_000)}
    time_to = {k: None if at is None else at - upload_h for k, at in nth.items()}
    # the spread tree: the upload, one node per view; share views hang from the view they came from
    shares_in = [b for b in batches if b.parent is not None and len(b)]
    child = (
        np.concatenate([b.start + np.arange(len(b)) for b in shares_in]) if shares_in else np.empty(0, dtype=np.int64)
    )
    parent = (
        np.concatenate([b.parent for b in shares_in if b.parent is not None])
        if shares_in
        else np.empty(0, dtype=np.int64)
    )
    tree = cascade_stats(n, child, parent)
    hist = hours.histogram() if n else np.zeros(1, dtype=np.int64)
    shares = counts["shared"]
    return Summary(
        views=n,
        # by default a user is delivered to at most once, so every view has its own viewer
        unique_viewers=n if unique_viewers is None else unique_viewers,
        population=population,
        deliveries=dict(deliveries),
        likes=counts["liked"],
        comments=counts["commented"],
        shares=shares,
        follows=counts["followed"],
        profile_clicks=counts["profile_click"],
        completions=counts["completed"],
        engaged_views=engaged,
        cost_per_engaged_view=fee / engaged if fee is not None and engaged else None,
        share_to_view=shares / n if n else 0.0,
        views_by_source=by_source,
        algorithmic_share=by_source["for_you"] / n if n else 0.0,
        stages_reached=stages_reached,
        stages_passed=int(sum(1 for s in stages if s["passed"])),
        stop_reason=stop_reason,
        peak_rate_h=float(np.argmax(hist)) if n else None,
        peak_rate_views_per_h=int(hist.max()) if n else 0,
        time_to_10k_views_h=time_to[10_000],
        time_to_100k_views_h=time_to[100_000],
        cascade_views=by_source["share"],
        cascade_depth=tree["depth"] - 1 if n else 0,
        cascade_max_breadth=max(tree["breadth_by_depth"][2:], default=0),
        structural_virality=tree["structural_virality"],
        recognised_topic=recognised_topic,
        representation=representation,
        users_materialised=users_materialised,
        stop_h=None if stop_h is None else stop_h - upload_h,
        cross_posted=False,
        views_first=n,
        views_second=0,
        views_total=n,
        engine=engine,
        videos=videos,
        sessions=sessions,
        views_per_session=views_per_session,
        gini_views=gini_views,
    )
