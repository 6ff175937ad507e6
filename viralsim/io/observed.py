"""Observed analytics files (CSV) of one video: read with one line per problem, written atomically.

The format (``docs/inference.md``): lines starting with ``#`` are comments; the first
other line is the header; then one row per hour. Counts are *cumulative* since the upload.

========================  ========  ==========================================================
column                    required  meaning
========================  ========  ==========================================================
``hour``                  yes       hours since the upload (> 0, strictly increasing)
``views``                 yes       views so far (a whole number, never decreasing)
``views_for_you``         no        views so far from the For You push
``views_following``       no        views so far from the Following feed
``views_share``           no        views so far from shares
``likes``                 no        likes so far
``comments``              no        comments so far
``shares``                no        shares so far
``completions``           no        views watched to the end so far
========================  ========  ==========================================================

An optional column may be blank in a row (not known at that hour); a given value is a
whole number >= 0, never decreasing from one known row to the next and never above
``views`` of its row (nor the sources together). A problem is one line
``FILE:LINE: column: message`` (:class:`ObservedError` holds them all).
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from viralsim.inference.summary import COUNTS, Observed
from viralsim.views import SOURCES

__all__ = ["COLUMNS", "ObservedError", "check_horizon", "read_observed", "write_observed"]

#: Every column of an observed file, in the order it is written.
COLUMNS = ("hour", "views", *(f"views_{s}" for s in SOURCES), *COUNTS)
_MAX_PROBLEMS = 20


class ObservedError(ValueError):
    """An observed file that cannot be used: ``problems`` are its one-line messages."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_observed(path: str | Path) -> Observed:
    """The observed analytics in ``path`` (every problem found, as one line each, in :class:`ObservedError`)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ObservedError([f"{name}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ObservedError([f"{name}: cannot read: {getattr(err, 'strerror', None) or err}"]) from None
    rows = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip() and not line.startswith("#")]
    if not rows:
        raise ObservedError([f"{name}:1: hour: no header (expected columns {', '.join(COLUMNS)})"])
    head_line, head = rows[0]
    header = [c.strip() for c in next(csv.reader([head]))]
    problems = _header_problems(name, head_line, header)
    if problems:
        raise ObservedError(problems)
    if len(rows) == 1:
        raise ObservedError([f"{name}:{head_line}: hour: no rows after the header"])
    values: dict[str, list[float]] = {c: [] for c in header}
    lines: list[int] = []
    for line_no, line in rows[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        if len(cells) != len(header):
            problems.append(f"{name}:{line_no}: {header[0]}: {len(cells)} values, expected {len(header)} ({head})")
            continue
        lines.append(line_no)
        for col, cell in zip(header, cells, strict=True):
            values[col].append(_cell(name, line_no, col, cell, problems))
    if not problems:
        problems = _row_problems(name, lines, values)
    if problems:
        raise ObservedError(problems[:_MAX_PROBLEMS])
    arr = {c: np.asarray(v, dtype=np.float64) for c, v in values.items()}
    return Observed(
        hours=arr["hour"],
        views=arr["views"],
        sources={s: arr[f"views_{s}"] for s in SOURCES if f"views_{s}" in arr},
        counts={k: arr[k] for k in COUNTS if k in arr},
        name=name,
        lines=tuple(lines),
    )


def _header_problems(name: str, line: int, header: list[str]) -> list[str]:
    out = []
    for col in header:
        if col not in COLUMNS:
            out.append(f"{name}:{line}: {col or '(empty)'}: unknown column (columns: {', '.join(COLUMNS)})")
        elif header.count(col) > 1:
            out.append(f"{name}:{line}: {col}: column given twice")
    for col in ("hour", "views"):
        if col not in header:
            out.append(f"{name}:{line}: {col}: missing column (required: hour, views)")
    return list(dict.fromkeys(out))


def _cell(name: str, line: int, col: str, cell: str, problems: list[str]) -> float:
    if cell == "":
        if col in ("hour", "views"):
            problems.append(f"{name}:{line}: {col}: missing value (every row needs hour and views)")
        return math.nan
    try:
        x = float(cell.replace("_", ""))
    except ValueError:
        problems.append(f"{name}:{line}: {col}: not a number: {cell!r}")
        return math.nan
    if not math.isfinite(x):
        problems.append(f"{name}:{line}: {col}: must be a finite number, got {cell}")
    elif col == "hour":
        if x <= 0:
            problems.append(f"{name}:{line}: hour: must be > 0 (hours since the upload), got {cell}")
    elif x < 0 or x != round(x):
        problems.append(f"{name}:{line}: {col}: must be a whole number >= 0 (a cumulative count), got {cell}")
    return x


def _row_problems(name: str, lines: list[int], values: dict[str, list[float]]) -> list[str]:
    out = []
    hours, views = values["hour"], values["views"]
    for i in range(1, len(lines)):
        if hours[i] <= hours[i - 1]:
            out.append(f"{name}:{lines[i]}: hour: must increase, got {hours[i]:g} after {hours[i - 1]:g}")
    for col, vals in values.items():
        if col == "hour":
            continue
        prev: float | None = None
        for i, x in enumerate(vals):
            if math.isnan(x):
                continue
            if prev is not None and x < prev:
                out.append(f"{name}:{lines[i]}: {col}: cumulative counts never decrease, got {x:g} after {prev:g}")
            if col != "views" and x > views[i]:
                out.append(f"{name}:{lines[i]}: {col}: {x:g} is more than the row's views ({views[i]:g})")
            prev = x
    source_cols = [f"views_{s}" for s in SOURCES if f"views_{s}" in values]
    for i in range(len(lines)):
        given = [values[c][i] for c in source_cols if not math.isnan(values[c][i])]
        if len(given) > 1 and sum(given) > views[i]:
            out.append(f"{name}:{lines[i]}: views: the sources add up to {sum(given):g}, more than views {views[i]:g}")
    return out


def check_horizon(obs: Observed, horizon_h: float, upload_h: float, scenario: str) -> None:
    """Refuse hours a run of the scenario cannot reach (after its horizon): one line naming the row."""
    last = horizon_h - upload_h
    over = np.flatnonzero(np.asarray(obs.hours) > last + 1e-9)
    if over.size:
        i = int(over[0])
        line = obs.lines[i] if i < len(obs.lines) else i + 2
        raise ObservedError(
            [
                f"{obs.name}:{line}: hour: {obs.hours[i]:g} is after the end of a run of {scenario} "
                f"(horizon_h {horizon_h:g}, upload at {upload_h:g} h: at most {last:g} h after the upload)"
            ]
        )


def write_observed(obs: Observed, path: str | Path, provenance: dict[str, Any] | None = None) -> Path:
    """Write ``obs`` as an observed CSV (with a ``# provenance:`` first line); atomic: all or nothing."""
    path = Path(path)
    cols = ["hour", "views", *(f"views_{s}" for s in SOURCES if s in obs.sources), *obs.counts]
    data = {"hour": obs.hours, "views": obs.views, **{f"views_{s}": v for s, v in obs.sources.items()}, **obs.counts}
    fd, tmp = tempfile.mkstemp(prefix=".viralsim-", suffix=".csv", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            if provenance is not None:
                fh.write(f"# provenance: {json.dumps(provenance, sort_keys=True)}\n")
            fh.write(",".join(cols) + "\n")
            for i in range(len(obs.hours)):
                fh.write(",".join(_fmt(data[c][i], c) for c in cols) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _fmt(x: float, col: str) -> str:
    if math.isnan(x):
        return ""
    return f"{x:g}" if col == "hour" else str(int(x))
