"""How a run's codes read as words: stop reasons, sources of views and KPIs.

A run records codes (``stop_reason = "kpi_below_threshold:completion"``, the
sources ``for_you``, ``following``, ``share``, the KPI names); ``--json`` and the
saved tables keep them as they are. Everything a person reads — the terminal's
tables (``viralsim.console``), the figures (``viralsim.plots``), the HTML report
and the lab — takes its words from here, so that the same code reads the same
everywhere. Pure functions of strings: no IO, no formatting of numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "DAYS",
    "KPI_LABELS",
    "clock",
    "SOURCE_LABELS",
    "SOURCE_WORDS",
    "kpi_label",
    "list_in_words",
    "metric_words",
    "source_label",
    "stop_in_words",
]

#: Where a view came from, as a legend or a table names it (``views.SOURCES`` order).
SOURCE_LABELS: Mapping[str, str] = MappingProxyType(
    {"for_you": "For You (platform push)", "following": "Following feed", "share": "shares"}
)
#: The same, short, where the column or the sentence already says "views": ``views from For You``.
SOURCE_WORDS: Mapping[str, str] = MappingProxyType({"for_you": "For You", "following": "Following", "share": "shares"})

#: Short names of the KPIs in charts and tables.
KPI_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "completion": "completion rate",
        "watch_fraction": "mean watch fraction",
        "like": "like rate",
        "comment": "comment rate",
        "share": "share rate",
        "follow": "follow rate",
        "profile_click": "profile-click rate",
        "score": "composite score",
    }
)

#: Why a push stopped, in words (``stop_reason`` codes other than ``kpi_below_threshold:...``); ``{at}``
#: is `` (stage N)`` where the stage is known.
_STOPS: Mapping[str, str] = MappingProxyType(
    {
        "removed_by_moderation": "removed by moderation before any view",
        "no_push_social_mode": "no algorithmic push (social mode)",
        "population_exhausted": "every user has been reached{at}",
        "removed_at_stage_review": "removed by the human review{at}",
        "all_stages_passed": "every stage passed: the push ran out of cohorts",
        "horizon": "still going when the simulation ended",
    }
)


def list_in_words(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def kpi_label(kpi: str) -> str:
    """``"like"`` -> ``"like rate"``."""
    return KPI_LABELS.get(kpi, kpi.replace("_", " "))


def source_label(source: str, *, short: bool = False) -> str:
    """``"for_you"`` -> ``"For You (platform push)"`` (``short``: ``"For You"``); an unknown code unchanged."""
    return (SOURCE_WORDS if short else SOURCE_LABELS).get(source, source)


def metric_words(column: str) -> str | None:
    """The label of an ensemble column that is no :class:`~viralsim.records.Summary` field, or None.

    ``views_for_you`` -> ``"views from For You"`` (the per-source view counts of an ensemble's runs).
    """
    if column.startswith("views_") and column.removeprefix("views_") in SOURCE_WORDS:
        return f"views from {SOURCE_WORDS[column.removeprefix('views_')]}"
    return None


def stop_in_words(reason: str | None, stage: int | None = None) -> str:
    """``"kpi_below_threshold:completion"`` -> ``"the completion rate fell below its threshold (stage 7)"``.

    Parameters
    ----------
    reason : str or None
        A run's ``stop_reason`` code (None: no reason, shown as ``"–"``).
    stage : int, optional
        The stage the push stopped at (``stages_reached``), added as `` (stage N)`` where it tells something.

    Returns
    -------
    str
        A phrase without a final full stop; an unknown code with its underscores as spaces.
    """
    if reason is None:
        return "–"
    at = f" (stage {stage})" if stage else ""
    if reason.startswith("kpi_below_threshold:"):
        kpis = [kpi_label(k) for k in reason.split(":", 1)[1].split(",") if k]
        return f"the {list_in_words(kpis)} fell below {'its threshold' if len(kpis) == 1 else 'their thresholds'}{at}"
    words = _STOPS.get(reason)
    return reason.replace("_", " ") if words is None else words.format(at=at)


#: The simulation clock's days: t = 0 is Monday 00:00.
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def clock(t_h: float, short: bool = False) -> str:
    """Hours since Monday 00:00 UTC -> ``"Tuesday 18:00"`` (``short``: ``"Tue 18:00"``; later weeks wrap)."""
    minutes = int(round(t_h * 60))
    day, rest = divmod(minutes, 24 * 60)
    name = DAYS[day % 7][:3] if short else DAYS[day % 7]
    return f"{name} {rest // 60:02d}:{rest % 60:02d}"
