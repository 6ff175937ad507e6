"""Read a results folder back: one run, or an ensemble / compare / sweep.

The plots (``viralsim plot RESULTS_DIR``) draw from saved results without
rerunning, so this module tells what kind of folder it was given and hands out
its tables. Two layouts exist:

* **one run** (written by :func:`viralsim.io.outputs.write_run`): ``summary.json``
  and the tables ``views``, ``stages``, ``reach`` (Parquet);
* **many runs** (``viralsim run --runs N``, ``compare``, ``sweep``):
  ``manifest.json`` (``kind``, ``scenario``, ``variants``, ``params``, ``points``,
  ...), ``runs.parquet`` (one row per run: variant, point, swept parameters,
  run, seed and the flattened summary) and ``bands.parquet`` (quantiles over
  runs of cumulative views on a common time grid, long format).

Every problem is a :class:`ResultsError` whose one-line message names the path
and what is missing or wrong. Parquet footers and columns are checked when the
folder is opened; the data are read on first use (the views log of a big run
is large and only the spread tree needs it). Nothing here writes files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viralsim.scenario.root import BASE_NAME, LABEL_KEY

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MANY_KINDS", "Results", "ResultsError", "load_results"]

#: Kinds of many-run folders, as written in ``manifest.json``.
MANY_KINDS = ("ensemble", "compare", "sweep")

# Columns each table must have (others may be present and are kept).
_REQUIRED = {
    "views": ("time_h", "source", "parent"),
    "stages": ("stage", "cohort_size", "passed"),
    "reach": ("time_h", "total"),
    "runs": ("variant", "point", "run", "views", "stages_reached"),
    "bands": ("variant", "point", "source", "time_h", "q05", "q25", "q50", "q75", "q95", "mean"),
}
_RUN_TABLES = ("views", "stages", "reach")
_MANY_TABLES = ("runs", "bands")


class ResultsError(Exception):
    """A results folder cannot be read (the message names the path and the reason)."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ResultsError(f"{path}: cannot read: {err.strerror or err}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultsError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _check_parquet(path: Path, name: str) -> int:
    """Read the footer (cheap), check the required columns are there; the number of rows.

    A table with no rows and no columns is allowed: it is what an empty stage
    history (a run without a push) becomes.
    """
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        names = set(meta.schema.names)
    except OSError as err:
        raise ResultsError(f"{path}: cannot read: {err.strerror or err}") from None
    except Exception as err:  # pyarrow raises ArrowInvalid & co. for a damaged file
        raise ResultsError(f"{path}: not a readable Parquet file ({str(err).splitlines()[0]})") from None
    missing = [c for c in _REQUIRED[name] if c not in names]
    if missing and (names or meta.num_rows):
        raise ResultsError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    return int(meta.num_rows)


