"""One user's local day on the platform: their sessions and every video they watched, from an agent run.

:func:`user_day` builds the timeline of one user's local day from the sessions log
(:class:`~viralsim.records.AgentLog`) and the views log; :func:`busiest_user` picks a
user-day that makes a good teaching example. Times are hours since the start of the run
(Monday 00:00 UTC); a user's local time is ``time_h + tz_h``; watch times are seconds.
Pure functions (pandas is imported only when a table is made); no IO, no printing, no
matplotlib (the figure is :func:`viralsim.plots.marketplace.plot_user_day`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from viralsim.analysis.logs import ACTIONS, SESSION_END, log_of
from viralsim.views import SOURCES

__all__ = ["UserDay", "busiest_user", "user_day"]


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
    sessions: Any
    views: Any


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Row of each ``wanted`` value in ``keys`` (-1 where absent)."""
    if len(keys) == 0:
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    return np.where(keys[order][pos] == wanted, order[pos], -1)


def _tz_of(log: Any, users: np.ndarray) -> np.ndarray:
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


def _user_day_keys(result: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each view's user and local day: the day its session started (its own time outside sessions)."""
    log, v = log_of(result), result.views
    s = log.sessions
    users = np.asarray(v["user"], dtype=np.int64)
    t = np.asarray(v["time_h"], dtype=np.float64)
    start = np.asarray(s["start_h"], np.float64)
    at = _session_of(np.asarray(s["user"], np.int64), start, np.asarray(s["end_h"], np.float64), users, t)
    began = np.where(at >= 0, np.append(start, np.nan)[at], t)
    return users, np.floor((began + _tz_of(log, users)) / 24.0).astype(np.int64)


def busiest_user(result: Any, *, max_views: int = 80) -> tuple[int, int]:
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


def user_day(result: Any, user: int, day: int | None = None) -> UserDay:
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
