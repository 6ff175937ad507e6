"""A run's typed records: its :class:`Summary` and one :class:`StageRecord` per evaluated push stage.

Both are frozen dataclasses whose fields carry their metadata
(:mod:`viralsim.records.fields`). Everything that lists summary keys is
generated from it: the ensemble's per-run columns (:func:`summary_columns`,
:func:`nan_when_none`, :func:`numeric_columns`), the console's labels and
formats and the README's ``--json`` key list. No IO, no printing, no engine
knowledge: an engine fills the records once, nothing edits them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, get_args, get_type_hints

from viralsim.records.fields import Record, metas, metric

__all__ = ["StageRecord", "Summary", "nan_when_none", "numeric_columns", "summary_columns"]


def _count(label: str, description: str, **kw: Any) -> Any:
    return metric(label=label, description=description, unit=kw.pop("unit", "views"), fmt=",.0f", **kw)


@dataclass(frozen=True, kw_only=True, eq=False)
class Summary(Record):
    """A run's summary metrics, made once by :func:`viralsim.views.summarise` (see each field's metadata)."""

    views: int = _count("views", "views of the video (on the first platform with a cross-post)", column=True)
    unique_viewers: int = _count("unique viewers", "users who watched it", unit="users", column=True)
    population: int = _count("population", "users on the platform", unit="users")
    deliveries: dict[str, int] = metric(
        label="deliveries", description="the video put in a feed, by source (delivered, watched or not)", unit="views"
    )
    likes: int = _count("likes", "views that liked it", column=True)
    comments: int = _count("comments", "views that commented", column=True)
    shares: int = _count("shares", "views that shared it", column=True)
    follows: int = _count("follows", "views that followed the creator", column=True)
    profile_clicks: int = _count("profile clicks", "views that opened the creator's profile", column=True)
    completions: int = _count("completions", "views watched to the end", column=True)
    engaged_views: int = _count(
        "engaged views", "views completed or liked, commented, shared or followed from", column=True
    )
    cost_per_engaged_view: float | None = metric(
        label="cost per engaged view",
        description="`creator.fee` / `engaged_views`; null without a fee or an engaged view",
        unit="currency",
        missing="nan",
        column=True,
    )
    share_to_view: float = metric(
        label="share-to-view", description="shares per view", unit="fraction", fmt=".4f", column=True
    )
    views_by_source: dict[str, int] = metric(
        label="views by source", description="views by source (`for_you`, `following`, `share`)", unit="views"
    )
    algorithmic_share: float = metric(
        label="algorithmic share",
        description="the share of views from the For You push",
        unit="fraction",
        fmt=".1f",
        column=True,
    )
    stages_reached: int = metric(
        label="stages reached", description="push stages delivered to", unit="stages", fmt="level", column=True
    )
    stages_passed: int = metric(
        label="stages passed", description="push stages whose KPIs met the thresholds", unit="stages", column=True
    )
    stop_reason: str | None = metric(
        label="stop reason",
        description="why the push stopped: `kpi_below_threshold:<kpis>`, `all_stages_passed`, `horizon`, ...",
        column=True,
    )
    peak_rate_h: float | None = metric(
        label="peak hour after upload",
        description="the hour after the upload with the most views (the start of that hour-long bin, "
        "counted from `video.upload_h`); null without views",
        unit="h",
        missing="nan",
        column=True,
    )
    peak_rate_views_per_h: int = _count("peak views per hour", "views in that hour", unit="views/h")
    time_to_10k_views_h: float | None = metric(
        label="hours to 10k views",
        description="hours from the upload to the 10 000th view (null if fewer)",
        unit="h",
        missing="nan",
        column=True,
    )
    time_to_100k_views_h: float | None = metric(
        label="hours to 100k views",
        description="hours from the upload to the 100 000th view (null if fewer)",
        unit="h",
        fmt=".1f",
        missing="nan",
        column=True,
    )
    cascade_views: int = _count("cascade views", "views that came by a share", column=True)
    cascade_depth: int = metric(
        label="cascade depth", description="longest chain of shares", unit="shares", fmt="level", column=True
    )
    cascade_max_breadth: int = metric(
        label="cascade max breadth", description="most share views at one share generation", unit="views", column=True
    )
    structural_virality: float = metric(
        label="structural virality",
        description="mean distance between two nodes of the spread tree (the upload is its root, For You and "
        "Following views hang from it, share views from the sharer's view)",
        fmt=".2f",
        missing="nan",
        column=True,
    )
    recognised_topic: str | None = metric(
        label="recognised topic",
        description="the topic the platform's classifier gave the video (null: not recognised)",
        column=True,
        column_after="stop_h",
    )
    representation: str = metric(
        label="representation", description="how the population was held: `materialised` or `implicit`"
    )
    users_materialised: int = _count("users in memory", "users the run held in memory", unit="users")
    stop_h: float | None = metric(
        label="push stop (h after upload)",
        description="when the push stopped (hours after the upload; the views log's `time_h` is on the "
        "simulation clock, where the upload is at `video.upload_h`)",
        unit="h",
        missing="nan",
        column=True,
        column_after="stop_reason",
    )
    engine: str | None = metric(
        label="engine", description="`agents` (the agent engine; absent for the core)", missing="omit", default=None
    )
    videos: int | None = _count(
        "videos", "videos on the platform (agent engine only)", unit="videos", missing="omit", default=None
    )
    sessions: int | None = _count(
        "sessions", "viewing sessions played (agent engine only)", unit="sessions", missing="omit", default=None
    )
    views_per_session: float | None = metric(
        label="views per session",
        description="views per session (agent engine only)",
        unit="views",
        fmt=".2f",
        missing="omit",
        default=None,
    )
    gini_views: float | None = metric(
        label="Gini of views",
        description="the Gini coefficient of views per video (agent engine only)",
        fmt=".3f",
        missing="omit",
        default=None,
    )
    cross_posted: bool = metric(
        label="cross-posted", description="whether the video went to the second platform (`[cross_post]`)", column=True
    )
    views_first: int = _count("views on the first platform", "views on the first platform (`views`)")
    views_second: int = _count(
        "views on the second platform",
        "views on the second platform (0 unless cross-posted; `RunResult.second_platform` is its run)",
        missing="nan",
        column=True,
    )
    views_total: int = _count("views on both platforms", "views on both platforms", missing="nan", column=True)

    def with_platforms(self, views_second: int | None) -> Summary:
        """A copy with the per-platform keys: ``views_second`` the second platform's views, None if not cross-posted."""
        n2 = 0 if views_second is None else int(views_second)
        return dataclasses.replace(
            self,
            cross_posted=views_second is not None,
            views_first=self.views,
            views_second=n2,
            views_total=self.views + n2,
        )


