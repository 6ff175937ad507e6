"""Shared pieces of the figures: pyplot on demand, colours, number formats, series, saving.

matplotlib is imported on first use with the Agg backend (no display needed);
nothing in the core imports this package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from viralsim.records.words import SOURCE_LABELS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

COLOURS = {"for_you": "#e4405f", "following": "#3b82f6", "share": "#10b981"}
LABELS = SOURCE_LABELS  # where a view came from, as a legend names it (the words the terminal and report use)
PALETTE = ("#111827", "#e4405f", "#3b82f6", "#10b981", "#f59e0b", "#8b5cf6", "#0891b2", "#a16207", "#db2777")
PASS_COLOUR, FAIL_COLOUR = "#16a34a", "#dc2626"
HOURS_LABEL = "hours after upload"
#: Line styles and markers of overlaid series: curves that coincide stay visible (each its own dash and marker).
LINESTYLES = ("-", "--", ":", "-.", (0, (10, 3)), (0, (3, 1.5, 1, 1.5, 1, 1.5)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
KPIS = ("completion", "watch_fraction", "like", "comment", "share", "follow", "profile_click", "score")
MAX_SERIES = 8  # more overlaid curves than this are unreadable: thin the grid points
TREE_LIMIT = 20_000  # nodes; above this a drawing is a blot and takes minutes


class _Figures:
    """The few pyplot calls the plots use, on figures pyplot does not manage.

    A figure made with ``matplotlib.figure.Figure`` is never shown by a notebook's inline
    backend behind the caller's back (only when the caller displays it), is never kept
    alive by pyplot's figure registry, and needs no backend at all (it draws with Agg
    when saved). So viralsim neither changes the user's backend nor leaks figures.
    """

    _FIGURE_KW = ("figsize", "dpi", "facecolor", "edgecolor", "constrained_layout", "layout", "linewidth")

    @classmethod
    def subplots(cls, *args: Any, **kwargs: Any) -> tuple[Figure, Any]:
        from matplotlib.figure import Figure

        fig = Figure(**{k: kwargs.pop(k) for k in cls._FIGURE_KW if k in kwargs})
        return fig, fig.subplots(*args, **kwargs)

    @staticmethod
    def Circle(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - pyplot's name
        from matplotlib.patches import Circle

        return Circle(*args, **kwargs)

    @staticmethod
    def get_cmap(name: str) -> Any:
        import matplotlib

        return matplotlib.colormaps[name]

    @staticmethod
    def close(fig: Figure) -> None:
        """Nothing to release: pyplot never saw the figure."""


def pyplot() -> type[_Figures]:
    """Figure factory with pyplot's names (``subplots``, ``Circle``, ``get_cmap``, ``close``); see :class:`_Figures`."""
    return _Figures


def fmt_thousands(x: float, _pos: Any = None) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.3g}M"
    if x >= 1e3:
        return f"{x / 1e3:.3g}k"
    if 0 < x < 1:
        return f"{x:g}"
    return f"{x:.0f}"


