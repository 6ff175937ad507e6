"""What a marketplace run shows: concentration of views, what predicts them, narrowing feeds, one user's day.

Pure functions over an agent run's log (``RunResult.agents``, an ``AgentLog``:
numpy columns per video, session and user, plus the interest-drift curve) and
its views log (``RunResult.views``). Nothing here does IO, prints or imports
matplotlib; the figures are in :mod:`viralsim.plots.marketplace`. Any object
with the log's attributes will do (the :class:`Log` protocol: ``videos``,
``sessions``, ``users``, ``drift``, ``topics``, ``mode``), so the functions are
tested on small hand-made logs.

Times are hours since the start of the run (Monday 00:00 UTC); a user's local
time is ``time_h + tz_h``; watch times are seconds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

import numpy as np
from numpy.typing import ArrayLike

from viralsim.records import SESSION_END
from viralsim.views import SOURCES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACTIONS",
    "SESSION_END",
    "AgentRun",
    "Correlation",
    "FeedNarrowing",
    "Log",
    "RunOrLog",
    "UserDay",
    "busiest_user",
    "ccdf",
    "compare_modes",
    "concentration",
    "feed_narrowing",
    "gini",
    "log_of",
    "rank_correlations",
    "run_metrics",
    "runs_table",
    "user_day",
]

#: The actions of a view, in the order the timeline lists them.
ACTIONS = ("liked", "commented", "shared", "followed", "profile_click")


class Log(Protocol):
    """What the analysis reads of an agent log: an :class:`~viralsim.records.AgentLog` or any look-alike."""

    @property
    def videos(self) -> Mapping[str, np.ndarray]: ...

    @property
    def sessions(self) -> Mapping[str, np.ndarray]: ...

    @property
    def users(self) -> Mapping[str, np.ndarray]: ...

    @property
    def drift(self) -> Mapping[str, np.ndarray]: ...

    @property
    def topics(self) -> Sequence[str]: ...

    @property
    def mode(self) -> str: ...


class AgentRun(Protocol):
    """What the analysis reads of a run: its views log and its agent log (a :class:`~viralsim.result.RunResult`)."""

    @property
    def views(self) -> Mapping[str, np.ndarray]: ...

    @property
    def agents(self) -> Log | None: ...


#: A run of the agent engine, or its log alone.
RunOrLog: TypeAlias = AgentRun | Log


def log_of(result: RunOrLog) -> Log:
    """The agent log of a run (``result.agents``), or ``result`` itself if it is already a log.

    Raises ValueError when ``result`` is a run of the core engine (no agent log).
    """
    if hasattr(result, "videos") and hasattr(result, "sessions"):
        return cast(Log, result)
    log = getattr(result, "agents", None)
    if log is None:
        raise ValueError('this run has no agent log: run a scenario with engine = "agents"')
    return log


# -- distributions --------------------------------------------------------------------------------
def gini(values: ArrayLike) -> float:
    """Gini coefficient of non-negative values (0: all equal; (n-1)/n: one holds everything).

    ``G = Σ_i Σ_j |x_i - x_j| / (2 n² mean)``, computed from the sorted values in O(n log n).
    All zeros give 0; no values give NaN. Raises ValueError for negative or non-finite values.
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if len(x) == 0:
        return math.nan
    if not np.all(np.isfinite(x)) or x[0] < 0:
        raise ValueError("gini needs finite, non-negative values")
    total = float(x.sum())
    if total == 0:
        return 0.0
    n = len(x)
    rank = np.arange(1, n + 1, dtype=np.float64)
    return float(2.0 * np.dot(rank, x) / (n * total) - (n + 1) / n)


