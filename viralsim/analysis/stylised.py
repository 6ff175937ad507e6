"""The stylised-facts check: each published fact of short-video platforms, its band, and the runs measured against it.

:data:`FACTS` lists every fact the issue of realism names (views per video, per-view
actions, watch time, For You share, share cascades, view curves) with the band a
run must land in, the published figure and its source and trust tag (docs/realism.md
discusses each). :func:`run_data` takes what a fact needs from one agent-engine run
(recorded in full: the views log is needed), :func:`measure` pools runs and computes
every fact with :mod:`viralsim.analysis.facts`, and returns one :class:`Measured` per
fact: the value, whether it is inside the band, and a short detail. No IO, no printing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from viralsim.analysis import facts as f
from viralsim.analysis.logs import log_of
from viralsim.views import SOURCES

__all__ = ["FACTS", "Fact", "Measured", "measure", "run_data"]

_SHARE = SOURCES.index("share")


@dataclass(frozen=True)
class Fact:
    """A published stylised fact: the measured quantity, the band it must fall in, where the figure comes from."""

    key: str
    label: str
    low: float
    high: float
    published: str
    source: str

    def holds(self, value: float) -> bool:
        """Whether ``value`` is inside ``[low, high]`` (NaN never is)."""
        return bool(self.low <= value <= self.high)

    def band(self) -> str:
        """The band as text: ``[a, b]``, ``>= a`` or ``<= b``."""
        if math.isinf(self.high):
            return f">= {self.low:g}"
        if math.isinf(self.low):
            return f"<= {self.high:g}"
        return f"[{self.low:g}, {self.high:g}]"


INF = math.inf
#: Every fact checked, in the order printed.
FACTS: tuple[Fact, ...] = (
    Fact("gini", "Gini of views per video", 0.85, 0.97, "0.90-0.95",
         "tiktokodds 2020 (0.93) [vendor]; Steel et al. 2025/26 TikTok slice [peer-reviewed]"),
    Fact("mean_to_median", "mean / median views per video", 15.0, INF, ">= 15",
         "Steel et al. 2025/26 TikTok slice (mean ~2 250 plays, median far below) [peer-reviewed]"),
    Fact("lognormal_body", "log-normal body (CDF gap of log views, 10-90 %)", 0.0, 0.10, "log-normal body",
         "Steel et al. 2025/26 [peer-reviewed]; Ito & Shimada 2025 Niconico rank-size [peer-reviewed]"),
    Fact("like_rate", "likes per view", 0.05, 0.08, "5-8 %",
         "Steel et al. 2025/26 [peer-reviewed]; 5.4 % engagement per view 2023 [vendor]"),
    Fact("comment_rate", "comments per view", 0.001, 0.004, "~0.2 %", "Steel et al. 2025/26 [peer-reviewed]"),
    Fact("share_rate", "shares per view", 0.001, 0.004, "~0.2 %", "Steel et al. 2025/26 [peer-reviewed]"),
    Fact("watched_fraction", "mean share of a video watched", 0.45, 0.85, "45-85 %",
         "Zannettou et al. CHI 2024 (~45 %) [peer-reviewed]; KuaiRec median watch ratio 0.72 [peer-reviewed]"),
    Fact("for_you_share", "views from For You", 0.70, 0.97, ">= 70 % (74 %; median post 85 %)",
         "Metricool 2024 [vendor]; 31k-post study [vendor]"),
    Fact("for_you_small_minus_large", "For You share: smallest - largest follower third", 0.005, 1.0,
         "more For You for small creators", "Metricool 2024 [vendor]"),
    Fact("shallow_cascades", "cascades empty or one share deep", 0.95, 1.0, "~95 %",
         "Goel, Watts & Goldstein 2012 [peer-reviewed]; Goel et al. 2016 [peer-reviewed]"),
    Fact("virality_slope", "slope of log(virality / a star's) on log size", -0.3, 0.3,
         "low, nearly flat in size", "Goel, Anderson, Hofman & Watts 2016 [peer-reviewed]"),
    Fact("doubling", "P(reshares double k -> 2k), k = 2, 4, 8", 0.35, 0.65, "~0.5",
         "Cheng et al. 2014 [peer-reviewed]"),
    Fact("step_up", "views 2 h after / 2 h before a promotion (median)", 2.0, INF, "step up at promotions",
         "Zhong et al. 2021 Douyin multi-gradient curves [peer-reviewed]"),
    Fact("trickle", "stalled videos still viewed 12 h+ after the stall", 0.5, 1.0, "slow trickle after a stall",
         "Zhong et al. 2021 [peer-reviewed]"),
)  # fmt: skip


@dataclass(frozen=True)
class Measured:
    """One fact measured: its value (NaN: not enough data), whether it holds, and a short detail."""

    fact: Fact
    value: float
    detail: str = ""

    @property
    def passed(self) -> bool:
        """Whether the value is inside the fact's band."""
        return self.fact.holds(self.value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: key, label, value (None for NaN), band, published, source, passed, detail."""
        v = self.value
        return {
            "key": self.fact.key,
            "label": self.fact.label,
            "value": None if math.isnan(v) else v,
            "low": None if math.isinf(self.fact.low) else self.fact.low,
            "high": None if math.isinf(self.fact.high) else self.fact.high,
            "published": self.fact.published,
            "source": self.fact.source,
            "passed": self.passed,
            "detail": self.detail,
        }


def _stall_h(stages: Sequence[Any], upload_h: np.ndarray, last_stage: int) -> np.ndarray:
    """When each video's push stopped, on the simulation clock (the views log's): its last evaluation if it
    failed or was the final stage (else NaN). Stage rows count hours after their video's upload."""
    videos = len(upload_h)
    stall = np.full(videos, np.nan)
    last: dict[int, Any] = {}
    for row in stages:
        v = 0 if row.video is None else int(row.video)
        if v not in last or row.stage >= last[v].stage:
            last[v] = row
    for v, row in last.items():
        if not row.passed or row.stage >= last_stage:
            stall[v] = float(upload_h[v]) + row.evaluated_h
    return stall


