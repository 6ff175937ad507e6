"""What a run returns: plain columnar data, convertible to tables and graphs.

A :class:`RunResult` holds the views log (one row per view, sorted by time,
with source and parent view), the stage history of the push, the moderation
record, the summary metrics and the reach curve. It does no file IO; pandas
and networkx are imported only when a conversion asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from viralsim.model.metrics import tree_stats
from viralsim.scenario import Scenario
from viralsim.state import SOURCES

__all__ = ["SOURCES", "RunResult", "reach_curve", "summarise"]


@dataclass(frozen=True)
class RunResult:
    """The outcome of one simulated run.

    Attributes
    ----------
    scenario
        The resolved scenario that ran (variant applied).
    seed, run, variant
        Provenance: root seed, run index, variant name (``None`` for the base).
    views
        Columns of the views log (see ``viralsim.state.VIEW_COLUMNS``), sorted by
        ``time_h`` (hours); ``source`` is a code into :data:`SOURCES`; ``parent`` is
        the row of the view this one came from by a share, -1 otherwise.
    stages
        One dict per evaluated push stage: cohort, timing, every KPI, thresholds, decision.
    moderation
        The moderation record: path, delays (hours), decision, whether it was right.
    summary
        Summary metrics (see :func:`summarise`).
    reach_curve
        ``time_h`` grid and cumulative views in total and by source.
    """

    scenario: Scenario
    seed: int
    run: int
    variant: str | None
    views: dict[str, np.ndarray]
    stages: list[dict[str, Any]]
    moderation: dict[str, Any]
    summary: dict[str, Any]
    reach_curve: dict[str, np.ndarray]
    version: str = field(default="")

    def views_frame(self) -> Any:
        """The views log as a pandas DataFrame (``source`` as category names)."""
        import pandas as pd

        df = pd.DataFrame(self.views)
        df["source"] = pd.Categorical.from_codes(df["source"].to_numpy(), categories=list(SOURCES))
        return df

    def stages_frame(self) -> Any:
        """The stage history as a pandas DataFrame, one row per stage."""
        import pandas as pd

        return pd.DataFrame(self.stages)

    def reach_frame(self) -> Any:
        """The reach curve as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.reach_curve)

    def spread_tree(self) -> Any:
        """The spread tree as a networkx DiGraph.

        Node ``"root"`` is the upload; every other node is a view row with its
        ``user``, ``source`` and ``time_h``. Edges go from parent to child.
        """
        import networkx as nx

        g = nx.DiGraph()
        g.add_node("root", source="upload", time_h=self.moderation.get("decided_h", 0.0))
        v = self.views
        for i in range(len(v["time_h"])):
            g.add_node(i, user=int(v["user"][i]), source=SOURCES[v["source"][i]], time_h=float(v["time_h"][i]))
        par = v["parent"]
        g.add_edges_from(("root" if p < 0 else int(p), i) for i, p in enumerate(par.tolist()))
        return g

    def provenance(self) -> dict[str, Any]:
        """Resolved scenario, seed, run, variant and version, for every output."""
        return {
            "scenario": self.scenario.model_dump(mode="json"),
            "seed": self.seed,
            "run": self.run,
            "variant": self.variant,
            "version": self.version,
        }


def reach_curve(time_h: np.ndarray, source: np.ndarray, horizon_h: float, points: int = 241) -> dict[str, np.ndarray]:
    """Cumulative views, total and by source, on a regular grid over ``[0, horizon_h]``."""
    grid = np.linspace(0.0, horizon_h, points)
    out = {"time_h": grid, "total": np.searchsorted(time_h, grid, side="right")}
    for code, name in enumerate(SOURCES):
        out[name] = np.searchsorted(time_h[source == code], grid, side="right")
    return out


def _distinct(users: np.ndarray, population: int) -> int:
    """Number of distinct users (a mask over the population: O(n), no sort)."""
    if len(users) * 8 < population:
        return int(len(np.unique(users)))
    seen = np.zeros(population, dtype=bool)
    seen[users] = True
    return int(np.count_nonzero(seen))


def _time_to(time_h: np.ndarray, n: int, since_h: float) -> float | None:
    """Hours from ``since_h`` until the n-th view (None if there were fewer)."""
    return float(time_h[n - 1]) - since_h if len(time_h) >= n else None


def summarise(
    views: dict[str, np.ndarray],
    stages: list[dict[str, Any]],
    *,
    population: int,
    stages_reached: int,
    stop_reason: str | None,
    deliveries: dict[str, int],
    upload_h: float,
) -> dict[str, Any]:
    """Summary metrics of a sorted views log."""
    t = views["time_h"]
    n = len(t)
    by_source = {name: int(np.count_nonzero(views["source"] == code)) for code, name in enumerate(SOURCES)}
    shares = int(np.count_nonzero(views["shared"]))
    # the spread tree: node 0 is the upload, view i is node i + 1
    parent = np.concatenate([[-1], np.where(views["parent"] < 0, 0, views["parent"] + 1)])
    tree = tree_stats(parent)
    hist = np.bincount(np.floor(t).astype(np.int64)) if n else np.zeros(1, dtype=np.int64)
    cascade = views["source"] == SOURCES.index("share")
    return {
        "views": n,
        "unique_viewers": _distinct(views["user"], population),
        "population": population,
        "deliveries": dict(deliveries),
        "likes": int(np.count_nonzero(views["liked"])),
        "comments": int(np.count_nonzero(views["commented"])),
        "shares": shares,
        "follows": int(np.count_nonzero(views["followed"])),
        "profile_clicks": int(np.count_nonzero(views["profile_click"])),
        "completions": int(np.count_nonzero(views["completed"])),
        "share_to_view": shares / n if n else 0.0,
        "views_by_source": by_source,
        "algorithmic_share": by_source["for_you"] / n if n else 0.0,
        "stages_reached": stages_reached,
        "stages_passed": int(sum(1 for s in stages if s["passed"])),
        "stop_reason": stop_reason,
        "peak_rate_h": float(np.argmax(hist)) if n else None,
        "peak_rate_views_per_h": int(hist.max()) if n else 0,
        "time_to_10k_views_h": _time_to(t, 10_000, upload_h),
        "time_to_100k_views_h": _time_to(t, 100_000, upload_h),
        "cascade_views": int(np.count_nonzero(cascade)),
        "cascade_depth": tree["depth"] - 1 if n else 0,
        "cascade_max_breadth": max(tree["breadth_by_depth"][2:], default=0),
        "structural_virality": tree["structural_virality"],
    }