def ccdf(values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Complementary distribution: the distinct values ``x`` (ascending) and ``P(X ≥ x)`` for each.

    ``P`` is the fraction of *all* values at least ``x``, so it starts at 1 and ends at
    (count of the maximum) / n. Empty input gives two empty arrays.
    """
    v = np.sort(np.asarray(values).ravel())
    if len(v) == 0:
        return v, np.empty(0)
    x, first = np.unique(v, return_index=True)  # first position of each distinct value in the sorted array
    return x, 1.0 - first / len(v)


def _top_share(views: np.ndarray, fraction: float) -> float:
    """Share of all views that went to the top ``fraction`` of items (at least one item)."""
    total = float(views.sum())
    if total == 0:
        return math.nan
    k = max(1, math.ceil(fraction * len(views)))
    return float(np.sort(views)[::-1][:k].sum() / total)


def concentration(log: RunOrLog) -> dict[str, float]:
    """How unequally views are spread over videos and creators.

    Returns
    -------
    dict
        ``videos``, ``views`` (total), ``gini`` (views per video), ``top1_share`` and
        ``top10_share`` (share of all views that went to the top 1 % / 10 % of videos,
        at least one video each), ``unseen`` (fraction of videos with no view),
        ``gini_creators`` (views per creator, summed over their videos; a video whose
        creator is -1, outside the population, counts as its own creator).
    """
    log = log_of(log)
    views = np.asarray(log.videos["views"], dtype=np.int64)
    creator = np.asarray(log.videos["creator"], dtype=np.int64)
    creator = np.where(creator >= 0, creator, -1 - np.arange(len(creator)))  # -1 (outside the population): each its own
    _, per_creator = np.unique(creator, return_inverse=True)
    by_creator = np.bincount(per_creator, weights=views) if len(views) else np.empty(0)
    return {
        "videos": len(views),
        "views": int(views.sum()),
        "gini": gini(views),
        "top1_share": _top_share(views, 0.01),
        "top10_share": _top_share(views, 0.10),
        "unseen": float(np.mean(views == 0)) if len(views) else math.nan,
        "gini_creators": gini(by_creator),
    }


# -- what predicts views --------------------------------------------------------------------------
@dataclass(frozen=True)
class Correlation:
    """A Spearman rank correlation: ``rho`` in [-1, 1], its two-sided ``p`` value, ``n`` pairs."""

    rho: float
    p: float
    n: int


def _spearman(x: np.ndarray, y: np.ndarray) -> Correlation:
    n = len(x)
    if n < 3 or np.all(x == x[0]) or np.all(y == y[0]):  # undefined: fewer than 3 pairs or no variation
        return Correlation(math.nan, math.nan, n)
    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about ties in small samples; the value is still right
        res = spearmanr(x, y)
    return Correlation(float(res.statistic), float(res.pvalue), n)


def rank_correlations(log: RunOrLog, *, uploaded_before_h: float | None = None) -> dict[str, Correlation]:
    """Spearman correlations of a video's views with its creator's followers and with its appeal.

    Parameters
    ----------
    log
        An agent log (or a run with one).
    uploaded_before_h
        Keep only videos uploaded before this hour (hours since the start), e.g. to
        leave out the ones uploaded too late to be pushed; default all.

    Returns
    -------
    dict
        ``{"followers": Correlation, "appeal": Correlation}`` (NaN when undefined:
        fewer than three videos or no variation).
    """
    v = log_of(log).videos
    keep = slice(None) if uploaded_before_h is None else np.asarray(v["upload_h"]) < uploaded_before_h
    views = np.asarray(v["views"])[keep]
    return {
        "followers": _spearman(np.asarray(v["creator_followers"])[keep], views),
        "appeal": _spearman(np.asarray(v["appeal"], dtype=np.float64)[keep], views),
    }


# -- narrowing feeds ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedNarrowing:
    """How much narrower users' interests became over the run (the "what you watch" loop).

    ``entropy_*``: mean entropy of a user's interest vector at the start and end (lower:
    narrower); ``top_share_*``: mean weight of a user's favourite topic (higher: narrower);
    ``narrowed``: fraction of users whose entropy fell; ``drift``: the engine's curve
    (``time_h``, ``mean_entropy``, ``mean_top_share`` on a grid).
    """

    entropy_start: float
    entropy_end: float
    top_share_start: float
    top_share_end: float
    narrowed: float
    drift: dict[str, np.ndarray]

    @property
    def entropy_change(self) -> float:
        """End minus start (negative: feeds narrowed)."""
        return self.entropy_end - self.entropy_start

    @property
    def top_share_change(self) -> float:
        """End minus start (positive: feeds narrowed)."""
        return self.top_share_end - self.top_share_start


def feed_narrowing(log: RunOrLog) -> FeedNarrowing:
    """Start vs end of users' interest entropy and favourite-topic share, with the drift curve."""
    log = log_of(log)
    u = log.users

    def mean(col: str) -> float:
        a = np.asarray(u[col], dtype=np.float64)
        return float(a.mean()) if len(a) else math.nan

    e0, e1 = np.asarray(u["entropy_start"], np.float64), np.asarray(u["entropy_end"], np.float64)
    return FeedNarrowing(
        entropy_start=mean("entropy_start"),
        entropy_end=mean("entropy_end"),
        top_share_start=mean("top_share_start"),
        top_share_end=mean("top_share_end"),
        narrowed=float(np.mean(e1 < e0)) if len(e0) else math.nan,
        drift={k: np.asarray(a) for k, a in log.drift.items()},
    )