class Results:
    """A results folder opened by :func:`load_results`.

    Attributes
    ----------
    path
        The folder.
    kind
        ``"run"`` for one run, else ``"ensemble"``, ``"compare"`` or ``"sweep"``.
    meta
        ``summary.json`` of one run, or ``manifest.json`` of many runs.
    """

    def __init__(
        self, path: Path, kind: str, meta: dict[str, Any], files: dict[str, Path], rows: dict[str, int]
    ) -> None:
        self.path = path
        self.kind = kind
        self.meta = meta
        self._files = files
        self._rows = rows
        self._cache: dict[str, pd.DataFrame] = {}

    def __repr__(self) -> str:
        return f"Results({str(self.path)!r}, kind={self.kind!r}, tables={list(self.tables)})"

    @property
    def is_run(self) -> bool:
        """True for the folder of one run (views, stages, reach, summary.json)."""
        return self.kind == "run"

    @property
    def tables(self) -> tuple[str, ...]:
        """Names of the tables present in the folder."""
        return tuple(self._files)

    def has(self, name: str) -> bool:
        """Whether table ``name`` is present."""
        return name in self._files

    def rows(self, name: str) -> int:
        """Number of rows of table ``name`` (from the file's footer; 0 when absent)."""
        return self._rows.get(name, 0)

    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` as a pandas DataFrame (read on first use, then cached).

        Raises :class:`ResultsError` when the table is not in the folder or its
        data cannot be read.
        """
        if name not in self._files:
            have = ", ".join(self.tables) or "none"
            raise ResultsError(f"{self.path}: no {name}.parquet in this folder (tables: {have})")
        if name not in self._cache:
            import pandas as pd

            path = self._files[name]
            try:
                self._cache[name] = pd.read_parquet(path)
            except OSError as err:
                raise ResultsError(f"{path}: cannot read: {err.strerror or err}") from None
            except Exception as err:  # a damaged data page surfaces only here
                raise ResultsError(f"{path}: not a readable Parquet file ({str(err).splitlines()[0]})") from None
        return self._cache[name]

    # the tables by name (None when absent); reading one may raise ResultsError
    @property
    def views(self) -> pd.DataFrame | None:
        """The views log of one run (one row per view), or None."""
        return self.table("views") if self.has("views") else None

    @property
    def stages(self) -> pd.DataFrame | None:
        """The stage history of one run (one row per evaluated stage), or None."""
        return self.table("stages") if self.has("stages") else None

    @property
    def reach(self) -> pd.DataFrame | None:
        """The reach curve of one run (time_h, total, one column per source), or None."""
        return self.table("reach") if self.has("reach") else None

    @property
    def runs(self) -> pd.DataFrame | None:
        """One row per run of an ensemble / compare / sweep, or None."""
        return self.table("runs") if self.has("runs") else None

    @property
    def bands(self) -> pd.DataFrame | None:
        """Quantile bands of cumulative views over runs (long format), or None."""
        return self.table("bands") if self.has("bands") else None

    @property
    def scenario(self) -> str:
        """Name of the scenario that ran."""
        return str(self.meta.get("scenario") or "?")

    @property
    def variants(self) -> list[str]:
        """Variant names (``"base"`` for the base scenario)."""
        if self.is_run:
            return [str(self.meta.get("variant") or "base")]
        return [str(v) for v in self.meta.get("variants") or []]

    @property
    def labels(self) -> dict[str, str]:
        """Variant -> display name (``base_label``, a variant's ``label``), from the scenario in the provenance.

        The names ``compare`` shows (``Scenario.variant_label``); a folder without the scenario
        (or written before display names existed) names every variant by its key.
        """
        provenance = self.meta.get("provenance")
        sc = provenance.get("scenario") if isinstance(provenance, dict) else None
        sc = sc if isinstance(sc, dict) else {}
        found = sc.get("variants")
        tables: dict[str, Any] = found if isinstance(found, dict) else {}
        out = {}
        for v in self.variants:
            if v == BASE_NAME and v not in tables:
                label = sc.get("base_label")
            else:
                table = tables.get(v)
                label = table.get(LABEL_KEY) if isinstance(table, dict) else None
            out[v] = label if isinstance(label, str) and label else v
        return out

    @property
    def params(self) -> list[str]:
        """Dotted names of the swept parameters ([] unless a sweep)."""
        return [] if self.is_run else [str(p) for p in self.meta.get("params") or []]


def load_results(path: str | Path) -> Results:
    """Open a results folder and tell what it holds.

    Parameters
    ----------
    path
        A folder written by ``viralsim run --out`` (one run: ``summary.json``
        with ``views``/``stages``/``reach`` tables) or by ``viralsim run --runs N``,
        ``compare`` or ``sweep`` (``manifest.json``, ``runs.parquet``, optionally
        ``bands.parquet``).

    Returns
    -------
    Results
        ``kind`` is ``"run"``, ``"ensemble"``, ``"compare"`` or ``"sweep"``;
        tables are read on first use.

    Raises
    ------
    ResultsError
        One line naming the path: the folder does not exist, holds no results,
        a JSON or Parquet file is damaged, or a required file or column is missing.
    """
    root = Path(path)
    if not root.exists():
        raise ResultsError(f"{root}: no such folder")
    if not root.is_dir():
        raise ResultsError(f"{root}: not a folder (give the folder written by viralsim run/compare/sweep --out)")
    manifest, summary = root / "manifest.json", root / "summary.json"
    if manifest.is_file():
        meta = _read_json(manifest)
        kind = meta.get("kind")
        if kind not in MANY_KINDS:
            raise ResultsError(f"{manifest}: kind must be one of {', '.join(MANY_KINDS)}, got {kind!r}")
        names: tuple[str, ...] = _MANY_TABLES
        if not (root / "runs.parquet").is_file():
            raise ResultsError(f"{root}: missing runs.parquet (the per-run table of this {kind})")
    elif summary.is_file():
        meta, kind, names = _read_json(summary), "run", _RUN_TABLES
    else:
        raise ResultsError(
            f"{root}: no results here (expected summary.json of one run or manifest.json of an ensemble/compare/sweep)"
        )
    files, rows = {}, {}
    for name in names:
        f = root / f"{name}.parquet"
        if f.is_file():
            rows[name] = _check_parquet(f, name)
            files[name] = f
    if not files:
        raise ResultsError(f"{root}: no result tables ({', '.join(n + '.parquet' for n in names)} all missing)")
    return Results(root, str(kind), meta, files, rows)