def run_data(result: Any, *, min_age_h: float = 24.0) -> dict[str, Any]:
    """What the facts need from one agent-engine run recorded in full (``simulate(..., record="full")``).

    The per-video facts (views, actions, sources) keep the videos uploaded at least
    ``min_age_h`` hours before the horizon, so that a video uploaded in the last minutes
    does not count as a flop (the views log keeps every view). Raises ValueError for a run
    without an agent log or without its views log.
    """
    log = log_of(result)
    v = log.videos
    views = result.views
    n_views = int(np.sum(v["views"]))
    if len(views["time_h"]) != n_views:
        raise ValueError('the facts need the views log: simulate with record="full"')
    sc = result.scenario
    old = np.asarray(v["upload_h"]) <= sc.horizon_h - min_age_h
    return {
        "videos": {
            k: np.asarray(v[k])[old]
            for k in ("views", "likes", "comments", "shares", "views_for_you", "creator_followers", "stages_reached")
        },  # fmt: skip
        "views": {k: np.asarray(views[k]) for k in ("time_h", "video", "stage", "source", "parent", "watch_s")},
        "duration_s": float(sc.video.duration_s),
        "stall_h": _stall_h(result.stages, np.asarray(v["upload_h"]), len(sc.platform.push.cohort_sizes())),
        "horizon_h": float(sc.horizon_h),
    }


def measure(runs: Iterable[dict[str, Any]]) -> list[Measured]:
    """Every fact of :data:`FACTS` over the pooled runs (each a :func:`run_data`), in order."""
    runs = list(runs)
    if not runs:
        raise ValueError("no runs to measure")

    def cat(table: str, col: str) -> np.ndarray:
        return np.concatenate([r[table][col] for r in runs])

    views = cat("videos", "views")
    rates = f.per_view_rates(cat("videos", "likes"), cat("videos", "comments"), cat("videos", "shares"), views)
    followers = cat("videos", "creator_followers")
    edges = np.quantile(followers, [1 / 3, 2 / 3]) if len(followers) else np.zeros(2)
    fy, per_band = f.for_you_share(cat("videos", "views_for_you"), views, followers, edges.tolist())
    sizes, depths, virality, ratios = [], [], [], []
    trickles = []
    for r in runs:
        w = r["views"]
        trees = f.cascade_trees(w["parent"], w["source"] == _SHARE)
        sizes.append(trees["size"])
        depths.append(trees["depth"])
        virality.append(trees["virality"])
        ratios.append(f.step_ups(w["time_h"], w["video"], w["stage"]))
        t = f.trickle_share(w["time_h"], w["video"], r["stall_h"], r["horizon_h"])
        stalled = np.isfinite(r["stall_h"]) & (r["stall_h"] <= r["horizon_h"] - 24.0)
        trickles.append((t * stalled.sum() if not math.isnan(t) else 0.0, int(stalled.sum())))
    size, depth, sv = np.concatenate(sizes), np.concatenate(depths), np.concatenate(virality)
    ratio = np.concatenate(ratios)
    watch = np.concatenate([r["views"]["watch_s"] / r["duration_s"] for r in runs])
    doubling = f.doubling_probability(cat("videos", "shares"), ks=(2, 4, 8))
    stalled_total = sum(n for _, n in trickles)
    big = size >= 3
    values = {
        "gini": (f.gini_views(views), f"{len(views)} videos over {len(runs)} runs"),
        "mean_to_median": (f.mean_to_median(views), f"mean {views.mean():.0f}, median {np.median(views):.0f}"),
        "lognormal_body": (f.lognormal_body_distance(views), f"{int(np.sum(views > 0))} videos with views"),
        "like_rate": (rates["like"], ""),
        "comment_rate": (rates["comment"], ""),
        "share_rate": (rates["share"], ""),
        "watched_fraction": (f.watched_fraction(watch, 1.0), ""),
        "for_you_share": (fy, ""),
        "for_you_small_minus_large": (
            per_band[0] - per_band[-1],
            "by follower third: " + ", ".join(f"{x:.3f}" for x in per_band),
        ),
        "shallow_cascades": (f.shallow_share(depth), f"{len(size)} cascades, {int(np.sum(size > 1))} non-empty"),
        "virality_slope": (
            f.virality_slope(size, sv),
            f"{int(big.sum())} cascades of size >= 3, mean virality {sv[big].mean():.2f}" if big.any() else "",
        ),
        "doubling": (
            float(np.mean(list(doubling.values()))) if doubling else math.nan,
            ", ".join(f"k={k}: {p:.2f}" for k, p in doubling.items()),
        ),
        "step_up": (float(np.median(ratio)) if len(ratio) else math.nan, f"{len(ratio)} promotions"),
        "trickle": (
            sum(t for t, _ in trickles) / stalled_total if stalled_total else math.nan,
            f"{stalled_total} videos stalled a day or more before the horizon",
        ),
    }
    return [Measured(fact, float(values[fact.key][0]), values[fact.key][1]) for fact in FACTS]