# -- one user's day -------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserDay:
    """One user's local day: their sessions and every video they watched.

    ``day`` counts local days from the start (day 0 is the local date of hour 0 UTC);
    local time = UTC hours + ``tz_h``. ``sessions``: one row per session that started that
    day (``session`` number in the user's whole run, ``start_h``/``end_h`` in UTC hours,
    ``start_local_h``/``end_local_h`` in hours after local midnight (may pass 24),
    ``minutes``, ``watched`` as logged, ``views`` found in the views log, views per source,
    actions taken, ``ended``). ``views``: one row per view (``time_h``, ``local_h``,
    ``session``, ``minute`` since the session started, ``video``, ``creator``, ``topic``,
    ``appeal``, ``source``, ``watch_s``, ``completed`` and each action).
    """

    user: int
    day: int
    tz_h: float
    sessions: pd.DataFrame
    views: pd.DataFrame


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each ``wanted`` value in ``keys`` (-1 where absent)."""
    if len(keys) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    return np.where(keys[order][pos] == wanted, order[pos], -1)


def _tz_of(log: Log, users: np.ndarray) -> np.ndarray:
    """Each user's time-zone offset (hours; 0 for a user not in the users table)."""
    row = _lookup(np.asarray(log.users["user"]), users)
    tz = np.append(np.asarray(log.users["tz_h"], dtype=np.float64), 0.0)  # row -1 reads the 0 at the end
    return tz[row]


def _session_of(
    s_user: np.ndarray, s_start: np.ndarray, s_end: np.ndarray, v_user: np.ndarray, v_time: np.ndarray
) -> np.ndarray:
    """Index of the session holding each view, -1 for a view outside every session of its user.

    The holder is the user's latest session that started at or before the view and had not
    ended (sessions of one user may overlap: a short empty one inside a long one). Vectorised:
    sessions and views are keyed by (user, time) as one float, user rank x span + time, and
    a view steps back over later-started sessions that do not hold it (a few at most).
    """
    result = np.full(len(v_user), -1, dtype=np.int64)
    if len(s_user) == 0 or len(v_user) == 0:
        return result
    ids, s_rank = np.unique(s_user, return_inverse=True)
    v_rank = np.minimum(np.searchsorted(ids, v_user), len(ids) - 1)
    base = min(float(s_start.min()), float(v_time.min()))
    span = max(float(s_end.max()), float(v_time.max())) - base + 1.0
    s_key = s_rank * span + (s_start - base)
    order = np.argsort(s_key, kind="stable")
    at = np.searchsorted(s_key[order], v_rank * span + (v_time - base), side="right") - 1
    todo = np.flatnonzero(ids[v_rank] == v_user)  # views of users with sessions
    at = at[todo]
    while len(todo):
        ok = at >= 0
        todo, at = todo[ok], at[ok]
        cand = order[at]
        same = s_rank[cand] == v_rank[todo]
        todo, at, cand = todo[same], at[same], cand[same]  # stepped back past the user's first session: none
        hit = v_time[todo] <= s_end[cand] + 1e-9
        result[todo[hit]] = cand[hit]
        todo, at = todo[~hit], at[~hit] - 1
    return result


def _user_day_keys(result: AgentRun) -> tuple[np.ndarray, np.ndarray]:
    """Each view's user and local day: the day its session started (its own time outside sessions)."""
    log, v = log_of(result), result.views
    s = log.sessions
    users = np.asarray(v["user"], dtype=np.int64)
    t = np.asarray(v["time_h"], dtype=np.float64)
    start = np.asarray(s["start_h"], np.float64)
    at = _session_of(np.asarray(s["user"], np.int64), start, np.asarray(s["end_h"], np.float64), users, t)
    began = np.where(at >= 0, np.append(start, np.nan)[at], t)
    return users, np.floor((began + _tz_of(log, users)) / 24.0).astype(np.int64)


