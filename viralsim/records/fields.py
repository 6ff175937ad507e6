"""Fields that carry their own metadata, and records that read like read-only mappings.

A record's fields are declared with :func:`metric` (label, unit, display
format, missing-value rule, description, whether it is a per-run ensemble
column); :func:`metas` reads them back and :func:`format_value` formats a value
by them. :class:`Record` gives a frozen dataclass read-only mapping access in
field order (a field whose rule is ``"omit"`` is left out while it is ``None``)
and a JSON-ready ``to_dict()``. No IO, no printing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

__all__ = ["Meta", "Missing", "Record", "format_value", "markdown_keys", "metas", "metric"]

#: What a ``None`` means: ``"keep"`` it (JSON null), ``"nan"`` in ensemble tables, ``"omit"`` the key.
Missing = Literal["keep", "nan", "omit"]


@dataclass(frozen=True)
class Meta:
    """A record field's metadata (see :func:`metric`)."""

    label: str
    description: str
    unit: str = ""
    fmt: str = ",.4g"
    missing: Missing = "keep"
    column: bool = False
    column_after: str | None = None


def metric(
    *,
    label: str,
    description: str,
    unit: str = "",
    fmt: str = ",.4g",
    missing: Missing = "keep",
    column: bool = False,
    column_after: str | None = None,
    default: Any = dataclasses.MISSING,
) -> Any:
    """A dataclass field with its :class:`Meta`.

    Parameters
    ----------
    label, description
        How a table names it; one line saying what it is (the README's ``--json`` list).
    unit
        ``"views"``, ``"h"`` (hours), ``"fraction"`` (0-1, shown as a percentage), ...
    fmt
        Display format spec (``",.0f"``); ``"level"`` shows whole numbers without decimals, others with one.
    missing
        What ``None`` means (:data:`Missing`).
    column, column_after
        Whether it is a per-run ensemble column (a flat scalar); where in the column order
        (after that column) if not in field order.
    default
        The field's default (none: the field is required).
    """
    meta = Meta(label, description, unit, fmt, missing, column, column_after)
    return field(default=default, metadata={"viralsim": meta})


@cache
def metas(cls: type) -> Mapping[str, Meta]:
    """Field name -> :class:`Meta` of a record class, in field order (read-only)."""
    return MappingProxyType({f.name: f.metadata["viralsim"] for f in dataclasses.fields(cls)})


class Record(Mapping[str, Any]):
    """Read-only mapping access to a record dataclass's fields (``"omit"`` fields left out while ``None``)."""

    def __getitem__(self, key: str) -> Any:
        meta = metas(type(self)).get(key)
        if meta is None:
            raise KeyError(key)
        value = getattr(self, key)
        if value is None and meta.missing == "omit":
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        for name, meta in metas(type(self)).items():
            if meta.missing != "omit" or getattr(self, name) is not None:
                yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict, in field order: nested dicts copied, numpy scalars as Python ones."""
        return {k: _plain(v) for k, v in self.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.item() if isinstance(value, np.generic) else value


def format_value(meta: Meta, x: Any) -> str:
    """``x`` as a table shows it (``"–"`` for None or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if meta.fmt == "level":
        return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"
    if meta.unit == "fraction":
        return f"{100 * x:{meta.fmt}} %"
    return f"{x:{meta.fmt}}"


def markdown_keys(cls: type) -> str:
    """The README's list of a record's keys: one ``- `key` [unit]: description`` line each."""
    lines = []
    for name, meta in metas(cls).items():
        unit = f" [{meta.unit}]" if meta.unit else ""
        lines.append(f"- `{name}`{unit}: {meta.description}")
    return "\n".join(lines)
