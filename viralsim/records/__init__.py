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

:class:`AgentLog` (:mod:`viralsim.records.agents`) is what the agent engine records besides
the views log: its columns are described there.

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