def busiest_user(result: AgentRun, *, max_views: int = 80) -> tuple[int, int]:
    """A user and local day that make a good teaching example: ``(user, day)``.

    Among user-days with at most ``max_views`` views (a timeline stays readable), the one
    with views from the most sources, then with at least two kinds of action (liked,
    shared, ...; else one, else none), then the most views; ties go to the lowest user id,
    then the earliest day. Raises ValueError when the run
    has no views.
    """
    users, day = _user_day_keys(result)
    if len(users) == 0:
        raise ValueError("this run has no views")
    v = result.views
    d0 = int(day.min())
    width = int(day.max()) - d0 + 1
    keys, group = np.unique(users * width + (day - d0), return_inverse=True)
    views = np.bincount(group)

    def groups_with(mask: np.ndarray) -> np.ndarray:
        """1 for each user-day with at least one view in ``mask``."""
        return (np.bincount(group[mask], minlength=len(keys)) > 0).astype(np.int64)

    sources = np.sum([groups_with(np.asarray(v["source"]) == s) for s in range(len(SOURCES))], axis=0)
    kinds = np.sum([groups_with(np.asarray(v[a], dtype=bool)) for a in ACTIONS], axis=0)
    ok = views <= max_views
    if not ok.any():
        ok = views == views.min()
    # lexsort: last key first; keys ascending = lowest user, earliest day first among equals
    order = np.lexsort((keys, -views, -np.minimum(kinds, 2), -sources, ~ok))
    best = int(keys[order[0]])
    return best // width, best % width + d0


def user_day(result: AgentRun, user: int, day: int | None = None) -> UserDay:
    """The timeline of one user's local day, from the sessions log and the views log.

    Parameters
    ----------
    result
        An agent run (``RunResult`` with ``agents``): its ``views`` and ``agents`` logs.
    user
        The user id.
    day
        Local day number (0: the local date at hour 0 UTC); default the user's day with
        the most views.

    Returns
    -------
    UserDay
        Sessions that started that local day, and the views watched in them (a view outside
        every session of the user belongs to the day of its own local time).
    """
    import pandas as pd

    log = log_of(result)
    tz = float(_tz_of(log, np.array([user], dtype=np.int64))[0])
    s = log.sessions
    mine = np.flatnonzero(np.asarray(s["user"]) == user)
    mine = mine[np.argsort(np.asarray(s["start_h"])[mine], kind="stable")]
    start = np.asarray(s["start_h"], np.float64)[mine]
    end = np.asarray(s["end_h"], np.float64)[mine]
    v = result.views
    rows = np.flatnonzero(np.asarray(v["user"]) == user)
    t = np.asarray(v["time_h"], np.float64)[rows]
    session = _session_of(np.full(len(start), user, np.int64), start, end, np.full(len(t), user, np.int64), t)
    pad_start = np.append(start, np.nan)  # row -1: no session
    began = np.where(session >= 0, pad_start[session], t)  # a view's day is its session's day
    view_day = np.floor((began + tz) / 24.0)
    session_day = np.floor((start + tz) / 24.0)
    if day is None:
        if len(rows):
            days, counts = np.unique(view_day, return_counts=True)
            day = int(days[np.argmax(counts)])
        else:
            day = int(session_day[0]) if len(start) else 0
    midnight = 24.0 * day - tz  # the day's local midnight in UTC hours
    pick = view_day == day
    rows, session, t = rows[pick], session[pick], t[pick]

    videos = log.videos
    vrow = _lookup(np.asarray(videos["video"]), np.asarray(v["video"])[rows].astype(np.int64))
    if np.any(vrow < 0):
        raise ValueError(
            f"user {user} watched videos missing from the videos log: {np.unique(v['video'][rows][vrow < 0])}"
        )
    topics = list(log.topics)
    topic_code = np.asarray(videos["topic"])[vrow]
    source = np.asarray(v["source"])[rows]
    views = pd.DataFrame(
        {
            "time_h": t,
            "local_h": t - midnight,
            "session": session,
            "minute": np.where(session >= 0, (t - pad_start[np.maximum(session, 0)]) * 60.0, np.nan),
            "video": np.asarray(v["video"])[rows],
            "creator": np.asarray(videos["creator"])[vrow],
            "topic": pd.Categorical.from_codes(topic_code, categories=pd.Index(topics)),
            "appeal": np.asarray(videos["appeal"])[vrow],
            "source": pd.Categorical.from_codes(source, categories=pd.Index(SOURCES)),
            "watch_s": np.asarray(v["watch_s"])[rows],
            "completed": np.asarray(v["completed"])[rows],
            **{a: np.asarray(v[a])[rows] for a in ACTIONS},
        }
    )
    today = np.flatnonzero(session_day == day)
    sess = pd.DataFrame(
        {
            "session": today,
            "start_h": start[today],
            "end_h": end[today],
            "start_local_h": start[today] - midnight,
            "end_local_h": end[today] - midnight,
            "minutes": (end[today] - start[today]) * 60.0,
            "watched": np.asarray(s["watched"])[mine][today],
            "views": np.bincount(session[session >= 0], minlength=len(start))[today],
            **{
                name: np.bincount(session[(session >= 0) & (source == code)], minlength=len(start))[today]
                for code, name in enumerate(SOURCES)
            },
            **{
                a: np.bincount(session[(session >= 0) & views[a].to_numpy(bool)], minlength=len(start))[today]
                for a in ACTIONS
            },
            "ended": pd.Categorical.from_codes(np.asarray(s["ended"])[mine][today], categories=pd.Index(SESSION_END)),
        }
    )
    return UserDay(user=int(user), day=int(day), tz_h=tz, sessions=sess, views=views)


