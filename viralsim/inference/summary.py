"""Observed analytics of one video and the summary statistics that compare a run with them.

An :class:`Observed` holds what a creator's analytics show for one video: cumulative
views at hours since the upload, optionally the views by source (``for_you``,
``following``, ``share``) and cumulative likes, comments, shares and completions
(a blank is "not known at that hour"). ``viralsim.io.observed`` reads it from a CSV file.

The statistics (:func:`statistic_names`), the same for the observation and for a run:

- ``log_views@H`` — ``log(1 + cumulative views)`` at each observed hour ``H`` (the reach curve;
  the log makes a factor of two count the same at 300 views as at 300 000);
- ``source_share:S`` — the share of views from source ``S`` at the last hour where the
  sources are given;
- ``rate:K`` — ``K`` per view (likes, comments, shares, completions) at the last hour where
  ``K`` is given; a run gives its rate at the end of its horizon.

:func:`statistic_weights` makes the reach curve weigh as much as three other statistics
however many hours it has (its points move together), and every other statistic one.
The ABC distance (``viralsim.inference.abc``) also divides each statistic by its spread
over the simulations, so that a rate of 0.1 % and a log count of 12 are on one scale.
No IO, no printing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from viralsim.views import SOURCES

__all__ = [
    "COUNTS",
    "CURVE_WEIGHT",
    "Observed",
    "observed_statistics",
    "simulated_statistics",
    "statistic_names",
    "statistic_weights",
]

#: The per-view counts an observation may give, as named in the run summary.
COUNTS = ("likes", "comments", "shares", "completions")
#: How many plain statistics the whole reach curve weighs (its level, its timing, its shape).
CURVE_WEIGHT = 3.0


@dataclass(frozen=True)
class Observed:
    """One video's analytics: cumulative counts at hours since its upload.

    Attributes
    ----------
    hours
        Hours since the upload, strictly increasing, > 0.
    views
        Cumulative views at each hour (non-decreasing).
    sources
        Source name (of ``viralsim.views.SOURCES``) -> cumulative views from it; NaN where unknown.
    counts
        Count name (of :data:`COUNTS`) -> cumulative count; NaN where unknown.
    name
        Where it came from (a file name), for messages and provenance.
    lines
        The file line of each row (empty when not read from a file), for messages.
    """

    hours: np.ndarray
    views: np.ndarray
    sources: Mapping[str, np.ndarray] = field(default_factory=dict)
    counts: Mapping[str, np.ndarray] = field(default_factory=dict)
    name: str = "observed"
    lines: tuple[int, ...] = ()

    def source_row(self) -> int | None:
        """The last row where every given source is known (None: no sources given)."""
        if not self.sources:
            return None
        known = np.all([~np.isnan(v) for v in self.sources.values()], axis=0)
        rows = np.flatnonzero(known)
        return int(rows[-1]) if rows.size else None

    def count_row(self, name: str) -> int | None:
        """The last row where count ``name`` is known (None: never)."""
        values = self.counts.get(name)
        if values is None:
            return None
        rows = np.flatnonzero(~np.isnan(values))
        return int(rows[-1]) if rows.size else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready columns (NaN as None), for provenance."""

        def col(a: np.ndarray) -> list[float | None]:
            return [None if math.isnan(x) else float(x) for x in np.asarray(a, dtype=np.float64)]

        out: dict[str, Any] = {"name": self.name, "hour": col(self.hours), "views": col(self.views)}
        out.update({f"views_{k}": col(v) for k, v in self.sources.items()})
        out.update({k: col(v) for k, v in self.counts.items()})
        return out


def statistic_names(obs: Observed) -> list[str]:
    """The statistics ``obs`` supports, in a fixed order."""
    names = [f"log_views@{_hour(h)}" for h in obs.hours]
    if obs.source_row() is not None:
        names += [f"source_share:{s}" for s in SOURCES if s in obs.sources]
    names += [f"rate:{k}" for k in COUNTS if obs.count_row(k) is not None]
    return names