def _rate(kpi: str, description: str) -> Any:
    return metric(label=kpi.replace("_", " "), description=description, unit="fraction", fmt=".2f")


def _threshold(kpi: str) -> Any:
    return metric(
        label=f"{kpi.replace('_', ' ')} threshold",
        description=f"the least `{kpi}` the stage had to reach (null: no threshold)",
        unit="fraction" if kpi != "score" else "",
        fmt=".2f",
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class StageRecord(Record):
    """One evaluated stage of the push: its cohort, timing, every KPI, the thresholds and the decision.

    The KPI fields are :data:`viralsim.scenario.KPI_NAMES`, each as a rate per view
    at the stage's evaluation, and ``threshold_<kpi>`` for each and for ``score``.
    """

    video: int | None = metric(
        label="video", description="the video (a marketplace's rows only)", missing="omit", default=None
    )
    stage: int = metric(label="stage", description="the stage, 1 for the first cohort", fmt="d")
    cohort_size: int = metric(label="cohort", description="users the stage was to reach", unit="users", fmt=",d")
    delivered: int = metric(label="delivered", description="users it was delivered to", unit="users", fmt=",d")
    cohort_interest: float = metric(
        label="interest", description="the cohort's mean interest in the recognised topic (0-1)", fmt=".3f"
    )
    start_h: float = metric(
        label="start (h after upload)", description="when the stage began (hours after the upload)", unit="h", fmt=".1f"
    )
    evaluated_h: float = metric(
        label="evaluated (h after upload)",
        description="when its KPIs were evaluated (hours after the upload)",
        unit="h",
        fmt=".1f",
    )
    views_evaluated: int = metric(
        label="views at evaluation",
        description="the stage's views counted when it was evaluated (more may come later)",
        unit="views",
        fmt=",d",
    )
    completion: float = _rate("completion", "views watched to the end, per view")
    watch_fraction: float = _rate("watch_fraction", "mean fraction of the video watched")
    like: float = _rate("like", "likes per view")
    comment: float = _rate("comment", "comments per view")
    share: float = _rate("share", "shares per view")
    follow: float = _rate("follow", "follows per view")
    profile_click: float = _rate("profile_click", "profile clicks per view")
    score: float = metric(label="score", description="the weighted KPI score", fmt=".2f")
    threshold_completion: float | None = _threshold("completion")
    threshold_watch_fraction: float | None = _threshold("watch_fraction")
    threshold_like: float | None = _threshold("like")
    threshold_comment: float | None = _threshold("comment")
    threshold_share: float | None = _threshold("share")
    threshold_follow: float | None = _threshold("follow")
    threshold_profile_click: float | None = _threshold("profile_click")
    threshold_score: float | None = _threshold("score")
    passed: bool = metric(label="passed", description="whether every threshold was met")
    failed: str = metric(label="failed", description="the KPIs below their thresholds, comma-separated")
    stopped_mid_stage: bool = metric(
        label="mid-stage", description="whether the stage was stopped before its whole cohort was delivered"
    )


def summary_columns() -> tuple[str, ...]:
    """The per-run ensemble columns (flat scalars), in table order."""
    out: list[str] = []
    later: list[tuple[str, str]] = []
    for name, meta in metas(Summary).items():
        if meta.column and meta.column_after:
            later.append((name, meta.column_after))
        elif meta.column:
            out.append(name)
    while later:
        placed = [(n, a) for n, a in later if a in out]
        if not placed:
            raise ValueError(f"column_after names no column: {later}")
        for n, a in placed:
            out.insert(out.index(a) + 1, n)
            later.remove((n, a))
    return tuple(out)


def numeric_columns() -> tuple[str, ...]:
    """The ensemble columns that hold numbers (not a reason, a topic or a flag), in table order."""
    hints = get_type_hints(Summary)
    return tuple(n for n in summary_columns() if not ({str, bool} & {hints[n], *get_args(hints[n])}))


def nan_when_none() -> frozenset[str]:
    """The ensemble columns whose ``None`` is NaN in the table."""
    return frozenset(n for n, m in metas(Summary).items() if m.column and m.missing == "nan")
