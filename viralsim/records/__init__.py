"""Typed records a run returns: its :class:`Summary`, its :class:`StageRecord` s and the agent engine's log.

:class:`Summary` (the run's summary metrics) and :class:`StageRecord` (one
evaluated push stage) are frozen dataclasses whose fields carry their own
metadata (:class:`Meta`: label, unit, display format, missing-value rule,
description, whether it is a per-run ensemble column). Everything that lists
summary keys is generated from it: the ensemble's per-run columns
(:func:`summary_columns`, :func:`nan_when_none`), the console's labels and
formats (:func:`format_value`) and the README's ``--json`` key list
(:func:`markdown_keys`). Both records are read-only mappings too
(``summary["views"]``, ``.get``, ``.items()``, ``dict(summary)``), iterating in
field order; a field whose rule is ``"omit"`` is left out while it is ``None``
(an engine's extras, a stage row's ``video`` outside a marketplace).
``to_dict()`` is the JSON-ready form.

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

No IO, no printing, no engine knowledge: an engine fills the records once, nothing edits them.
"""

from viralsim.records.agents import SESSION_END, VIDEO_COLUMNS, AgentLog
from viralsim.records.fields import Meta, format_value, markdown_keys, metas, metric
from viralsim.records.run import StageRecord, Summary, nan_when_none, numeric_columns, summary_columns

__all__ = [
    "SESSION_END",
    "VIDEO_COLUMNS",
    "AgentLog",
    "Meta",
    "StageRecord",
    "Summary",
    "format_value",
    "markdown_keys",
    "metas",
    "metric",
    "nan_when_none",
    "numeric_columns",
    "summary_columns",
]
