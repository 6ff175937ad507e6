"""What the agent engine records besides the views log: :class:`AgentLog`.

:class:`AgentLog` is what the agent engine records besides the views log:
plain columnar data (numpy arrays in dicts), the
``agents`` field of a :class:`~viralsim.result.RunResult` run with
``engine = "agents"``. The analysis layer (:mod:`viralsim.analysis`)
and the plots read these columns; keep their names and dtypes stable.

- ``videos``: one row per video (``video`` 0..V-1; V = 1 without a marketplace):
  ``video`` int32, ``creator`` int64 (user id, -1 for a creator outside the
  population), ``creator_followers`` int64 (at upload), ``topic`` int16 (index
  into ``topics``), ``appeal`` float32, ``upload_h`` float64, and int64 counts
  ``views``, ``unique_viewers``, ``likes``, ``comments``, ``shares``,
  ``follows``, ``completed``, ``views_for_you``, ``views_following``,
  ``views_share``; ``stages_reached`` int16.
- ``sessions``: one row per session: ``user`` int64, ``start_h`` and ``end_h``
  float64, ``watched`` int32, ``ended`` int8 (a code into :data:`SESSION_END`).
- ``users``: one row per user: ``user`` int64, ``sessions_per_day`` and ``tz_h``
  float32, ``followers`` int64 (at the horizon), ``top_share_start``,
  ``top_share_end``, ``entropy_start``, ``entropy_end`` float32 (the interest
  vector's largest share and its Shannon entropy in nats, at t = 0 and at the horizon).
- ``drift``: ``time_h`` (every ``agents.drift_interval_h``), ``mean_entropy``,
  ``mean_top_share`` float64.
- ``topics``: the population's topic names; ``mode``: the push mode.

No IO, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SESSION_END", "VIDEO_COLUMNS", "AgentLog"]


#: Why a session ended, by code: attention spent, bored, nothing new in the feed, the horizon came.
SESSION_END = ("budget", "bored", "feed_empty", "horizon")

#: Columns of ``AgentLog.videos`` and their dtypes.
VIDEO_COLUMNS = {
    "video": np.int32,
    "creator": np.int64,
    "creator_followers": np.int64,
    "topic": np.int16,
    "appeal": np.float32,
    "upload_h": np.float64,
    "views": np.int64,
    "unique_viewers": np.int64,
    "likes": np.int64,
    "comments": np.int64,
    "shares": np.int64,
    "follows": np.int64,
    "completed": np.int64,
    "views_for_you": np.int64,
    "views_following": np.int64,
    "views_share": np.int64,
    "stages_reached": np.int16,
}


@dataclass(frozen=True)
class AgentLog:
    """The agent engine's own tables (see the module docstring for every column)."""

    videos: dict[str, np.ndarray]
    sessions: dict[str, np.ndarray]
    users: dict[str, np.ndarray]
    drift: dict[str, np.ndarray]
    topics: list[str]
    mode: str