def statistic_weights(obs: Observed) -> dict[str, float]:
    """Each statistic's weight in the distance: the curve's points share :data:`CURVE_WEIGHT`, others 1."""
    names = statistic_names(obs)
    n = len(obs.hours)
    # p = 2: n points of weight sqrt(W / n) that move together add up like sqrt(W) statistics
    return {k: math.sqrt(CURVE_WEIGHT / n) if k.startswith("log_views@") else 1.0 for k in names}


def observed_statistics(obs: Observed) -> dict[str, float]:
    """The statistics of the observation itself."""
    out = {f"log_views@{_hour(h)}": math.log1p(v) for h, v in zip(obs.hours, obs.views, strict=True)}
    row = obs.source_row()
    if row is not None:
        total = float(obs.views[row])
        for s in SOURCES:
            if s in obs.sources:
                out[f"source_share:{s}"] = float(obs.sources[s][row]) / total if total > 0 else 0.0
    for k in COUNTS:
        r = obs.count_row(k)
        if r is not None:
            views = float(obs.views[r])
            out[f"rate:{k}"] = float(obs.counts[k][r]) / views if views > 0 else 0.0
    return out


def simulated_statistics(
    summary: Mapping[str, Any], curve: Mapping[str, Any], upload_h: float, obs: Observed
) -> dict[str, float]:
    """The statistics of one run, on the observation's hours.

    Parameters
    ----------
    summary
        The run's summary (``RunResult.summary``): its final ``views`` and counts.
    curve
        The run's reach curve (``RunResult.reach_curve``): cumulative views on a time grid,
        total and by source; read between grid points by linear interpolation.
    upload_h
        The scenario's ``video.upload_h``: the observation's hour 0.
    obs
        The observation (which statistics, at which hours).
    """
    grid = np.asarray(curve["time_h"], dtype=np.float64)
    at = upload_h + np.asarray(obs.hours, dtype=np.float64)
    total = np.interp(at, grid, np.asarray(curve["total"], dtype=np.float64))
    out = {f"log_views@{_hour(h)}": math.log1p(v) for h, v in zip(obs.hours, total, strict=True)}
    row = obs.source_row()
    if row is not None:
        for s in SOURCES:
            if s in obs.sources:
                part = float(np.interp(at[row], grid, np.asarray(curve[s], dtype=np.float64)))
                out[f"source_share:{s}"] = part / total[row] if total[row] > 0 else 0.0
    views = float(summary["views"])
    for k in COUNTS:
        if obs.count_row(k) is not None:
            out[f"rate:{k}"] = float(summary[k]) / views if views > 0 else 0.0
    return out


def _hour(h: float) -> str:
    """An hour as written in a statistic's name: ``12`` or ``12.5``."""
    return f"{float(h):g}"


def observed_from_run(result: Any, every_h: float = 1.0) -> Observed:
    """What the analytics of a simulated run would show: every count at ``every_h``, ``2 every_h``, ... hours.

    ``result`` is a ``RunResult`` with its views log (``record="full"``); the hours run from the
    upload to the end of the horizon. Counts are exact (read from the log, not the reach curve).
    """
    sc = result.scenario
    views = result.views_frame()
    t = views["time_h"].to_numpy(dtype=np.float64) - sc.video.upload_h
    last = sc.horizon_h - sc.video.upload_h
    hours = np.arange(1, int(math.floor(last / every_h)) + 1, dtype=np.float64) * every_h
    if hours.size == 0:
        raise ValueError(f"every_h {every_h} is longer than the time after the upload ({last:g} h)")

    def cumulative(mask: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.sort(t[mask]), hours, side="right").astype(np.float64)

    everything = np.ones(t.size, dtype=bool)
    source = views["source"].astype(str).to_numpy()
    sources = {s: cumulative(source == s) for s in SOURCES}
    flags = {"likes": "liked", "comments": "commented", "shares": "shared", "completions": "completed"}
    counts = {k: cumulative(views[col].to_numpy(dtype=bool)) for k, col in flags.items()}
    return Observed(hours, cumulative(everything), sources, counts, name=f"{sc.name} run {result.run}")
