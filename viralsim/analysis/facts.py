"""The stylised facts of short-video platforms, each measured from plain arrays (pure functions).

Every function here takes numpy arrays — views per video, a views log's columns,
the stall time of each video — and returns one number (or a small dict), so each
is unit-tested on hand-made data. Which published band each measure is checked
against, and how runs become these arrays, is :mod:`viralsim.analysis.stylised`.

The measures (docs/realism.md says where each published figure comes from):

- concentration of views per video: :func:`gini_views`, :func:`mean_to_median`,
  :func:`lognormal_body_distance` (how far the body of log views is from a normal);
- per view: :func:`per_view_rates` (likes, comments, shares), :func:`watched_fraction`;
- where views come from: :func:`for_you_share` (overall and by follower band);
- share cascades: :func:`cascade_trees` (size, depth and structural virality of the
  tree below every view that did not come by a share), :func:`shallow_share`,
  :func:`virality_slope`, :func:`doubling_probability`;
- view curves: :func:`step_ups` (views just after a promotion vs just before) and
  :func:`trickle_share` (stalled videos that keep gathering views a day later).

No IO, no printing, no simulation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from viralsim.analysis.inequality import gini
from viralsim.model.metrics import structural_virality

__all__ = [
    "cascade_trees",
    "doubling_probability",
    "for_you_share",
    "gini_views",
    "lognormal_body_distance",
    "mean_to_median",
    "per_view_rates",
    "shallow_share",
    "step_ups",
    "trickle_share",
    "virality_slope",
    "watched_fraction",
]


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).ravel()


# -- how unequal views are -------------------------------------------------------------------------
def gini_views(views: Any) -> float:
    """Gini coefficient of views per video (NaN for no video)."""
    return gini(np.asarray(views).ravel())


def mean_to_median(views: Any) -> float:
    """Mean views per video over the median (heavy upper tail: far above 1). NaN without videos or a median of 0."""
    v = _f64(views)
    if not len(v):
        return math.nan
    med = float(np.median(v))
    return float(v.mean()) / med if med > 0 else math.nan


def lognormal_body_distance(views: Any, body: tuple[float, float] = (0.1, 0.9)) -> float:
    """How far the body of log(views) is from a normal: the largest CDF gap inside the central quantiles.

    The normal is fitted robustly (location: the median of log views; scale: the
    interquartile range / 1.349) on the videos with at least one view, and the gap
    ``|F_empirical - Phi|`` is taken at the values between the ``body`` quantiles, so
    a heavy upper tail does not count against it. 0 for a log-normal sample (up to
    sampling noise, ~1/sqrt(n)); a sample piled on a few values (steps) gives a large gap.
    NaN with fewer than 10 videos with views.
    """
    v = _f64(views)
    x = np.sort(np.log(v[v > 0]))
    n = len(x)
    if n < 10:
        return math.nan
    from scipy.special import ndtr

    loc = float(np.median(x))
    q1, q3 = np.quantile(x, [0.25, 0.75])
    scale = float(q3 - q1) / 1.349
    if scale <= 0:
        return 1.0  # every video in the body has the same views: nothing like a log-normal
    lo, hi = np.quantile(x, body)
    inside = (x >= lo) & (x <= hi)
    below = np.searchsorted(x, x, side="left") / n  # F just before each value
    upto = np.searchsorted(x, x, side="right") / n  # F at each value
    phi = ndtr((x - loc) / scale)
    gap = np.maximum(np.abs(upto - phi), np.abs(below - phi))
    return float(gap[inside].max()) if inside.any() else math.nan


# -- per view --------------------------------------------------------------------------------------
def per_view_rates(likes: Any, comments: Any, shares: Any, views: Any) -> dict[str, float]:
    """Likes, comments and shares per view, pooled over videos (``like``, ``comment``, ``share``; NaN without views)."""
    total = float(_f64(views).sum())
    if total <= 0:
        return {"like": math.nan, "comment": math.nan, "share": math.nan}
    return {
        "like": float(_f64(likes).sum()) / total,
        "comment": float(_f64(comments).sum()) / total,
        "share": float(_f64(shares).sum()) / total,
    }


def watched_fraction(watch_s: Any, duration_s: Any) -> float:
    """Mean share of a video watched per view: ``watch_s / duration_s`` (each at most 1), averaged. NaN without views."""
    w = _f64(watch_s)
    if not len(w):
        return math.nan
    d = np.broadcast_to(_f64(duration_s), w.shape)
    return float(np.minimum(w / d, 1.0).mean())


# -- where views come from -------------------------------------------------------------------------
def for_you_share(
    views_for_you: Any, views: Any, followers: Any, bands: Sequence[float] = ()
) -> tuple[float, list[float]]:
    """Share of views from the For You feed, overall and per band of the creator's followers.

    ``bands`` are follower-count edges: band ``i`` holds the videos with
    ``bands[i-1] <= followers < bands[i]`` (the first from 0, the last without an upper
    edge), so ``k`` edges give ``k + 1`` bands. Returns ``(overall, per_band)`` with NaN
    for a band without views.
    """
    fy, v, f = _f64(views_for_you), _f64(views), _f64(followers)
    total = float(v.sum())
    overall = float(fy.sum()) / total if total > 0 else math.nan
    band = np.searchsorted(np.asarray(bands, dtype=np.float64), f, side="right")
    per = []
    for i in range(len(bands) + 1):
        m = band == i
        t = float(v[m].sum())
        per.append(float(fy[m].sum()) / t if t > 0 else math.nan)
    return overall, per


# -- share cascades --------------------------------------------------------------------------------
def cascade_trees(parent: Any, source_is_share: Any) -> dict[str, np.ndarray]:
    """The share cascade below every view that did not come by a share.

    Parameters
    ----------
    parent
        Per view (a views log's rows), the row of the view a share view came from,
        -1 for the others. A parent comes before its children.
    source_is_share
        Per view, whether it came by a share (those with ``parent >= 0``).

    Returns
    -------
    dict
        Per cascade (one per view that did not come by a share, in row order):
        ``size`` (the root view and every share view below it), ``depth`` (the longest
        chain of shares; 0 for an empty cascade) and ``virality`` (structural
        virality of the tree; 0 for a single node).
    """
    parent = np.asarray(parent, dtype=np.int64).ravel()
    share = np.asarray(source_is_share, dtype=bool).ravel()
    n = len(parent)
    roots = np.flatnonzero(~share)
    has_parent = share & (parent >= 0)
    root = np.arange(n, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int64)
    root[has_parent] = parent[has_parent]
    depth[has_parent] = 1
    while True:  # pointer jumping: each pass doubles the distance each node has climbed
        up = root[root]
        if np.array_equal(up, root):
            break
        depth = depth + depth[root] * (up != root)
        root = up
    index = np.full(n, -1, dtype=np.int64)
    index[roots] = np.arange(len(roots))
    member = index[root]
    ok = member >= 0  # share views whose chain reaches a root (an orphan share is dropped)
    size = np.bincount(member[ok], minlength=len(roots)).astype(np.int64)
    deepest = np.zeros(len(roots), dtype=np.int64)
    np.maximum.at(deepest, member[ok], depth[ok])
    virality = np.zeros(len(roots))
    for r in np.flatnonzero(size > 1).tolist():  # the few non-empty cascades, each a small tree
        nodes = np.flatnonzero(ok & (member == r))  # in row order: the root first
        local = np.searchsorted(nodes, parent[nodes])
        local[0] = -1
        virality[r] = structural_virality(local)
    return {"size": size, "depth": deepest, "virality": virality}


def shallow_share(depth: Any) -> float:
    """Share of cascades that are empty or one share deep (``depth <= 1``). NaN without cascades."""
    d = np.asarray(depth).ravel()
    return float(np.mean(d <= 1)) if len(d) else math.nan


def virality_slope(size: Any, virality: Any, min_size: int = 3) -> float:
    """How fast structural virality grows with size beyond a broadcast's, over cascades of ``min_size``+ nodes.

    The slope of ``log(virality / star)`` on ``log(size)``, where ``star = 2 (n - 1) / n`` is
    the virality of a star of ``n`` nodes (one broadcast, the least viral tree of its size):
    0 for broadcasts of every size, ~0.8 for chains ((n+1)/3) between sizes 3 and 100.
    Least squares over the cascades; NaN with fewer than 10 of them or one size only.
    """
    s, v = _f64(size), _f64(virality)
    keep = (s >= min_size) & (v > 0)
    if keep.sum() < 10 or np.all(s[keep] == s[keep][0]):
        return math.nan
    n = s[keep]
    x, y = np.log(n), np.log(v[keep] / (2.0 * (n - 1.0) / n))
    return float(np.polyfit(x, y, 1)[0])


def doubling_probability(sizes: Any, ks: Sequence[int] = (1, 2, 4, 8, 16, 32), min_count: int = 20) -> dict[int, float]:
    """P(size >= 2k | size >= k) for each ``k`` with at least ``min_count`` cascades of size >= k."""
    s = np.asarray(sizes).ravel()
    out = {}
    for k in ks:
        at_least = int(np.count_nonzero(s >= k))
        if at_least >= min_count:
            out[int(k)] = int(np.count_nonzero(s >= 2 * k)) / at_least
    return out


# -- view curves -----------------------------------------------------------------------------------
def step_ups(time_h: Any, video: Any, stage: Any, *, window_h: float = 2.0, min_stage: int = 2) -> np.ndarray:
    """How much views jump when a video is promoted: ``(after + 1) / (before + 1)`` per promotion.

    A promotion is the first view of a video at a push stage ``>= min_stage``, at time
    ``t``; ``after`` counts the video's views in ``[t, t + window_h)`` and ``before``
    those in ``[t - window_h, t)``. Returns one ratio per promotion.
    """
    t, vid, st = _f64(time_h), np.asarray(video).ravel(), np.asarray(stage).ravel()
    out = []
    order = np.lexsort((t, vid))
    t, vid, st = t[order], vid[order], st[order]
    starts = np.flatnonzero(np.r_[True, vid[1:] != vid[:-1]])
    ends = np.r_[starts[1:], len(vid)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        tv, sv = t[a:b], st[a:b]
        for s in np.unique(sv[sv >= min_stage]).tolist():
            t0 = float(tv[np.argmax(sv == s)])
            after = np.searchsorted(tv, t0 + window_h, "left") - np.searchsorted(tv, t0, "left")
            before = np.searchsorted(tv, t0, "left") - np.searchsorted(tv, t0 - window_h, "left")
            out.append((after + 1.0) / (before + 1.0))
    return np.asarray(out, dtype=np.float64)


def trickle_share(
    time_h: Any, video: Any, stall_h: Any, horizon_h: float, *, after_h: float = 12.0, room_h: float = 24.0
) -> float:
    """Share of stalled videos that still gain views ``after_h`` hours or more after their push stopped.

    ``stall_h[v]`` is when video ``v``'s push stopped (NaN: it never did). Only videos
    that stopped at least ``room_h`` hours before ``horizon_h`` count. NaN without such videos.
    """
    stall = _f64(stall_h)
    eligible = np.flatnonzero(np.isfinite(stall) & (stall <= horizon_h - room_h))
    if not len(eligible):
        return math.nan
    t, vid = _f64(time_h), np.asarray(video, dtype=np.int64).ravel()
    late = t >= stall[vid] + after_h if len(vid) else np.zeros(0, dtype=bool)  # NaN stall: never late
    got = np.zeros(len(stall), dtype=bool)
    got[vid[late]] = True
    return float(got[eligible].mean())