def count_axis(*axes: Any, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    for ax in axes:
        (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(fmt_thousands))


def fmt_pct(fraction: float) -> str:
    """A fraction as a percentage: 99.99 %, 0.0043 % (two significant digits below 1 %)."""
    p = 100 * fraction
    return f"{p:.2f} %" if p >= 1 or p == 0 else f"{p:.2g} %"


def fmt_num(x: float) -> str:
    """A short number for labels: 713.9k, 42, 0.35, 3.6e-05."""
    if not np.isfinite(x):
        return "–"
    if abs(x) >= 1e3:
        return fmt_thousands(x)
    if abs(x) >= 10:
        return f"{x:.0f}"
    return f"{x:.3g}"


def select_series(
    df: pd.DataFrame,
    variants: Sequence[str] | None,
    points: Sequence[int] | None,
    point_labels: Mapping[int, str] | None,
) -> tuple[list[tuple[str, int, str, Any]], str]:
    """The curves to overlay: (variant, point, label, colour) and a note when some were left out."""
    have = [str(v) for v in dict.fromkeys(df["variant"].astype(str))]
    if variants is not None:
        unknown = [v for v in variants if v not in have]
        if unknown:
            raise ValueError(f"unknown variant {', '.join(map(repr, unknown))}: this table has {', '.join(have)}")
        have = [v for v in have if v in variants]
    all_points = sorted(int(p) for p in dict.fromkeys(df["point"]))
    use = list(points) if points is not None else all_points
    note = ""
    if len(have) * len(use) > MAX_SERIES and len(use) > 1:
        per = max(2, MAX_SERIES // len(have))
        idx = np.unique(np.linspace(0, len(use) - 1, per).round().astype(int))
        note = f"{len(idx)} of {len(use)} grid points shown"
        use = [use[i] for i in idx]
    keys = [(v, p) for v in have for p in use]
    if len(have) == 1 and len(use) > 1:  # an ordered grid: a sequential colour map
        from matplotlib import colormaps

        cmap = colormaps["viridis"]
        colours: list[Any] = [cmap(0.9 * i / (len(use) - 1)) for i in range(len(use))]
    else:
        colours = [PALETTE[i % len(PALETTE)] for i in range(len(keys))]
    out = []
    for (v, p), c in zip(keys, colours, strict=True):
        plabel = (point_labels or {}).get(p, f"point {p}")
        label = v if len(all_points) == 1 else (plabel if len(have) == 1 else f"{v}, {plabel}")
        out.append((v, p, label, c))
    return out, note


def ensemble_title(scenario: str | None, variants: Sequence[str], runs: int | None, what: str) -> str:
    """An ensemble figure's title: scenario, the variants drawn and the run count, then what it shows."""
    head = scenario or "ensemble"
    names = ", ".join(variants)
    count = "" if runs is None else f" — {runs} runs" + (" per variant" if len(variants) > 1 else "")
    return f"{head} [{names}]{count}: {what}"


def wrap(title: str, width: int = 90) -> str:
    """A long title on several lines (a figure 8-9 inches wide holds about 90 characters at the title's size)."""
    import textwrap

    return "\n".join(textwrap.fill(line, width) for line in title.split("\n"))


def metric_label(metric: str, per_run: bool = True) -> str:
    """An axis label for a per-run metric from its field metadata (label and unit), not its column name."""
    from viralsim.records import Summary, metas

    meta = metas(Summary).get(metric)
    source = metric.removeprefix("views_")
    label = metric.replace("_", " ") if meta is None else meta.label
    if meta is None and source in LABELS:  # a views-by-source column
        label = f"views from {LABELS[source]}"
    unit = "" if meta is None else meta.unit
    text = (f"final {label} per run" if unit == "views" else f"{label} per run") if per_run else label
    if unit == "fraction":
        return f"{text} (fraction, 0–1)"
    if unit and unit != "views" and unit not in label.replace("(", " ").split():  # a count of views goes without
        text += f" ({unit})"
    return text


def param_label(dotted: str) -> str:
    """An axis label for a swept scenario field: the start of its description, then its dotted path."""
    from pydantic import BaseModel

    from viralsim.scenario import Scenario

    model: Any = Scenario
    info = None
    for part in dotted.split("."):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return dotted
        info = fields[part]
        nxt = [info.annotation]
        model = None
        while nxt:
            tp = nxt.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                model = tp
                break
            nxt.extend(getattr(tp, "__args__", ()))
    text = (info.description or "") if info is not None else ""
    cut = min((i for i in (text.find(c) for c in ("(", "[", ":", ";", ". ", ",")) if i > 0), default=len(text))
    short = text[:cut].strip().rstrip(".").removesuffix(" in").strip()
    if not short or len(short) > 72 or not short[0].isalpha():
        short = dotted.rsplit(".", 1)[-1].replace("_", " ")
    return f"{short[0].lower() + short[1:]} ({dotted})"


def series_styles(i: int) -> tuple[Any, str]:
    """The line style and marker of the ``i``-th overlaid series."""
    return LINESTYLES[i % len(LINESTYLES)], MARKERS[i % len(MARKERS)]


def pick_series(df: pd.DataFrame, variant: str, point: int) -> pd.DataFrame:
    return df[(df["variant"].astype(str) == variant) & (df["point"] == point)]


def check_numeric(runs: pd.DataFrame, column: str) -> None:
    import pandas as pd

    ok = [
        str(c)
        for c in runs.columns
        if pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c])
    ]
    if column not in ok:
        skip = {"point", "run", "seed"}
        raise ValueError(
            f"unknown metric {column!r}: choose a numeric column of runs: {', '.join(c for c in ok if c not in skip)}"
        )


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Save ``fig`` by extension (png, svg, pdf) atomically; close it.

    ``dpi`` sets the resolution of PNG files (dots per inch). Raises
    ValueError naming the path for any other extension.
    """
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    if ext not in {"png", "svg", "pdf"}:
        raise ValueError(f"{path}: unknown figure type {path.suffix!r} (use .png, .svg or .pdf)")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format=ext, dpi=dpi)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        pyplot().close(fig)
    return path
