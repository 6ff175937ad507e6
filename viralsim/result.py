"""What a run returns: plain columnar data, convertible to tables and graphs.

A :class:`RunResult` holds the views log (one row per view, sorted by time,
with source and parent view), the stage history of the push, the moderation
record, the summary metrics and the reach curve. It does no file IO; pandas
and networkx are imported only when a conversion asks for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.model.behaviour import ACTION_COLUMNS, ViewOutcomes
from viralsim.model.metrics import cascade_stats
from viralsim.scenario import Scenario
from viralsim.state import SOURCES, VIEW_COLUMNS, Batch, time_order

if TYPE_CHECKING:  # the agent engine imports this module: no import at run time
    from viralsim.agents.log import AgentLog

__all__ = ["ENGAGED_BY", "SOURCES", "RunResult", "engaged_count", "reach_curve", "summarise", "views_log"]


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
        the row of the view this one came from by a share, -1 otherwise. Zero-length
        columns (same keys and dtypes) when the run recorded only its summary.
    stages
        One dict per evaluated push stage: cohort, timing, every KPI, thresholds, decision.
    moderation
        The moderation record: path, delays (hours), decision, whether it was right.
    summary
        Summary metrics (see :func:`summarise`).
    reach_curve
        ``time_h`` grid and cumulative views in total and by source.
    version
        viralsim version that ran.
    record
        ``"full"`` (with the views log) or ``"summary"`` (``views`` left empty).
    second_platform
        The cross-post's own result (its views, stages, moderation, summary) when the
        scenario has a ``cross_post`` table and the video qualified, else ``None``; the
        summary's ``cross_posted``, ``views_first``, ``views_second`` and
        ``views_total`` split the views by platform (``views`` stays the first's).
    agents
        ``engine = "agents"``: the :class:`~viralsim.agents.log.AgentLog` (one row per
        video, session and user, and the interest-drift measure); ``None`` for the core.
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
    record: str = field(default="full")
    #: The run on the second platform when the scenario cross-posted the video (``cross_post``).
    second_platform: RunResult | None = field(default=None)
    #: The agent engine's log (videos, sessions, users, interest drift); None for the core engine.
    agents: AgentLog | None = field(default=None)

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


def _time_to(time_h: np.ndarray, n: int, since_h: float) -> float | None:
    """Hours from ``since_h`` until the n-th view (None if there were fewer); any order of ``time_h``."""
    return float(np.partition(time_h, n - 1)[n - 1]) - since_h if len(time_h) >= n else None


def summarise(
    batches: Sequence[Batch],
    stages: list[dict[str, Any]],
    *,
    population: int,
    stages_reached: int,
    stop_reason: str | None,
    deliveries: dict[str, int],
    upload_h: float,
    sorted_h: np.ndarray | None = None,
    fee: float | None = None,
) -> dict[str, Any]:
    """Summary metrics of a run's view batches (independent of their order).

    ``sorted_h``, every view time in order (the views log's), saves a selection;
    it does not change any value. ``fee`` (currency units, ``creator.fee``) gives
    ``cost_per_engaged_view``; an *engaged view* is one that was completed or
    liked, commented, shared or followed from (:data:`ENGAGED_BY`).
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
    if sorted_h is None:
        t = np.concatenate([b.time_h for b in batches]) if batches else np.empty(0)
        time_to = {k: _time_to(t, k, upload_h) for k in (10_000, 100_000)}
    else:
        t = sorted_h
        time_to = {k: float(t[k - 1]) - upload_h if len(t) >= k else None for k in (10_000, 100_000)}
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
    hist = np.bincount(np.floor(t).astype(np.int64)) if n else np.zeros(1, dtype=np.int64)
    shares = counts["shared"]
    return {
        "views": n,
        "unique_viewers": n,  # a user is delivered to at most once, so every view has its own viewer
        "population": population,
        "deliveries": dict(deliveries),
        "likes": counts["liked"],
        "comments": counts["commented"],
        "shares": shares,
        "follows": counts["followed"],
        "profile_clicks": counts["profile_click"],
        "completions": counts["completed"],
        "engaged_views": engaged,
        "cost_per_engaged_view": fee / engaged if fee is not None and engaged else None,
        "share_to_view": shares / n if n else 0.0,
        "views_by_source": by_source,
        "algorithmic_share": by_source["for_you"] / n if n else 0.0,
        "stages_reached": stages_reached,
        "stages_passed": int(sum(1 for s in stages if s["passed"])),
        "stop_reason": stop_reason,
        "peak_rate_h": float(np.argmax(hist)) if n else None,
        "peak_rate_views_per_h": int(hist.max()) if n else 0,
        "time_to_10k_views_h": time_to[10_000],
        "time_to_100k_views_h": time_to[100_000],
        "cascade_views": by_source["share"],
        "cascade_depth": tree["depth"] - 1 if n else 0,
        "cascade_max_breadth": max(tree["breadth_by_depth"][2:], default=0),
        "structural_virality": tree["structural_virality"],
    }