# -- comparing modes ------------------------------------------------------------------------------
def run_metrics(result: RunOrLog) -> dict[str, Any]:
    """The marketplace numbers of one run: concentration, correlations, sources, sessions, narrowing."""
    log = log_of(result)
    c = concentration(log)
    r = rank_correlations(log)
    v = log.videos
    total = max(c["views"], 1)
    sessions = log.sessions
    watched = np.asarray(sessions["watched"])
    narrowing = feed_narrowing(log)
    return {
        "mode": str(log.mode),
        "seed": getattr(result, "seed", None),
        **c,
        "rho_followers": r["followers"].rho,
        "p_followers": r["followers"].p,
        "rho_appeal": r["appeal"].rho,
        "p_appeal": r["appeal"].p,
        **{f"{s}_share": float(np.sum(v[f"views_{s}"])) / total for s in SOURCES},
        "sessions": len(watched),
        "views_per_session": float(watched.mean()) if len(watched) else math.nan,
        "entropy_change": narrowing.entropy_change,
        "top_share_change": narrowing.top_share_change,
    }


def _runs(results: RunOrLog | Sequence[RunOrLog]) -> list[RunOrLog]:
    return list(results) if isinstance(results, Sequence) else [results]


def runs_table(results_by_mode: Mapping[str, RunOrLog | Sequence[RunOrLog]]) -> pd.DataFrame:
    """One row per run: ``mode`` (the mapping's key), ``run`` and :func:`run_metrics` (a pandas DataFrame).

    ``results_by_mode`` maps a name to one run or a sequence of runs.
    """
    import pandas as pd

    rows = [
        {**run_metrics(r), "mode": mode, "run": i}
        for mode, results in results_by_mode.items()
        for i, r in enumerate(_runs(results))
    ]
    return pd.DataFrame(rows)


def compare_modes(results_by_mode: Mapping[str, RunOrLog | Sequence[RunOrLog]]) -> pd.DataFrame:
    """One row per mode (index: the mapping's keys, in order): the median of each run metric over its runs.

    ``results_by_mode`` maps a name (e.g. ``"content"``) to one run or a sequence of runs
    (seeds). Columns: ``runs`` and the numeric columns of :func:`run_metrics` (``gini``,
    ``rho_followers``, ``rho_appeal``, ``views``, ``for_you_share``, ...).
    """
    table = runs_table(results_by_mode)
    numeric = [c for c in table.columns if c not in {"mode", "run", "seed"}]
    out = table.groupby("mode", sort=False)[numeric].median()
    out.insert(0, "runs", table.groupby("mode", sort=False).size())
    return out.reindex(list(results_by_mode))
